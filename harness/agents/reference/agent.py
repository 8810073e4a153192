"""ReferenceAgent: dispatches to the strategy registered for the brief's task family."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.agents.profile import AgentProfile
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Toolkit
from harness.agents.reference.toolkit_shell import ShellToolkit
from harness.agents.reference.toolkit_typed import TypedToolkit
from harness.agents.registry import AGENTS
from harness.agents.scope import EpisodeScope
from harness.core.models import Brief
from harness.core.rng import AgentStreams
from harness.runtime.port import AgentRun, GiveUp, ToolSpec


class ReferenceOptions(BaseModel):
    """``agent.*`` for ``agent=reference`` (configs/agent/reference.yaml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "reference"
    profile: AgentProfile = Field(default_factory=AgentProfile)

    @field_validator("profile", mode="before")
    @classmethod
    def _no_profile_is_the_default(cls, value: Any) -> Any:
        return {} if value is None else value


def make_toolkit(tools: list[ToolSpec], errors: ErrorProcesses) -> Toolkit | None:
    """The toolkit for the tools given, chosen by looking at the tool list (never at a
    condition); None when neither kind of tool is there."""
    names = {t.name for t in tools}
    if {"search", "read_file", "write_file", "run_tests"} <= names:
        return TypedToolkit(errors, names)
    if "shell" in names:
        return ShellToolkit(errors)
    return None


class ReferenceAgent:
    def __init__(self, profile: AgentProfile):
        self.profile = profile

    def run(self, brief: Brief, tools: list[ToolSpec], rng: AgentStreams) -> AgentRun:
        errors = ErrorProcesses(self.profile, rng)
        kit = make_toolkit(tools, errors)
        known = brief.family in STRATEGIES
        if not known or kit is None:
            why = "no strategy for this task" if not known else "no usable tools"
            yield GiveUp(reason=why)
            return
        yield from STRATEGIES.entry(brief.family).factory(brief, kit, errors)

    def answer_probe(self, question: str, brief: Brief, recall: Callable[[str, int], list[str]]) -> str:
        """All it has of earlier sessions: what its carried state holds, else what its
        memory returns for the question (the same two sources its strategies use)."""
        return "\n".join([*brief.carried, *recall(question, 5)])


@AGENTS.register("reference", options=ReferenceOptions, trusted_code=True)
def _make_reference(options: ReferenceOptions, *, scope: EpisodeScope) -> ReferenceAgent:
    return ReferenceAgent(options.profile)  # calls no model: the scope is not its business
