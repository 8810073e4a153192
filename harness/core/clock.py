"""The simulated clock: episodes measure time in simulated minutes, never wall time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SimClock:
    """Monotone simulated time in minutes. Costs are charged by the runtime's layers."""

    minutes: float = 0.0

    def advance(self, minutes: float) -> float:
        if minutes < 0:
            raise ValueError(f"simulated time cannot go backwards (advance by {minutes})")
        self.minutes += minutes
        return self.minutes

    def now(self) -> float:
        return self.minutes
