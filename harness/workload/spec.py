"""TaskSpec: a frozen, hashable description of one task, public and private parts apart."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.core.hashing import stable_hash
from harness.core.models import Brief

Category = Literal["code_modification", "code_review", "system_administration", "data_analysis", "document_processing"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Budget(_Frozen):
    max_actions: int = Field(gt=0)
    max_minutes: float = Field(gt=0)


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

    ``op`` names an operation registered with ``harness.workload.gold.world_op``.
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
    # The destructive shortcuts this task tempts with (e.g. "delete_failing_test"): each is
    # a sequence of world operations that a naive check would accept and the checkers must not.
    traps: dict[str, tuple[GoldStep, ...]] = Field(default_factory=dict)

    def brief(self, session: int = 0) -> Brief:
        """All an agent is given: never params, checkers or gold."""
        asks = self.sessions[session].asks if self.sessions else ""
        # What a session is told can be known in that session only: a multi-session task puts
        # the knowledge of session 1 (a convention, a metric definition) in session 1's asks.
        text = self.instructions if len(self.sessions) <= 1 else f"{self.instructions}\n\nThis session: {asks}"
        return Brief(
            task_id=self.id,
            category=self.category,
            family=self.family,
            instructions=text,
            session=session,
            sessions=len(self.sessions),
            public=dict(self.public),
        )

    def content_hash(self) -> str:
        return stable_hash(self.model_dump(mode="json"))
