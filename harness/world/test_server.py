"""Sandboxed test runs at fork speed: one long-lived test server per harness process.

Starting a sandbox (namespaces, read-only remounts, a fresh interpreter) costs about
100 ms; a run in it, a few. The server pays the start once and forks a child per run
(``test_server_main.py``); between runs it kills whatever a run left running, empties its
root and its log, so runs stay as independent as fresh sandboxes (the server itself never
runs workspace code, and is non-dumpable, so a run cannot reach into it either). A run
that outlives its wall clock takes the whole server with it (killed from outside, here);
the next run starts a new one.

Used where the sandbox has a pid namespace (modes ``privileged`` and ``userns``), so that
"kill everything the run left" is exact; elsewhere each run gets a fresh sandbox.

A server serves one run at a time. Episodes running at once on one process's threads
(``executor.concurrency``) each take an idle server, start one when none is idle (up to
``MAX_SERVERS``), or wait for one; a process that runs one episode at a time keeps one.
"""

from __future__ import annotations

import atexit
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.sandbox.process import ProcessGone, SandboxProcess

_HERE = Path(__file__).parent
_MAIN = _HERE / "test_server_main.py"
_TESTRUN = _HERE / "testrun.py"
STARTUP_S = 30.0
GRACE_S = 5.0  # the child's own start (fork, writing files) before its in-sandbox alarm runs
# Test servers per process (see _Servers). No published source: a sandboxed run is CPU work
# in its own process, so more servers than cores buy nothing. Measured (mock agent, 40 smoke
# episodes 32 at once in one process, 2 cores): 2 servers 2.2 s, 4: 2.4 s, unbounded (8
# started, each start ~0.9 s while the others ran): 2.8 s.
MAX_SERVERS = max(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class Outcome:
    report: dict[str, Any] | None = None  # the report's wire form, when the run sent one
    timed_out: bool = False  # the run outlived its wall clock and was killed from outside
    ended: str = ""  # how the run ended without a report


def _prepare(parent: Path) -> None:
    shutil.copy(_TESTRUN, parent / _TESTRUN.name)


class _Servers:
    """This process's test servers: the idle ones, and every one to close at exit. At most
    ``MAX_SERVERS`` serve at once: a thread that finds them all busy waits for one (a run
    takes milliseconds, a start a hundred or more), so there are never more than that."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_SERVERS)
        self._idle: list[SandboxProcess] = []
        self._all: list[SandboxProcess] = []

    def take(self) -> SandboxProcess:
        """An idle live server, or a new one (started outside the lock); give it back or
        discard it."""
        self._slots.acquire()
        try:
            with self._lock:
                while self._idle:
                    server = self._idle.pop()
                    if server.alive():
                        return server
                    self._forget(server)
            server = SandboxProcess(_MAIN, _prepare, lambda parent, site: [str(parent / _TESTRUN.name), site],
                                    startup_seconds=STARTUP_S)
        except BaseException:
            self._slots.release()
            raise
        with self._lock:
            self._all.append(server)
        return server

    def give_back(self, server: SandboxProcess) -> None:
        with self._lock:
            self._idle.append(server)
        self._slots.release()

    def discard(self, server: SandboxProcess) -> None:
        with self._lock:
            self._forget(server)
        self._slots.release()

    def _forget(self, server: SandboxProcess) -> None:
        server.close()
        if server in self._all:
            self._all.remove(server)

    def close(self) -> None:
        with self._lock:
            for server in self._all:
                server.close()
            self._all.clear()
            self._idle.clear()


_SERVERS = _Servers()
atexit.register(_SERVERS.close)


def _ended(message: dict[str, Any], tail: str) -> str:
    if message.get("op") == "error":
        return f"test process failed before reporting: {message.get('type')}: {message.get('message')}"[:300]
    code = os.waitstatus_to_exitcode(int(message.get("status", 0)))
    return f"test process ended with exit code {code} before reporting; {tail}"[:300]


def run_in_server(files: dict[str, str], module: str, timeout_s: float) -> Outcome:
    server = _SERVERS.take()
    try:
        outcome = _run(server, files, module, timeout_s)
    except ProcessGone as gone:
        _SERVERS.discard(server)
        if "no answer within" in str(gone):
            return Outcome(timed_out=True)
        return Outcome(ended=f"the test server failed: {gone}"[:300])
    except BaseException:  # mid-protocol: the server cannot serve another run
        _SERVERS.discard(server)
        raise
    _SERVERS.give_back(server)
    return outcome


def _run(server: SandboxProcess, files: dict[str, str], module: str, timeout_s: float) -> Outcome:
    server.send({"op": "run", "files": files, "module": module, "timeout_s": timeout_s})
    first = server.receive(timeout_s + GRACE_S)
    if first.get("op") != "report":
        if first.get("op") == "error":
            server.receive(GRACE_S)  # then the child's end
        return Outcome(ended=_ended(first, server.stderr_tail()))
    server.receive(GRACE_S)  # the child's end, after its report
    return Outcome(report=first["report"])
