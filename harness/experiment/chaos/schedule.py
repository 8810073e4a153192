"""The seeded chaos schedule: when to SIGKILL, and which worker.

The gaps between kills are drawn up front (exponential, so kills land at any point of a
worker's life: mid-action, mid-checkpoint, mid-replay, during start-up), bounded in count
(``kills``) and in time (none after ``max_seconds``). A gap runs from the previous kill
actually executed: a kill that falls due while no worker is alive to receive it waits,
and the later ones wait with it, so kills never pile up into a burst on the first
replacement that starts. Which worker dies is drawn at kill time from those then alive,
in task order. Both come from named streams of ``harness.core.rng``. Which process is
alive at a given instant depends on the machine, so the kill pattern is reproducible only
up to timing; the verified outcome (final worlds, zero duplicates) must not depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.core.rng import stream


class KillSchedule:
    def __init__(self, seed: int, kills: int, mean_gap_s: float, max_seconds: float):
        self.gaps: list[float] = stream(seed, "table3", 0, "chaos/kill_gaps").exponential(mean_gap_s, kills).tolist()
        self.max_seconds = max_seconds
        self._victims = stream(seed, "table3", 0, "chaos/victims")
        self._base = 0.0  # elapsed time of the previous kill
        self._next = 0

    def due(self, elapsed_s: float) -> bool:
        return (self._next < len(self.gaps) and elapsed_s <= self.max_seconds
                and self._base + self.gaps[self._next] <= elapsed_s)

    def pick(self, alive: Sequence[str], elapsed_s: float) -> str | None:
        """The victim of the due kill among ``alive``, consuming the kill; None (the kill
        waits) when nobody is alive to be killed."""
        if not alive:
            return None
        self._next += 1
        self._base = elapsed_s
        return sorted(alive)[int(self._victims.integers(len(alive)))]

    @property
    def executed(self) -> int:
        return self._next
