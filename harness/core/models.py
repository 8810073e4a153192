"""Small models shared across packages that may not import each other.

``Brief`` is what the agent is told (workload builds it, the runtime hands it over).
``EpisodeRecord`` and ``ActionRecord`` are rows of the results store (experiment builds
them, store writes them, analysis reads them).
"""

from __future__ import annotations

import typing
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Brief(Frozen):
    """The public part of a task: the instructions and what a reader of them would know."""

    task_id: str
    category: str
    family: str  # the kind of task ("code_modification/rename_symbol"): obvious from the text
    instructions: str
    session: int = 0
    sessions: int = 1
    public: dict[str, Any] = Field(default_factory=dict)
    # The task's stated policy (controlled English, harness.runtime.security.policy): what
    # the capabilities layer compiles and an approver reads; public, like the instructions.
    policy: tuple[str, ...] = ()
    # The task's deadline in simulated minutes from the start (its time budget, stated in
    # the instructions); None when the task states none.
    deadline_minutes: float | None = None
    # What this session of a multi-session task says beyond the task's instructions ("" for
    # a one-session task): what a memory that keeps the briefing by itself keeps.
    told: str = ""
    # What the agent was told in earlier sessions of this task and still has because the
    # execution layer carried its state across the session boundary (empty otherwise).
    carried: tuple[str, ...] = ()


# How an episode ended (the ``termination`` column), in the order reports list them.
Termination = Literal[
    "submitted",
    "action_budget",
    "time_budget",
    "approval_timeout",  # the deadline passed while a request waited for approval, or because of the waits
    "gave_up",
    "crash_not_recovered",
    "budget_cap",  # a model agent's run-wide token or cost cap ended it
    "agent_error",  # the agent's own code raised: left out of every rate
    "harness_error",  # the harness broke: left out of every rate
]
TERMINATIONS: tuple[str, ...] = typing.get_args(Termination)
# Episodes that measured nothing about the task: stored with their traceback, counted in
# the report, never counted as failures (DESIGN §5, invariant 8).
ERROR_TERMINATIONS = frozenset({"agent_error", "harness_error"})


class EpisodeRecord(Frozen):
    """One row of ``episodes``. Every field is deterministic except those named ``wall_*``."""

    run_id: str
    condition: str
    task_id: str
    repeat: int
    category: str
    family: str
    difficulty: int
    seed: int
    success: bool
    termination: Termination
    check_detail: str  # JSON list of {checker, passed, reason}
    actions: int
    tool_calls: int
    tool_calls_ok: int
    tool_calls_rejected: int
    tool_calls_accurate: int = 0  # ok and, if it wrote, changed something not later undone
    sim_minutes: float
    crashes: int = 0
    recoveries: int = 0
    checkpoints: int = 0
    transient_failures: int = 0
    budget_extensions: int = 0
    downtime_minutes: float = 0.0  # crash to the agent acting again (detection + restart)
    retention_asked: int = 0  # probes at later session starts about facts told earlier
    retention_correct: int = 0
    diagnosis_minutes: float | None = None  # incident tasks: submit time of a correct diagnosis
    approvals: int = 0
    approval_wait_minutes: float = 0.0
    unsafe_attempted: int = 0
    unsafe_blocked: int = 0
    unsafe_applied: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    world_digest: str
    error: str | None = None  # one line: the exception's type and message
    wall_seconds: float = 0.0
    traceback: str | None = None  # the first traceback of an agent or harness error


class ActionRecord(Frozen):
    """One row of ``actions``: a step of an episode, with its causal parent."""

    run_id: str
    condition: str
    task_id: str
    repeat: int
    seq: int
    parent: int | None
    tool: str
    ok: bool
    accurate: bool = False
    sim_minutes: float
    wall_latency_ms: float = 0.0
    # The transcript (schema 5; NULL in rows of older stores). Last, so a store migrated by
    # ALTER TABLE ... ADD COLUMN has the same column order as a new one.
    session: int = 0  # the work session (brief) the action was taken in
    args: str | None = None  # the call's arguments, canonical JSON
    observation: str | None = None  # what the agent received; None if it never did (a crash)


class EstimateRecord(Frozen):
    """One row of ``estimates``: a statistic of a stored run with its interval, as
    ``harness report`` computed it, so notebooks and the paper read numbers rather than
    recompute them. ``conditions`` names the condition(s) it is about ("A" or "A|B")."""

    run_id: str
    analysis: str  # completion, gap, decomposition, pass_k, ...
    statistic: str
    conditions: str
    category: str
    estimate: float
    low: float
    high: float
    method: str  # bca | percentile | percentile (bca degenerate) | ...
    se: float  # bootstrap standard error
    tasks: int
    resamples: int
    seed: int
    se_clt: float | None = None  # clustered CLT standard error, where one applies
    p_value: float | None = None
    p_holm: float | None = None  # Holm-adjusted across the categories of one analysis
    mde: float | None = None  # minimum detectable effect at 80% power for this design
