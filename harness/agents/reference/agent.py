"""ReferenceAgent: dispatches to the strategy registered for the brief's task family."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.agents.profile import AgentProfile
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.toolkit import make_toolkit
from harness.agents.registry import agent
from harness.core.models import Brief
from harness.core.rng import RngStreams
from harness.runtime.port import AgentRun, GiveUp, ToolSpec

Strategy = Callable[..., AgentRun]
STRATEGIES: dict[str, Strategy] = {}


def strategy(family: str) -> Callable[[Strategy], Strategy]:
    def register(fn: Strategy) -> Strategy:
        STRATEGIES[family] = fn
        return fn

    return register


class ReferenceAgent:
    def __init__(self, profile: AgentProfile):
        self.profile = profile

    def run(self, brief: Brief, tools: list[ToolSpec], rng: RngStreams) -> AgentRun:
        errors = ErrorProcesses(self.profile, rng)
        kit = make_toolkit(tools, errors)
        fn = STRATEGIES.get(brief.family)
        if fn is None or kit is None:
            why = "no strategy for this task" if fn is None else "no usable tools"
            yield GiveUp(reason=why)
            return
        yield from fn(brief, kit, errors)


@agent("reference")
def _make_reference(config: dict[str, Any]) -> ReferenceAgent:
    return ReferenceAgent(AgentProfile(**dict(config.get("profile") or {})))


# strategies register on import
from harness.agents.reference import rename as _rename  # noqa: E402, F401
