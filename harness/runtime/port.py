"""The agent port: everything an agent may see and do.

An agent is a generator: it yields ``Action``s and receives ``Observation``s. The episode
loop executes each action through the runtime's layers, enforces budgets and sends back
what the layers return. Because a strategy is deterministic given its brief, its
observations and its RNG streams, durable execution can rebuild an agent after a crash
by replaying the recorded observations into a fresh generator (event sourcing), with no
pickled live objects.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from harness.core.models import Brief
from harness.core.rng import AgentStreams


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ToolAnnotations(_Frozen):
    """MCP-style hints about a tool's effect."""

    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False


class ToolSpec(_Frozen):
    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema of the arguments
    annotations: ToolAnnotations = ToolAnnotations()


class ToolError(_Frozen):
    """A structured error an agent can act on (typed layers only)."""

    code: str  # invalid_arguments, precondition_failed, not_found, postcondition_failed, ...
    message: str
    field: str | None = None


class Observation(_Frozen):
    """What one action returns. Structured layers fill ``data``; human ones fill ``text``."""

    tool: str
    ok: bool
    data: dict[str, Any] | None = None
    text: str | None = None
    error: ToolError | None = None
    applied: bool = True  # False when the call was rejected before touching the world
    minutes: float = 0.0  # simulated minutes the call took, as the layer charged them

    @property
    def structured(self) -> bool:
        return self.data is not None or self.error is not None


# -- actions ------------------------------------------------------------------------------
class Call(_Frozen):
    kind: Literal["call"] = "call"
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class Think(_Frozen):
    """A reasoning-trace record (P7): state, step, evidence, confidence, alternatives."""

    kind: Literal["think"] = "think"
    step: str
    evidence: tuple[str, ...] = ()
    confidence: float = 1.0
    rejected: tuple[str, ...] = ()


class History(_Frozen):
    """A question about the agent's own past actions (what last changed this file, which
    call failed); the answer depends on the observability layer, and it costs a turn."""

    kind: Literal["history"] = "history"
    query: dict[str, Any] | str


class Telemetry(_Frozen):
    """A look at the world's telemetry for one service over simulated minutes [since, until]:
    correlated metrics, logs and traces (causal observability) or a log tail (text logs)."""

    kind: Literal["telemetry"] = "telemetry"
    service: str
    since: int = 0
    until: int = 10_000


class Remember(_Frozen):
    """Ask the memory layer to keep something (a convention, a file map, a definition)."""

    kind: Literal["remember"] = "remember"
    key: str
    text: str
    meta: dict[str, Any] = Field(default_factory=dict)


class Recall(_Frozen):
    """Ask the memory layer what it holds about ``query``; what survives depends on the layer."""

    kind: Literal["recall"] = "recall"
    query: str
    k: int = 5


class Submit(_Frozen):
    kind: Literal["submit"] = "submit"
    answer: dict[str, Any] = Field(default_factory=dict)


class GiveUp(_Frozen):
    kind: Literal["give_up"] = "give_up"
    reason: str


Action = Call | History | Telemetry | Remember | Recall | Think | Submit | GiveUp
AgentRun = Generator[Action, Observation | None, None]


class Agent(Protocol):
    """A strategy. ``rng`` holds the agent's named error-process streams."""

    def run(self, brief: Brief, tools: list[ToolSpec], rng: AgentStreams) -> AgentRun: ...


class ProbeAnswerer(Protocol):
    """Optional: an agent that can be asked what it still knows from earlier sessions.

    ``recall(query, k)`` reads the memory layer without changing it. The reply is scored
    against facts the task told earlier (cross-session retention); it never affects the
    episode. Agents without this method are simply not probed.
    """

    def answer_probe(self, question: str, brief: Brief, recall: Callable[[str, int], list[str]]) -> str: ...
