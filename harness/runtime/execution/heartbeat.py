"""Heartbeat-based failure detection.

A session beats every ``interval``; the monitor declares it dead when its last beat is
older than ``timeout``. The clock is injected: in episodes it is the simulated clock
(so detection delay is charged in simulated minutes and is deterministic), in the real-
process demo it is ``time.monotonic``. Detection delay = time of detection - time of the
last beat, reported per session, so the cost of a crash includes the time nobody noticed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from harness.core.errors import ConfigError


@dataclass
class Detection:
    session_id: str
    last_beat: float
    detected_at: float

    @property
    def delay(self) -> float:
        return self.detected_at - self.last_beat


class HeartbeatMonitor:
    def __init__(self, interval: float, timeout: float, clock: Callable[[], float]):
        if interval <= 0 or timeout <= interval:
            raise ConfigError(f"heartbeat needs 0 < interval < timeout, got interval={interval}, timeout={timeout}")
        self.interval, self.timeout, self.clock = interval, timeout, clock
        self._last: dict[str, float] = {}
        self.dead: dict[str, Detection] = {}

    def beat(self, session_id: str) -> None:
        """A beat revives nothing: once declared dead a session stays dead until ``forget``."""
        if session_id not in self.dead:
            self._last[session_id] = self.clock()

    def due(self, session_id: str) -> bool:
        """Whether the session should send a beat now (its interval has elapsed)."""
        last = self._last.get(session_id)
        return last is None or self.clock() - last >= self.interval

    def check(self) -> list[Detection]:
        """Newly detected dead sessions, in session-id order (deterministic)."""
        now = self.clock()
        found = []
        for sid in sorted(self._last):
            if sid not in self.dead and now - self._last[sid] > self.timeout:
                det = Detection(sid, self._last[sid], now)
                self.dead[sid] = det
                found.append(det)
        return found

    def alive(self, session_id: str) -> bool:
        return session_id in self._last and session_id not in self.dead

    def forget(self, session_id: str) -> None:
        """After recovery (or a clean end) the session starts a fresh beat history."""
        self._last.pop(session_id, None)
        self.dead.pop(session_id, None)


class FileBeatSource:
    """Beats written by another process into a file (a counter); polled by the monitor's
    owner. A change of content is a beat, so clocks of the two processes never mix."""

    def __init__(self, path: str, session_id: str, monitor: HeartbeatMonitor):
        self.path, self.session_id, self.monitor = path, session_id, monitor
        self._seen: bytes | None = None

    def poll(self) -> bool:
        try:
            with open(self.path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return False
        if data and data != self._seen:
            self._seen = data
            self.monitor.beat(self.session_id)
            return True
        return False


def beat_forever(path: str, interval_s: float) -> None:  # pragma: no cover - runs in a child
    """The child side of the demo: rewrite a counter every ``interval_s`` (wall time is
    fine here: this only measures failure detection, never an episode result)."""
    import time

    n = 0
    tmp = f"{path}.tmp"
    while True:
        n += 1
        with open(tmp, "w") as fh:
            fh.write(str(n))
        os.replace(tmp, path)  # atomic: the reader never sees a half-written counter
        time.sleep(interval_s)
