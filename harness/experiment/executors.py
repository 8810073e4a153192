"""Executors run task jobs and yield their results as they finish.

``local`` with one worker runs in-process (easy to profile and debug); with more, a
process pool. Results are the same either way: each episode is a pure function of its
inputs, and the writer does not depend on completion order.

Every executor lives in this module and registers itself in ``EXECUTORS`` (a
``harness.core.registry.Registry``, no folder scan needed) with the pydantic model of its
options: the ``executor`` config section without its ``name``. ``validate_executor``
checks a section at config time without building anything; ``make_executor`` builds one.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from harness.core.registry import Registry

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

    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1


@EXECUTORS.register("local", options=LocalOptions)
class LocalExecutor:
    def __init__(self, options: LocalOptions):
        self.options = options

    def __call__(self, fn: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[Result]:
        jobs = list(jobs)
        workers = min(self.options.worker_count(), max(1, len(jobs)))
        if workers == 1:
            yield from map(fn, jobs)
            return
        ctx = mp.get_context(self.options.start_method)
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


def _options(section: ExecutorSection) -> dict[str, Any]:
    return section.model_dump(exclude={"name"})


def validate_executor(section: ExecutorSection, where: str = "executor") -> BaseModel:
    """The executor's validated options, building nothing: an unknown name is a
    ConfigError naming ``executor.name``, a bad option one naming ``executor.<key>``."""
    EXECUTORS.entry(section.name, where=f"{where}.name")
    return EXECUTORS.options(section.name, _options(section), where=where)


def make_executor(section: ExecutorSection, where: str = "executor") -> Executor:
    validate_executor(section, where)
    return EXECUTORS.build(section.name, _options(section), where=where)
