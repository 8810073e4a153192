"""Worker processes with threads (``executor.concurrency``): jobs run at once within a
process, every result comes back exactly once, a worker that dies has its unfinished jobs
run again, a job that keeps killing workers stops the run, errors keep their traceback,
and closing early leaves no process behind."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
from pathlib import Path

import pytest

from harness.experiment.executors import LocalExecutor, LocalOptions
from harness.experiment.worker_pool import (
    MAX_LOSSES,
    RemoteTraceback,
    ThreadedProcessPool,
    WorkerLost,
)

THREADS = 4
# Each worker process imports this module and so gets its own barrier: a job passes it only
# when THREADS jobs of the same process wait at it at once.
_BARRIER = threading.Barrier(THREADS, timeout=60)


def _meet(job: int) -> tuple[int, int]:
    _BARRIER.wait()
    return job, os.getpid()


def _kill_once(job: tuple[str, int, int]) -> int:
    """Job ``victim`` SIGKILLs its worker the first time it runs (a marker file remembers)."""
    folder, i, victim = job
    marker = Path(folder) / "killed"
    if i == victim and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return i


def _kill_always(job: int) -> int:
    if job == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return job


def _fail_on_two(job: int) -> int:
    if job == 2:
        raise ValueError("job two is bad")
    return job


def _pool(workers: int = 2, threads: int = THREADS, method: str = "fork") -> ThreadedProcessPool:
    return ThreadedProcessPool(mp.get_context(method), workers, threads)


def test_each_worker_runs_its_threads_jobs_at_once():
    # 8 jobs for 2 workers x 4 threads: each worker holds 4, and they all pass its barrier
    results = list(_pool(method="forkserver").run(_meet, range(2 * THREADS)))
    assert sorted(job for job, _ in results) == list(range(2 * THREADS))
    pids = [pid for _, pid in results]
    assert len(set(pids)) == 2 and all(pids.count(p) == THREADS for p in set(pids))


def test_a_killed_worker_s_jobs_run_again_and_every_result_comes_once(tmp_path):
    jobs = [(str(tmp_path), i, 5) for i in range(20)]
    results = list(_pool().run(_kill_once, jobs))
    assert (tmp_path / "killed").exists()  # the worker did die
    assert sorted(results) == list(range(20))


def test_a_job_that_keeps_killing_workers_stops_the_run():
    with pytest.raises(WorkerLost, match=f"{MAX_LOSSES} worker processes died"):
        list(_pool(threads=1).run(_kill_always, range(3)))
    assert not mp.active_children()


def test_a_job_s_exception_is_raised_with_the_worker_s_traceback():
    with pytest.raises(ValueError, match="job two is bad") as info:
        list(_pool().run(_fail_on_two, range(6)))
    assert isinstance(info.value.__cause__, RemoteTraceback)
    assert "_fail_on_two" in str(info.value.__cause__)


def test_closing_early_stops_every_worker():
    results = _pool().run(_fail_on_two, [0, 1, 3, 4, 5, 6, 7])
    assert next(results) in {0, 1, 3, 4, 5, 6, 7}
    results.close()
    assert not mp.active_children()


@pytest.mark.parametrize("workers", [1, 2])
def test_local_executor_with_threads_runs_every_job_once(workers):
    executor = LocalExecutor(LocalOptions(workers=workers, start_method="fork", concurrency=3))
    assert sorted(executor(_fail_on_two, [0, 1, 3, 4, 5, 6, 7, 8])) == [0, 1, 3, 4, 5, 6, 7, 8]


class _Stoppable:
    """Jobs handed out until ``stopped`` (as the runner's schedule)."""

    def __init__(self, n: int):
        self.n, self.stopped, self.taken = n, False, 0

    def __iter__(self):
        for i in range(self.n):
            if self.stopped:
                return
            self.taken += 1
            yield i


def test_jobs_are_taken_only_as_workers_have_room_so_a_stop_schedules_nothing_more():
    jobs = _Stoppable(40)
    results = _pool(workers=2, threads=2).run(abs, jobs)
    first = next(results)
    jobs.stopped = True
    rest = list(results)  # the jobs in flight still come back
    assert jobs.taken == 2 * 2  # what the workers had room for when the run began, no more
    assert sorted([first, *rest]) == [0, 1, 2, 3]
