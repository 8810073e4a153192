"""``ray``: task jobs on a pool of Ray actors, one per worker CPU, on a local Ray or a cluster.

An actor is a long-lived worker process: what a process loads once (the package, the
embedder, compiled test code, a model client) serves every job it runs, and the runs of
a sweep share the actors; a task per episode would pay for it again and again. The
driver keeps the writer: actors return results and the runner stores them, as with ``local``.

With ``concurrency`` above 1 an actor runs that many jobs at once on its threads (a
threaded actor, ``max_concurrency``), for an agent whose episodes wait on a model.

A job whose actor dies (a lost machine, an OOM kill, a SIGKILL) is run again on another
actor, and the dead actor is replaced. Its result is yielded once: the first attempt's
result never arrived, and a job is in flight on one actor at a time. Submission is
bounded (``concurrency + 1`` jobs per actor) and lazy, so a lost actor costs at most the
jobs it held, and a run that stops scheduling (a budget cap) stops taking jobs.
"""

from __future__ import annotations

import itertools
import logging
import os
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.core.errors import HarnessError
from harness.core.pyast import serialise_parsing
from harness.experiment.executors import _ray_session as session
from harness.experiment.executors.base import EXECUTORS, Job, Result

log = logging.getLogger(__name__)
_END = object()


class RayOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    workers: int | None = Field(default=None, ge=1,
                                description="actors, one CPU each (default: every CPU of this machine or the cluster)")
    address: str | None = Field(default=None, description="unset: start a local Ray; auto, ray://host:port or "
                                                          "host:port: join that cluster")
    lost_worker_retries: int = Field(default=3, ge=0, description="times a job whose actor died is run again")
    concurrency: int | None = Field(default=None, ge=1,
                                    description="task jobs in flight per actor, on its threads (None: 1)")

    def depth(self) -> int:
        """Jobs held per actor: those it runs at once and the next one ready, so an actor
        never waits on the driver."""
        return (self.concurrency or 1) + 1

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return session.check_address(value)


class JobRunner:
    """The actor: runs the jobs it is given, one after another, in its own process."""

    def __init__(self, config_dir: str, threads: int = 1):
        session.resolve_config_dir(config_dir)
        if threads > 1:
            serialise_parsing()  # before any thread runs a job (as worker_pool.worker_main)

    def pid(self) -> int:
        return os.getpid()

    def run(self, fn: Callable[[Job], Result], job: Job) -> Result:
        return fn(job)


@dataclass(eq=False)
class _Actor:
    handle: Any
    started: Any  # ref of its pid(): ready once it resolves
    pid: int | None = None
    load: int = 0  # its jobs in flight


@EXECUTORS.register("ray", options=RayOptions, requires=session.require_ray)
class RayExecutor:
    """Connects when built (before the runner opens the store: an unreachable cluster
    stores nothing). Its actors outlive a call: the runs of a sweep share them, warm."""

    def __init__(self, options: RayOptions):
        self.options = options
        self.ray = session.connect(options.address, options.workers)
        self.lost_jobs = 0  # jobs run again because their actor died (all calls)
        self.pool: _Pool | None = None  # the pool of the latest call

    def __call__(self, fn: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[Result]:
        pending = iter(jobs)
        first = next(pending, _END)
        if first is _END:
            return
        size = session.worker_count(self.ray, self.options.address, self.options.workers)
        threads = self.options.concurrency or 1
        self.pool = pool = _shared_pool(self.ray, size, threads, session.worker_config_dir(self.options.address))
        finished = False
        try:
            yield from pool.run(fn, itertools.chain([first], pending), self.options.lost_worker_retries)
            finished = True
        finally:
            self.lost_jobs += pool.lost_jobs
            if not finished:  # stopped early or failed: jobs may still run on the actors
                _discard(pool)


_pool: _Pool | None = None  # this process's actors, reused while the Ray session and the size last


def _shared_pool(ray: Any, size: int, threads: int, config_dir: str) -> _Pool:
    global _pool
    key = (session.generation(), size, threads, config_dir)
    if _pool is None or _pool.key != key:
        if _pool is not None:
            _discard(_pool)
        _pool = _Pool(ray, size, threads, config_dir, key)
    return _pool


def _discard(pool: _Pool) -> None:
    global _pool
    pool.close()
    if _pool is pool:
        _pool = None


class _Pool:
    def __init__(self, ray: Any, size: int, threads: int, config_dir: str, key: tuple):
        self.ray = ray
        self.key = key
        self.threads = threads
        self.depth = threads + 1
        self.remote = ray.remote(num_cpus=1, max_restarts=0, max_concurrency=threads)(JobRunner)
        self.config_dir = config_dir
        self.prefix = f"harness-jobs-{uuid.uuid4().hex[:8]}"
        self.started = 0
        self.actors = [self._start() for _ in range(size)]
        self.lost_jobs = 0

    def _start(self) -> _Actor:
        self.started += 1
        handle = self.remote.options(name=f"{self.prefix}-{self.started}").remote(self.config_dir, self.threads)
        return _Actor(handle, handle.pid.remote())

    def run(self, fn: Callable[[Job], Result], jobs: Iterable[Job], retries: int) -> Iterator[Result]:
        ray = self.ray
        fn_ref = ray.put(fn)  # sent once; each job gets its own copy, as in a process pool
        queue = _Queue(jobs)
        tries: dict[int, int] = {}
        flight: dict[Any, tuple[_Actor, int, Job]] = {}  # job ref -> (actor, job index, job)
        starting = {a.started: a for a in self.actors if a.pid is None}  # pid ref -> actor
        starts_left = len(self.actors) * (retries + 1)
        self.lost_jobs = 0
        while flight or queue:
            self._fill(fn_ref, queue, flight)
            if not flight and not starting:
                raise HarnessError("no Ray worker is left to run the remaining jobs")
            [ref], _ = ray.wait([*flight, *starting], num_returns=1)
            if ref in starting:
                actor = starting.pop(ref)
                if not self._ready(actor, ref):
                    starts_left -= 1
                    new = self._replace(actor, starts_left)
                    starting[new.started] = new
                continue
            actor, index, job = flight.pop(ref)
            actor.load -= 1
            try:
                result = ray.get(ref)
            except ray.exceptions.RayActorError as exc:
                tries[index] = tries.get(index, 0) + 1
                if tries[index] > retries:
                    raise HarnessError(f"a task job lost its Ray worker {tries[index]} times; the last: "
                                       f"{session.first_line(exc)}") from exc
                self.lost_jobs += 1
                if actor in self.actors:  # its first lost job: start another in its place
                    starts_left -= 1
                    new = self._replace(actor, starts_left)
                    starting[new.started] = new
                queue.retry(index, job)  # next free actor, ahead of the rest
                continue
            except ray.exceptions.RayTaskError as exc:
                cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                raise cause from exc  # the job's own error, as the local pool raises it
            yield result

    def _fill(self, fn_ref: Any, queue: _Queue, flight: dict) -> None:
        """Up to ``depth`` jobs on each started actor, the least loaded first."""
        ready = [a for a in self.actors if a.pid is not None]
        while ready and queue:
            actor = min(ready, key=lambda a: a.load)
            if actor.load >= self.depth:
                return
            index, job = queue.pop()
            flight[actor.handle.run.remote(fn_ref, job)] = (actor, index, job)
            actor.load += 1

    def _ready(self, actor: _Actor, ref: Any) -> bool:
        """Whether the actor started; False if it died starting (a lost worker, replaced);
        an actor that cannot start at all (its runtime environment failed) stops the run."""
        try:
            actor.pid = self.ray.get(ref)
        except self.ray.exceptions.RayActorError:
            return False
        except self.ray.exceptions.RayError as exc:
            raise HarnessError(f"a Ray worker could not start: {session.first_line(exc)}") from exc
        return True

    def _replace(self, dead: _Actor, starts_left: int) -> _Actor:
        """A new actor in the dead one's place."""
        if starts_left < 0:
            raise HarnessError(f"Ray workers keep dying ({self.started} started for {len(self.actors)}); "
                               f"see the Ray logs (/tmp/ray/session_latest/logs)")
        log.warning("Ray worker (pid %s) lost; its jobs run again on another", dead.pid)
        new = self._start()
        self.actors[self.actors.index(dead)] = new
        return new

    def close(self) -> None:
        if not self.ray.is_initialized():
            return  # the session is gone, and its actors with it
        for actor in self.actors:
            try:
                self.ray.kill(actor.handle, no_restart=True)
            except Exception as exc:  # an actor of an earlier session; nothing left to stop
                log.debug("could not kill a Ray worker: %s", exc)


class _Queue:
    """The jobs not yet handed out: jobs to run again first, then the caller's, taken one
    at a time (a caller that stops handing out jobs stops the run)."""

    def __init__(self, jobs: Iterable[Job]):
        self.again: deque[tuple[int, Job]] = deque()
        self.fresh = enumerate(jobs)
        self.head: tuple[int, Job] | None = None

    def __bool__(self) -> bool:
        if self.again or self.head is not None:
            return True
        self.head = next(self.fresh, None)
        return self.head is not None

    def pop(self) -> tuple[int, Job]:
        if self.again:
            return self.again.popleft()
        if not self:
            raise IndexError("no job left")
        head, self.head = self.head, None
        return head

    def retry(self, index: int, job: Job) -> None:
        self.again.appendleft((index, job))
