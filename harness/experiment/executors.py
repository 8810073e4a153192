"""Executors run task jobs and yield their results as they finish.

``local`` with one worker runs in-process (easy to profile and debug); with more, a
process pool. ``concurrency`` is the task jobs in flight per worker process: with 1 each
process runs one job at a time in its main thread; with more, each runs that many on
threads (``worker_pool``), for an agent whose episodes wait on a model. Left unset it is
the agent's default (``default_concurrency``). Results are the same every way: each
episode is a pure function of its inputs, and the writer does not depend on completion
order.

Every executor lives in this module and registers itself in ``EXECUTORS`` (a
``harness.core.registry.Registry``, no folder scan needed) with the pydantic model of its
options: the ``executor`` config section without its ``name``. ``validate_executor``
checks a section at config time without building anything; ``make_executor`` builds one.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures import Executor as FuturesPool
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from harness.agents.registry import AgentSpec, waits_on_model
from harness.core.pyast import serialise_parsing
from harness.core.registry import Registry
from harness.experiment.worker_pool import ThreadedProcessPool

Job = Any
Result = Any


class Executor(Protocol):
    """Runs ``fn`` on every job, yielding results as they finish (in any order)."""

    def __call__(self, fn: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[Result]: ...


class ExecutorSection(Protocol):
    """The ``executor`` config section (``config.ExecutorConfig``): a name and its options."""

    name: str

    def model_dump(self, **kwargs: Any) -> dict[str, Any]: ...


EXECUTORS: Registry[Executor] = Registry("executor")


class LocalOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    workers: int | None = Field(default=None, ge=1, description="processes (default: one per CPU)")
    start_method: str = Field(default="forkserver", description="how pool processes start (multiprocessing)")
    concurrency: int | None = Field(default=None, ge=1,
                                    description="task jobs in flight per worker process (None: 1)")

    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1


# No published source. An episode of a model agent waits seconds per answer and works
# milliseconds between answers (measured: ~5 ms of CPU per model turn, the mock agent on 20
# smoke tasks, 1.6 s over 328 turns), so 32 episodes at once keep a process's CPU mostly
# idle while it holds 32 requests in flight (32 x 5 ms = 0.16 s of work per round of answers).
MODEL_WAIT_CONCURRENCY = 32


def default_concurrency(agent: AgentSpec | Mapping[str, Any]) -> int:
    """``executor.concurrency`` left unset: ``MODEL_WAIT_CONCURRENCY`` for an agent whose
    registration says it waits on a model, else 1 (threads would only share one CPU)."""
    return MODEL_WAIT_CONCURRENCY if waits_on_model(agent) else 1


def concurrency_of(section: ExecutorSection, agent: AgentSpec | Mapping[str, Any]) -> int:
    """The task jobs a worker process runs at once: the section's, else the agent's default."""
    return section.model_dump().get("concurrency") or default_concurrency(agent)


@EXECUTORS.register("local", options=LocalOptions)
class LocalExecutor:
    def __init__(self, options: LocalOptions):
        self.options = options

    def __call__(self, fn: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[Result]:
        # A sized ``jobs`` is taken lazily: a caller that stops handing out jobs stops the run
        # (those in flight finish and come back).
        if not isinstance(jobs, Sized):
            jobs = list(jobs)
        workers = min(self.options.worker_count(), max(1, len(jobs)))
        threads = self.options.concurrency or 1
        if workers == 1 and threads == 1:
            yield from map(fn, jobs)
            return
        if workers == 1:  # in-process, like one worker without threads
            serialise_parsing()  # before any thread runs a job (see worker_pool.worker_main)
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="job") as pool:
                yield from _bounded(pool, fn, jobs, threads)
            return
        ctx = mp.get_context(self.options.start_method)
        if threads > 1:
            yield from ThreadedProcessPool(ctx, workers, threads).run(fn, jobs)
            return
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            yield from _bounded(pool, fn, jobs, 2 * workers)


def _bounded(pool: FuturesPool, fn: Callable[[Job], Result], jobs: Iterable[Job], limit: int) -> Iterator[Result]:
    """Bounded submission: a kill loses at most the jobs in flight, and memory stays flat."""
    in_flight = set()
    for job in jobs:
        in_flight.add(pool.submit(fn, job))
        if len(in_flight) >= limit:
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in done)
    while in_flight:
        done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
        yield from (f.result() for f in done)


def _options(section: ExecutorSection) -> dict[str, Any]:
    return section.model_dump(exclude={"name"})


def validate_executor(section: ExecutorSection, where: str = "executor") -> BaseModel:
    """The executor's validated options, building nothing: an unknown name is a
    ConfigError naming ``executor.name``, a bad option one naming ``executor.<key>``."""
    EXECUTORS.entry(section.name, where=f"{where}.name")
    return EXECUTORS.options(section.name, _options(section), where=where)


def make_executor(section: ExecutorSection, where: str = "executor", *,
                  agent: AgentSpec | Mapping[str, Any] | None = None) -> Executor:
    """The executor; an unset ``concurrency`` becomes ``agent``'s default (1 without one)."""
    validate_executor(section, where)
    options = _options(section)
    if agent is not None:
        options["concurrency"] = concurrency_of(section, agent)
    return EXECUTORS.build(section.name, options, where=where)
