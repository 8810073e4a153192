"""The seeded chaos schedule: when to SIGKILL, and which worker.

The gaps between kills are drawn up front (exponential, so kills land at any point of a
worker's life: mid-action, mid-checkpoint, mid-replay, during start-up), bounded in count
(``kills``) and in time (none after ``max_seconds``). A gap runs from the previous kill
actually executed. A kill that falls due while no worker is alive to receive it is not
dropped: it stays due and goes to the next worker that is alive (typically a replacement
in start-up), and the later gaps run from then, so kills never pile up into a burst. A
kill whose victim turns out to have been exiting cleanly already (our SIGKILL changed
nothing) is given back with ``missed`` and is due again at once, for the next live worker.
Which worker dies is drawn at kill time from those then alive, in task order. Both come
from named streams of ``harness.core.rng``.

Every configured kill must land on real work: the supervisor keeps starting tasks while
kills are ``pending`` (see ``Supervisor``), and a run that executed fewer kills than
configured fails. Which process is alive at a given instant depends on the machine, so
the kill pattern (and how many extra tasks it took to place every kill) is reproducible
only up to timing; the verified outcome (every task's final world as in the fault-free
run, zero duplicate effects) must not depend on it.
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
        self._done = 0  # kills executed
        self._owed = False  # a kill that missed its victim: due again at once

    @property
    def kills(self) -> int:
        return len(self.gaps)

    @property
    def executed(self) -> int:
        return self._done

    def pending(self, elapsed_s: float) -> bool:
        """Kills remain to be executed and their time is not over: work must go on."""
        return self._done < len(self.gaps) and elapsed_s <= self.max_seconds

    def due(self, elapsed_s: float) -> bool:
        return self.pending(elapsed_s) and (self._owed or self._base + self.gaps[self._done] <= elapsed_s)

    def pick(self, alive: Sequence[str], elapsed_s: float) -> str | None:
        """The victim of the due kill among ``alive``, consuming the kill; None when nobody
        is alive, and the kill stays due for the next live worker."""
        if not alive:
            return None
        self._done += 1
        self._base = elapsed_s
        self._owed = False
        return sorted(alive)[int(self._victims.integers(len(alive)))]

    def missed(self) -> None:
        """An executed kill changed nothing (its victim had already finished and exited 0):
        it is not counted, and it is due again at once, for the next live worker."""
        if self._done == 0:
            raise ValueError("no executed kill to give back")
        self._done -= 1
        self._owed = True
