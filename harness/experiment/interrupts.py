"""Ctrl-C and SIGTERM during a run: stop cleanly, keep what finished, say so.

While a run executes, SIGINT and SIGTERM raise ``KeyboardInterrupt`` in the runner's main
thread, except inside ``shielded()`` (the runner storing an episode's rows), where the
interrupt waits until the block ends: an episode is buffered with all its actions or
not at all. The runner then commits what is buffered, marks the run ``stopped`` and
raises ``RunStopped`` (a ``KeyboardInterrupt``, so a notebook or script still sees an
interrupt); ``harness run`` prints one line and exits with 130.

A terminal's Ctrl-C reaches the whole process group. The process pool's workers
(``executors.local``) ignore it (``ignore_sigint``): the driver decides what a stop means,
and their short CPU-bound jobs in flight finish before the pool shuts down. The threaded
workers of ``worker_pool`` (model agents) still exit on it, as they did: their jobs in
flight wait on a model and would hold the stop for as long as a request takes.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunStopped(KeyboardInterrupt):
    """The run was interrupted; its finished episodes are stored and it is marked stopped."""

    def __init__(self, run_id: str, stored: int, planned: int):
        super().__init__(f"run {run_id} stopped: {stored}/{planned} episodes stored")
        self.run_id, self.stored, self.planned = run_id, stored, planned


class Interrupts:
    """Turns SIGINT/SIGTERM into ``KeyboardInterrupt`` while ``installed()``, deferred
    inside ``shielded()``."""

    def __init__(self) -> None:
        self.pending = False
        self._depth = 0

    def _handle(self, signum: int, frame: object) -> None:
        if self._depth:
            self.pending = True  # raised when the shielded block ends
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Only the main thread can take signals; elsewhere this does nothing. A signal the
        process was told to ignore (``nohup``, a background job's SIGINT) stays ignored."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.getsignal(s) for s in _SIGNALS if signal.getsignal(s) is not signal.SIG_IGN}
        for s in previous:
            signal.signal(s, self._handle)
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if not self._depth and self.pending:  # only when the block ended normally
            self.pending = False
            raise KeyboardInterrupt

    def discard(self) -> None:
        """Forget an interrupt that arrived while shielded (the run is stopping anyway)."""
        self.pending = False


def ignore_sigint() -> None:
    """A process-pool worker's initializer: Ctrl-C is the driver's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
