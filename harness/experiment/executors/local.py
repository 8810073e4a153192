"""``local``: with one worker and one job at a time, in-process (easy to profile and
debug); with more, a process pool on this machine, and with ``concurrency`` above 1 each
process (or, with one worker, this one) runs that many jobs at once on threads
(``worker_pool``), for an agent whose episodes wait on a model."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator, Sized
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures import Executor as FuturesPool

from pydantic import BaseModel, ConfigDict, Field

from harness.core.pyast import serialise_parsing
from harness.experiment.executors.base import EXECUTORS, Job, Result
from harness.experiment.interrupts import ignore_sigint
from harness.experiment.worker_pool import ThreadedProcessPool


class LocalOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    workers: int | None = Field(default=None, ge=1, description="processes (default: one per CPU)")
    start_method: str = Field(default="forkserver", description="how pool processes start (multiprocessing)")
    concurrency: int | None = Field(default=None, ge=1,
                                    description="task jobs in flight per worker process (None: 1)")

    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1


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
        # Ctrl-C reaches the whole process group: the driver alone decides what it means
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=ignore_sigint) as pool:
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
