"""Adaptive budget allocation (P4): a shared pool of extra actions within a global cap.

A session that hits its action budget may ask for an extension. It gets one fixed
``increment`` when its progress signal (supplied by the caller, e.g. the fraction of
checkers passing or of subgoals done, in [0, 1]) has risen by at least ``min_progress``
since its previous grant (or since 0 for its first), it has had fewer than
``max_per_session`` grants, and the pool still holds ``increment`` actions. Decisions
depend only on the call sequence and the signals, so the pool is deterministic; its state
is JSON (``to_dict``/``from_dict``) and goes into checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.core.errors import ConfigError


@dataclass(frozen=True)
class Grant:
    session_id: str
    granted: int
    progress: float
    reason: str  # granted, no_progress, session_limit, pool_exhausted


@dataclass
class BudgetPool:
    cap: int = 100  # total extra actions the pool may ever hand out
    increment: int = 20
    min_progress: float = 0.05
    max_per_session: int = 3
    used: int = 0
    _last_progress: dict[str, float] = field(default_factory=dict)
    _grants: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.cap < 0 or self.increment <= 0 or self.max_per_session < 0 or self.min_progress < 0:
            raise ConfigError(
                "budget pool needs cap >= 0, increment > 0, max_per_session >= 0, min_progress >= 0"
            )

    @property
    def remaining(self) -> int:
        return self.cap - self.used

    def request(self, session_id: str, progress: float | Callable[[], float]) -> Grant:
        p = float(progress() if callable(progress) else progress)
        last = self._last_progress.get(session_id, 0.0)
        if p - last < self.min_progress:
            return Grant(session_id, 0, p, "no_progress")
        if self._grants.get(session_id, 0) >= self.max_per_session:
            return Grant(session_id, 0, p, "session_limit")
        if self.remaining < self.increment:
            return Grant(session_id, 0, p, "pool_exhausted")
        self.used += self.increment
        self._grants[session_id] = self._grants.get(session_id, 0) + 1
        self._last_progress[session_id] = p
        return Grant(session_id, self.increment, p, "granted")

    def granted(self, session_id: str) -> int:
        return self._grants.get(session_id, 0) * self.increment

    def to_dict(self) -> dict[str, Any]:
        return {
            "cap": self.cap, "increment": self.increment, "min_progress": self.min_progress,
            "max_per_session": self.max_per_session, "used": self.used,
            "last_progress": dict(sorted(self._last_progress.items())),
            "grants": dict(sorted(self._grants.items())),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BudgetPool:
        return cls(
            cap=d["cap"], increment=d["increment"], min_progress=d["min_progress"],
            max_per_session=d["max_per_session"], used=d["used"],
            _last_progress=dict(d["last_progress"]), _grants=dict(d["grants"]),
        )
