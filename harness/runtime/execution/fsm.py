"""The lifecycle state machine of one durable session.

States: idle -> active -> checkpointing -> active ..., active -> recovering -> active, and
any non-final state -> terminated. ``idle -> recovering`` is also allowed because a fresh
process that resumes a crashed session starts idle and goes straight to recovery.
The table is the single source of truth; an illegal transition raises
``IllegalTransitionError`` instead of silently moving, so a bug in the episode loop (e.g.
checkpointing while recovering) shows up at the line that made it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from harness.runtime.execution.errors import IllegalTransitionError


class Lifecycle(StrEnum):
    IDLE = "idle"
    ACTIVE = "active"
    CHECKPOINTING = "checkpointing"
    RECOVERING = "recovering"
    TERMINATED = "terminated"


TRANSITIONS: dict[Lifecycle, frozenset[Lifecycle]] = {
    Lifecycle.IDLE: frozenset({Lifecycle.ACTIVE, Lifecycle.RECOVERING, Lifecycle.TERMINATED}),
    Lifecycle.ACTIVE: frozenset({Lifecycle.CHECKPOINTING, Lifecycle.RECOVERING, Lifecycle.TERMINATED}),
    Lifecycle.CHECKPOINTING: frozenset({Lifecycle.ACTIVE, Lifecycle.TERMINATED}),
    Lifecycle.RECOVERING: frozenset({Lifecycle.ACTIVE, Lifecycle.TERMINATED}),
    Lifecycle.TERMINATED: frozenset(),
}


class LifecycleFSM:
    """Current state plus the ordered history of transitions (JSON-able, checkpointable)."""

    def __init__(self, state: Lifecycle | str = Lifecycle.IDLE):
        self.state = Lifecycle(state)
        self.history: list[tuple[str, str]] = []

    def can(self, target: Lifecycle | str) -> bool:
        return Lifecycle(target) in TRANSITIONS[self.state]

    def to(self, target: Lifecycle | str) -> Lifecycle:
        try:
            tgt = Lifecycle(target)
        except ValueError:
            raise IllegalTransitionError(str(self.state), str(target), self._allowed()) from None
        if tgt not in TRANSITIONS[self.state]:
            raise IllegalTransitionError(str(self.state), str(tgt), self._allowed())
        self.history.append((str(self.state), str(tgt)))
        self.state = tgt
        return tgt

    def _allowed(self) -> tuple[str, ...]:
        return tuple(sorted(str(s) for s in TRANSITIONS[self.state]))

    @property
    def terminated(self) -> bool:
        return self.state is Lifecycle.TERMINATED

    def to_dict(self) -> dict[str, Any]:
        return {"state": str(self.state), "history": [list(h) for h in self.history]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LifecycleFSM:
        fsm = cls(data["state"])
        fsm.history = [(a, b) for a, b in data.get("history", [])]
        return fsm
