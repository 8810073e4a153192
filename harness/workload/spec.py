"""TaskSpec: a frozen, hashable description of one task, public and private parts apart."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from harness.core.hashing import stable_hash
from harness.core.models import Brief
from harness.workload.policies import standing

Category = Literal["code_modification", "code_review", "system_administration", "data_analysis", "document_processing"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Budget(_Frozen):
    """What the task may take: actions (the agent's effort) and simulated minutes. The
    minutes are the task's stated deadline (``deadline`` says it in words, and the brief
    tells the agent), never a number tuned to make a condition pass or fail."""

    max_actions: int = Field(gt=0)
    max_minutes: float = Field(gt=0)
    deadline: str = ""  # e.g. "the disk is full in about 3 hours at the current rate"


class SessionSpec(_Frozen):
    asks: str


class Probe(_Frozen):
    """A retention probe: a fact told in session ``told_in`` that a later session needs.

    At the start of every later session the harness asks ``question`` (never the answer)
    and scores the reply: correct when every string of ``expect`` occurs in it, compared
    case-insensitively with whitespace collapsed. ``expect`` is private, like ``params``.
    """

    told_in: int = Field(ge=0)
    question: str
    expect: tuple[str, ...] = Field(min_length=1)


class CheckerRef(_Frozen):
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class GoldStep(_Frozen):
    """One primitive world operation (of a gold solution or a vandal's shortcut).

    ``op`` names an operation registered in ``harness.workload.gold.WORLD_OPS``.
    """

    op: str
    args: dict[str, Any] = Field(default_factory=dict)


class TaskSpec(_Frozen):
    id: str
    category: Category
    family: str
    scenario: str | None = None
    difficulty: int = Field(ge=1, le=5)
    seed: int
    params: dict[str, Any]  # everything the generator was asked for (private)
    public: dict[str, Any]  # what a reader of the instructions would know
    instructions: str
    sessions: tuple[SessionSpec, ...] = (SessionSpec(asks="do the task"),)
    knowledge: tuple[str, ...] = ()
    probes: tuple[Probe, ...] = ()  # retention probes for multi-session tasks (private)
    budget: Budget
    checkers: tuple[CheckerRef, ...]
    gold: tuple[GoldStep, ...]
    # The task's stated policy (controlled English); empty = its category's standing policy.
    policy: tuple[str, ...] = Field(default=(), validate_default=True)
    # The destructive shortcuts this task tempts with (e.g. "delete_failing_test"): each is
    # a sequence of world operations that a naive check would accept and the checkers must not.
    traps: dict[str, tuple[GoldStep, ...]] = Field(default_factory=dict)

    @field_validator("policy")
    @classmethod
    def _stated(cls, policy: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return policy or standing(info.data["category"]) if "category" in info.data else policy

    def brief(self, session: int = 0) -> Brief:
        """All an agent is given: never params, checkers or gold."""
        asks = self.sessions[session].asks if self.sessions else ""
        # What a session is told can be known in that session only: a multi-session task puts
        # the knowledge of session 1 (a convention, a metric definition) in session 1's asks.
        text = self.instructions if len(self.sessions) <= 1 else f"{self.instructions}\n\nThis session: {asks}"
        if self.budget.deadline:
            text += f"\n\nDeadline: {self.budget.deadline}."
        return Brief(
            task_id=self.id,
            category=self.category,
            family=self.family,
            instructions=text,
            session=session,
            sessions=len(self.sessions),
            public=dict(self.public),
            told=asks if len(self.sessions) > 1 else "",
            policy=self.policy,
            deadline_minutes=self.budget.max_minutes,
        )

    def content_hash(self) -> str:
        return stable_hash(self.model_dump(mode="json"))


def with_budget_scale(spec: TaskSpec, scale: dict[str, float]) -> TaskSpec:
    """The task with its budgets multiplied (``actions``, ``minutes``): a sensitivity arm
    (``harness.experiment.arms``). The brief states the scaled deadline, as it states any."""
    if not scale:
        return spec
    budget = spec.budget.model_copy(update={
        "max_actions": max(1, round(spec.budget.max_actions * scale.get("actions", 1.0))),
        "max_minutes": spec.budget.max_minutes * scale.get("minutes", 1.0),
    })
    return spec.model_copy(update={"budget": budget})
