"""Executors run task jobs and yield their results as they finish.

``local`` with one worker runs in-process (easy to profile and debug); with more, a
process pool. Results are the same either way: each episode is a pure function of its
inputs, and the writer does not depend on completion order.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from harness.core.errors import ConfigError
from harness.experiment.config import ExecutorConfig

Job = Any
Result = Any


def run_local(fn: Callable[[Job], Result], jobs: Iterable[Job], cfg: ExecutorConfig) -> Iterator[Result]:
    jobs = list(jobs)
    workers = min(cfg.worker_count(), max(1, len(jobs)))
    if workers == 1:
        yield from map(fn, jobs)
        return
    ctx = mp.get_context(cfg.start_method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending = iter(jobs)
        in_flight = set()
        # Bounded submission: a kill loses at most the jobs in flight, and memory stays flat.
        for job in pending:
            in_flight.add(pool.submit(fn, job))
            if len(in_flight) >= 2 * workers:
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
        while in_flight:
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in done)


EXECUTORS: dict[str, Callable[..., Iterator[Result]]] = {"local": run_local}


def get_executor(name: str) -> Callable[..., Iterator[Result]]:
    try:
        return EXECUTORS[name]
    except KeyError:
        known = ", ".join(sorted(EXECUTORS))
        raise ConfigError(f"unknown executor {name!r}; known: {known}") from None
