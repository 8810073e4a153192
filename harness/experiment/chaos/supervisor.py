"""The supervisor: runs one worker per task, kills them on a schedule, detects each death
by heartbeat timeout alone, fences and replaces the dead worker.

Detection never looks at the process table: a worker is dead when the CLOCK_MONOTONIC
time in its ``heartbeat`` file is older than the timeout (``waitpid`` is used only to learn
that a worker finished cleanly, exit 0). On detection the worker is SIGKILLed whatever its
state (fencing: a worker that was only slow must not keep writing beside its replacement),
then a replacement process takes over the task directory. A suspicion without a kill of
ours is recorded as such, never hidden.

The configured jobs are the work; when all of them have been started while kills are
still pending, the supervisor starts more tasks from ``more`` (the next task of the same
seeded sequence, verified like the others), so the schedule never runs out of workers to
kill because the work ran out first. Every task started runs to its end.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from harness.core.errors import HarnessError
from harness.experiment.chaos.schedule import KillSchedule
from harness.experiment.chaos.worker import Job, run_job_json


class WorkerCrashError(HarnessError):
    """A worker died in a way no kill of ours explains (a bug, not a fault)."""


class SupervisionSettings(BaseModel):
    """How workers are run, watched and killed (shared by the supervisor and the table3 config)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workers: int = Field(default=2, ge=1)
    heartbeat_timeout_ms: float = Field(default=250.0, gt=0)
    poll_ms: float = Field(default=5.0, gt=0)
    kills: int = Field(default=0, ge=0)
    mean_kill_gap_ms: float = Field(default=200.0, gt=0)
    max_chaos_seconds: float = Field(default=60.0, gt=0)
    max_wall_seconds: float = Field(default=900.0, gt=0)


class SupervisorConfig(SupervisionSettings):
    seed: int = 0  # the kill schedule's stream


@dataclass(frozen=True)
class KillRecord:
    task: str
    attempt: int  # the attempt that was killed; its replacement is attempt + 1
    kill_ns: int
    detected_ns: int


@dataclass(frozen=True)
class Suspicion:
    """A heartbeat timeout with no kill of ours behind it (a slow, not a dead, worker)."""

    task: str
    attempt: int
    detected_ns: int


@dataclass
class Supervision:
    kills: list[KillRecord] = field(default_factory=list)  # executed (and detected) kills
    suspicions: list[Suspicion] = field(default_factory=list)
    wall_s: float = 0.0
    tasks: list[str] = field(default_factory=list)  # every task run, configured ones first
    kills_configured: int = 0


@dataclass
class _Slot:
    job: Job
    proc: BaseProcess | None = None
    attempt: int = -1
    assigned_ns: int = 0
    killed_ns: int | None = None
    done: bool = False

    @property
    def task(self) -> str:
        return self.job.spec.task

    def last_beat(self) -> int:
        try:
            return int((Path(self.job.dir) / "heartbeat").read_text() or 0)
        except (FileNotFoundError, ValueError):  # ValueError: cannot happen (atomic), but be safe
            return 0


class Launcher:
    """Starts each worker with a plain ``fork`` of the supervisor, which has already
    imported everything a worker needs: a replacement costs a fork (a few ms), not an
    interpreter start and imports (~0.6 s here), so recovery time measures recovery.
    (``forkserver`` was tried: its children re-import the ``__main__`` module, i.e. the
    whole CLI, on every start.) The supervisor holds no open database or lock while
    workers run, so the child inherits nothing it could corrupt."""

    def __init__(self) -> None:
        self.ctx = mp.get_context("fork")

    def start(self, job: Job) -> BaseProcess:
        proc = self.ctx.Process(target=run_job_json, args=(job.model_dump_json(),), name=f"worker-{job.spec.task}")
        proc.start()
        return proc


class Supervisor:
    """``more(n)``, if given, is the job of the n-th task (n counts every task so far),
    started when the configured jobs are all under way and kills are still pending."""

    def __init__(self, jobs: list[Job], cfg: SupervisorConfig, more: Callable[[int], Job] | None = None):
        self.cfg = cfg
        self.slots = {j.spec.task: _Slot(j) for j in sorted(jobs, key=lambda j: j.spec.task)}
        self.queue = list(self.slots)
        self.more = more
        self.schedule = KillSchedule(cfg.seed, cfg.kills, cfg.mean_kill_gap_ms / 1000, cfg.max_chaos_seconds)
        self.launcher = Launcher()
        self.result = Supervision(tasks=list(self.slots), kills_configured=cfg.kills)

    def run(self) -> Supervision:
        start = time.monotonic_ns()
        try:
            while not all(s.done for s in self.slots.values()):
                elapsed = (time.monotonic_ns() - start) / 1e9
                if elapsed > self.cfg.max_wall_seconds:
                    raise WorkerCrashError(f"supervision exceeded max_wall_seconds={self.cfg.max_wall_seconds}")
                self._step(elapsed)
                time.sleep(self.cfg.poll_ms / 1000)
        finally:
            self._stop_all()
        self.result.wall_s = (time.monotonic_ns() - start) / 1e9
        return self.result

    def _running(self) -> list[_Slot]:
        return [s for s in self.slots.values() if s.proc is not None and not s.done]

    def _step(self, elapsed: float) -> None:
        for slot in self._running():
            self._reap(slot)
        for slot in self._running():
            self._check(slot)
        while len(self._running()) < self.cfg.workers and (self.queue or self._extend(elapsed)):
            self._assign(self.slots[self.queue.pop(0)])
        if self.schedule.due(elapsed):
            self._kill(elapsed)

    def _extend(self, elapsed: float) -> bool:
        """Queue one more task if kills are pending and every queued task has started."""
        if self.more is None or not self.schedule.pending(elapsed):
            return False
        job = self.more(len(self.slots))
        if job.spec.task in self.slots:
            raise ValueError(f"extra task {job.spec.task} is already in the run")
        self.slots[job.spec.task] = _Slot(job)
        self.queue.append(job.spec.task)
        self.result.tasks.append(job.spec.task)
        return True

    def _finished(self, slot: _Slot) -> None:
        slot.done = True
        if slot.killed_ns is not None:  # our SIGKILL reached a worker already exiting cleanly
            slot.killed_ns = None
            self.schedule.missed()

    def _reap(self, slot: _Slot) -> None:
        code = slot.proc.exitcode
        if code == 0:
            self._finished(slot)
        elif code is not None and code != -signal.SIGKILL:
            raise WorkerCrashError(f"worker of {slot.task} (attempt {slot.attempt}) exited with {code}; "
                                   "its traceback is on stderr")

    def _check(self, slot: _Slot) -> None:
        now = time.monotonic_ns()
        if now - max(slot.last_beat(), slot.assigned_ns) <= self.cfg.heartbeat_timeout_ms * 1e6:
            return
        if slot.proc.exitcode == 0:  # finished between the reap and this check
            self._finished(slot)
            return
        slot.proc.kill()  # fencing; a no-op on a process that is already dead
        slot.proc.join()
        if slot.killed_ns is not None:
            self.result.kills.append(KillRecord(slot.task, slot.attempt, slot.killed_ns, now))
        else:
            self.result.suspicions.append(Suspicion(slot.task, slot.attempt, now))
        self._assign(slot)

    def _assign(self, slot: _Slot) -> None:
        slot.attempt += 1
        slot.killed_ns = None
        slot.assigned_ns = time.monotonic_ns()
        slot.proc = self.launcher.start(slot.job.model_copy(update={"attempt": slot.attempt}))

    def _kill(self, elapsed: float) -> None:
        alive = [s.task for s in self._running() if s.killed_ns is None and s.proc.exitcode is None]
        victim = self.schedule.pick(alive, elapsed)
        if victim is None:
            return
        slot = self.slots[victim]
        slot.killed_ns = time.monotonic_ns()
        os.kill(slot.proc.pid, signal.SIGKILL)

    def _stop_all(self) -> None:
        for slot in self.slots.values():
            if slot.proc is not None and slot.proc.exitcode is None:
                slot.proc.kill()
                slot.proc.join()
