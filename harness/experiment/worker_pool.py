"""Worker processes that each run several task jobs at once, on threads (``executor.concurrency``).

An agent that waits on a model spends nearly all of an episode's wall clock waiting for
answers, so one process can keep many episodes in flight: each worker process runs
``threads`` threads, and the requests in flight at the endpoint grow from ``workers`` to
``workers x threads``. (The CPU-bound reference agent gains nothing from threads under the
GIL; with one thread per process ``LocalExecutor`` keeps the standard process pool.)

Each worker has a pipe of its own. The driver (the runner's process, the store's only
writer) sends a worker at most ``threads`` jobs at a time and reads each result back as
soon as that job finishes, so progress and commits stay per job and memory stays flat.
One pipe per worker rather than one shared queue: a worker killed mid-write damages only
its own channel (a shared queue's lock would die with it and stop every other worker),
and the driver knows exactly which jobs the dead worker held. Those run again on a fresh
worker. Nothing is stored twice: only results that came back are stored, and the runner
keys episodes by (condition, task, repeat). A job held by ``MAX_LOSSES`` workers that
died stops the run (it is most likely what kills them).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing import connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

from harness.core.errors import HarnessError
from harness.core.pyast import serialise_parsing

Job = Any
Result = Any
MAX_LOSSES = 2  # a job whose worker died this many times stops the run
JOIN_S = 10.0  # for a worker whose pipe closed to finish exiting


class WorkerLost(HarnessError):
    """Worker processes kept dying while holding the same job."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, as its ``__cause__`` here."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


# -- in the worker process ---------------------------------------------------------------------
def worker_main(conn: connection.Connection, fn: Callable[[Job], Result], threads: int) -> None:
    """The worker: this (main) thread reads jobs off the pipe into a queue that ``threads``
    threads run from; each sends its result back the moment its job is done."""
    serialise_parsing()  # before any thread runs a job
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    send_lock = threading.Lock()  # one message at a time on the shared pipe
    pool = [threading.Thread(target=_serve, args=(fn, inbox, conn, send_lock), name=f"job-{i}", daemon=True)
            for i in range(threads)]
    for thread in pool:
        thread.start()
    try:
        while (item := conn.recv()) is not None:
            inbox.put(item)
    except (EOFError, OSError, KeyboardInterrupt):
        return  # the driver is gone (or interrupted): no one would take the results
    for _ in pool:
        inbox.put(None)
    for thread in pool:  # the jobs in flight finish, and their results go back
        thread.join()


def _serve(fn: Callable[[Job], Result], inbox: queue.SimpleQueue, conn: connection.Connection,
           send_lock: threading.Lock) -> None:
    while (item := inbox.get()) is not None:
        job_id, job = item
        try:
            message = (job_id, True, fn(job))
        except BaseException as exc:  # noqa: BLE001 - raised again in the driver, with this traceback
            message = (job_id, False, (exc, traceback.format_exc()))
        try:
            _send(conn, send_lock, message)
        except OSError:
            return  # the driver is gone


def _send(conn: connection.Connection, send_lock: threading.Lock, message: tuple) -> None:
    try:
        data = ForkingPickler.dumps(message)  # outside the lock: the other threads keep sending
    except Exception as exc:  # noqa: BLE001 - a result that cannot travel is the job's error
        error = RuntimeError(f"a job's result could not be sent back from its worker: {exc}")
        data = ForkingPickler.dumps((message[0], False, (error, traceback.format_exc())))
    with send_lock:
        conn.send_bytes(data)


# -- in the driver -------------------------------------------------------------------------
@dataclass
class _Worker:
    process: Any  # a multiprocessing Process
    conn: connection.Connection
    held: dict[int, Job] = field(default_factory=dict)  # sent, not yet answered


class ThreadedProcessPool:
    """``run(fn, jobs)`` yields each job's result as it finishes, in any order."""

    def __init__(self, context: Any, workers: int, threads: int):
        self.context, self.workers, self.threads = context, workers, threads

    def run(self, fn: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[Result]:
        """``jobs`` is taken lazily, as workers have room: when it ends early, the run ends
        once the jobs in flight are done."""
        todo = _Todo(jobs)
        losses: dict[int, int] = {}
        pool = [self._start(fn) for _ in range(self.workers)]
        try:
            while any(w.held for w in pool) or todo:  # held first: look for a next job only with room
                self._assign(pool, todo)
                connection.wait([w.conn for w in pool] + [w.process.sentinel for w in pool])
                for i, worker in enumerate(pool):
                    dead = not worker.process.is_alive()  # before draining: what it sent first is read
                    messages, closed = _drain(worker.conn)
                    for job_id, ok, value in messages:
                        del worker.held[job_id]
                        yield _outcome(ok, value)
                    if dead or closed:
                        pool[i] = self._replace(worker, fn, todo, losses)
        finally:
            _shutdown(pool)

    def _start(self, fn: Callable[[Job], Result]) -> _Worker:
        ours, theirs = self.context.Pipe(duplex=True)
        process = self.context.Process(target=worker_main, args=(theirs, fn, self.threads), daemon=True)
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def _assign(self, pool: list[_Worker], todo: _Todo) -> None:
        """The next jobs to the least busy workers, up to ``threads`` each (so no job waits
        in a busy worker while another is idle)."""
        while True:
            worker = min(pool, key=lambda w: len(w.held))
            if len(worker.held) >= self.threads or not todo:  # room first: a job is taken only to be sent
                return
            job_id, job = todo.pop()
            worker.held[job_id] = job  # held before sending: a worker that dies now gives it back
            try:
                worker.conn.send((job_id, job))
            except OSError:
                return  # it died; the next wait sees its sentinel

    def _replace(self, worker: _Worker, fn: Callable[[Job], Result], todo: _Todo,
                 losses: dict[int, int]) -> _Worker:
        """A dead worker's unfinished jobs go back to the front of the line; a fresh worker
        takes its place."""
        worker.process.join(JOIN_S)
        code = worker.process.exitcode
        with contextlib.suppress(OSError):
            worker.conn.close()
        for job_id, job in worker.held.items():
            losses[job_id] = losses.get(job_id, 0) + 1
            if losses[job_id] >= MAX_LOSSES:
                raise WorkerLost(f"{MAX_LOSSES} worker processes died holding the same task job "
                                 f"(the last exit code {code}); the run stops",
                                 hint="the same command resumes the run; the job may need more memory")
            todo.again.append((job_id, job))
        worker.held.clear()
        return self._start(fn)


class _Todo:
    """Jobs not yet sent: first those to run again (their worker died), then the next of
    ``jobs``, taken only when a worker has room."""

    def __init__(self, jobs: Iterable[Job]):
        self.again: deque[tuple[int, Job]] = deque()
        self._next = enumerate(jobs)
        self._peeked: tuple[int, Job] | None = None

    def __bool__(self) -> bool:
        if self.again or self._peeked is not None:
            return True
        self._peeked = next(self._next, None)
        return self._peeked is not None

    def pop(self) -> tuple[int, Job]:
        if self.again:
            return self.again.popleft()
        item, self._peeked = self._peeked, None
        return item if item is not None else next(self._next)


def _drain(conn: connection.Connection) -> tuple[list[tuple], bool]:
    """Every message waiting on ``conn``, and whether the other end is gone."""
    messages = []
    try:
        while conn.poll():
            messages.append(conn.recv())
    except (EOFError, OSError):
        return messages, True
    return messages, False


def _outcome(ok: bool, value: Any) -> Result:
    if ok:
        return value
    exc, text = value
    raise exc from RemoteTraceback(text)


def _shutdown(pool: list[_Worker]) -> None:
    """Stop every worker: no new jobs; those in flight finish (their results are dropped,
    as with a process pool), then the workers exit and close their test servers."""
    for worker in pool:
        with contextlib.suppress(OSError, ValueError):
            worker.conn.send(None)
    live = list(pool)
    while live:
        readable = [w.conn for w in live if not w.conn.closed]
        ready = connection.wait(readable + [w.process.sentinel for w in live])
        for worker in list(live):
            if worker.conn in ready and _drain(worker.conn)[1]:
                worker.conn.close()
            if worker.process.sentinel in ready:
                worker.process.join()
                with contextlib.suppress(OSError):
                    worker.conn.close()
                live.remove(worker)
