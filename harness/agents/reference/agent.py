"""ReferenceAgent: dispatches to the strategy registered for the brief's task family."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.agents.profile import AgentProfile
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.toolkit import make_toolkit
from harness.agents.registry import agent
from harness.core.models import Brief
from harness.core.rng import AgentStreams
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

    def run(self, brief: Brief, tools: list[ToolSpec], rng: AgentStreams) -> AgentRun:
        errors = ErrorProcesses(self.profile, rng)
        kit = make_toolkit(tools, errors)
        fn = STRATEGIES.get(brief.family)
        if fn is None or kit is None:
            why = "no strategy for this task" if fn is None else "no usable tools"
            yield GiveUp(reason=why)
            return
        yield from fn(brief, kit, errors)

    def answer_probe(self, question: str, brief: Brief, recall: Callable[[str, int], list[str]]) -> str:
        """All it has of earlier sessions: what its carried state holds, else what its
        memory returns for the question (the same two sources its strategies use)."""
        return "\n".join([*brief.carried, *recall(question, 5)])


@agent("reference", trusted_code=True)
def _make_reference(config: dict[str, Any]) -> ReferenceAgent:
    return ReferenceAgent(AgentProfile(**dict(config.get("profile") or {})))


# strategies register on import
from harness.agents.reference import codemod_add_parameter as _codemod_add_parameter  # noqa: E402, F401
from harness.agents.reference import codemod_bulk_migration as _codemod_bulk_migration  # noqa: E402, F401
from harness.agents.reference import codemod_dependency_upgrade as _codemod_dependency_upgrade  # noqa: E402, F401
from harness.agents.reference import codemod_extract_helper as _codemod_extract_helper  # noqa: E402, F401
from harness.agents.reference import codemod_fix_bug as _codemod_fix_bug  # noqa: E402, F401
from harness.agents.reference import codemod_follow_convention as _codemod_follow_convention  # noqa: E402, F401
from harness.agents.reference import data_aggregate as _data_aggregate  # noqa: E402, F401
from harness.agents.reference import data_anomaly as _data_anomaly  # noqa: E402, F401
from harness.agents.reference import data_cleaning as _data_cleaning  # noqa: E402, F401
from harness.agents.reference import data_join as _data_join  # noqa: E402, F401
from harness.agents.reference import data_metric_sessions as _data_metric_sessions  # noqa: E402, F401
from harness.agents.reference import doc_extract as _doc_extract  # noqa: E402, F401
from harness.agents.reference import doc_policy as _doc_policy  # noqa: E402, F401
from harness.agents.reference import rename as _rename  # noqa: E402, F401
from harness.agents.reference import review_bug as _review_bug  # noqa: E402, F401
from harness.agents.reference import review_convention as _review_convention  # noqa: E402, F401
from harness.agents.reference import review_regression as _review_regression  # noqa: E402, F401
from harness.agents.reference import review_security as _review_security  # noqa: E402, F401
from harness.agents.reference import review_untested as _review_untested  # noqa: E402, F401
from harness.agents.reference import sysadmin_change_regression as _sysadmin_change_regression  # noqa: E402, F401
from harness.agents.reference import sysadmin_config_fix as _sysadmin_config_fix  # noqa: E402, F401
from harness.agents.reference import sysadmin_credential_rotation as _sysadmin_credential_rotation  # noqa: E402, F401
from harness.agents.reference import sysadmin_disk_cleanup as _sysadmin_disk_cleanup  # noqa: E402, F401
from harness.agents.reference import sysadmin_incident as _sysadmin_incident  # noqa: E402, F401
from harness.agents.reference import sysadmin_staged_rollout as _sysadmin_staged_rollout  # noqa: E402, F401
