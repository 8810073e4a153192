"""One worker process: a task's sessions under the durable execution layer.

    python -m harness.experiment.chaos.worker --job '<Job JSON>'

or ``run_job_json`` in a process forked by the supervisor's forkserver.

State lives only on disk in the task directory ``D``: ``D/world`` (the DiskWorld),
``D/exec.sqlite`` (checkpoints and the intent log), ``D/done.<k>`` (session k ended),
``D/heartbeat`` (CLOCK_MONOTONIC ns of the last beat; the clock is system-wide on Linux,
so the supervisor compares it with its own) and ``D/perf.jsonl`` (perf events).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.core.errors import HarnessError
from harness.experiment.chaos.diskworld import DiskWorld
from harness.experiment.chaos.soak import SoakSpec, agent, perform, reconcile
from harness.runtime.execution.durable import DurableExecution, DurableOptions

# Deterministic fault injection for tests: "<point>:<session>:<seq>", point is
# "after_effect" (SIGKILL right after the effect's fsync, before its completion record)
# or "before_action". It fires once per task directory (a marker file remembers it).
DIE_ENV = "HARNESS_CHAOS_DIE"


class ReplayDivergenceError(HarnessError):
    """The rebuilt agent proposed another action than the recorded one."""


class Job(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dir: str
    spec: SoakSpec
    attempt: int = Field(default=0, ge=0)  # 0 = first start, n = n-th replacement
    checkpoint_every: int = Field(default=50, ge=1)
    full_every: int = Field(default=10, ge=1)
    synchronous: str = "NORMAL"
    heartbeat_interval_ms: float = Field(default=100.0, gt=0)


class Heartbeat:
    """A daemon thread writing ``monotonic_ns`` to a file atomically every interval; it
    dies with the process, which is the point."""

    def __init__(self, path: Path, interval_s: float):
        self.path, self.interval_s = path, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def beat(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        tmp.write_text(str(time.monotonic_ns()))
        os.replace(tmp, self.path)  # a reader never sees a half-written number

    def start(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.beat()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class PerfLog:
    """Append-only JSON lines, one ``write`` each (a kill leaves a line whole or absent)."""

    def __init__(self, path: Path):
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, **event: Any) -> None:
        os.write(self._fd, (json.dumps(event, sort_keys=True) + "\n").encode())

    def close(self) -> None:
        os.close(self._fd)


class _Injector:
    def __init__(self, root: Path):
        spec = os.environ.get(DIE_ENV, "")
        self.point, _, rest = spec.partition(":")
        self.session, _, seq = rest.rpartition(":")
        self.seq = int(seq) if seq else -1
        self.marker = root / f".died.{spec.replace(':', '_').replace('/', '_')}"

    def maybe_die(self, point: str, session: str, seq: int) -> None:
        if (point, session, seq) == (self.point, self.session, self.seq) and not self.marker.exists():
            self.marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)


class SessionRunner:
    """Runs (or resumes) one session to its end."""

    def __init__(self, job: Job, world: DiskWorld, perf: PerfLog, inject: _Injector):
        self.job, self.world, self.perf, self.inject = job, world, perf, inject
        self.root = Path(job.dir)

    def _layer(self) -> DurableExecution:
        return DurableExecution(DurableOptions(checkpoint_every=self.job.checkpoint_every, store="sqlite",
                                               path=str(self.root / "exec.sqlite"), synchronous=self.job.synchronous,
                                               full_every=self.job.full_every))

    def run(self, session: str) -> None:
        layer = self._layer()
        try:
            layer.begin(session)
            self._run(layer, session)
        finally:
            layer.close()

    def _run(self, layer: DurableExecution, session: str) -> None:
        steps = agent(self.job.spec, session)
        action = next(steps)
        snap = layer.resume()
        seq = 0
        if snap is not None:
            for entry in snap.replay:
                if entry["action"] != action:
                    raise ReplayDivergenceError(f"{session}: replay diverged at {entry['action']}")
                action = _send(steps, entry["observation"])
            seq = snap.action_seq
        self.perf.write(event="started", session=session, attempt=self.job.attempt, t_ns=time.monotonic_ns(),
                        from_seq=seq, reexecuted=_logged_from(layer, session, seq),
                        fallbacks=layer.stats["fallbacks"])
        while action is not None:
            self.inject.maybe_die("before_action", session, seq)
            obs = layer.execute(action, lambda a=action, s=seq: self._apply(session, s, a),
                                lambda intent, a=action: self._reconcile(session, intent.seq, a))
            self._record(layer, lambda a=action, o=obs: layer.record(a, o, 0.0, _capture))
            seq += 1
            action = _send(steps, obs)
        self._record(layer, lambda: layer.end_session(_capture) or layer.counters.actions)

    def _apply(self, session: str, seq: int, action: dict[str, Any]) -> dict[str, Any]:
        obs = perform(self.world, session, seq, action)
        if action["op"] == "add":
            self.inject.maybe_die("after_effect", session, seq)
        return obs

    def _reconcile(self, session: str, seq: int, action: dict[str, Any]) -> dict[str, Any] | None:
        found = reconcile(self.world, session, seq, action)
        if found is not None:
            self.perf.write(event="reconciled", session=session, seq=seq, attempt=self.job.attempt)
        return found

    def _record(self, layer: DurableExecution, step: Any) -> None:
        before, fulls = layer.stats["bytes"], layer.stats["full"]
        t0 = time.perf_counter_ns()
        written = step()
        if written is not None:
            ms = (time.perf_counter_ns() - t0) / 1e6
            self.perf.write(event="checkpoint", ms=ms, bytes=layer.stats["bytes"] - before, seq=written,
                            full=layer.stats["full"] > fulls)


def _capture() -> dict[str, Any]:
    return {"rng": {}, "memory": {}, "layers": {}}


def _send(steps: Any, obs: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return steps.send(obs)
    except StopIteration:
        return None


def _logged_from(layer: DurableExecution, session: str, seq: int) -> int:
    """Actions the dead worker had already started at or after ``seq``: the new agent
    proposes them again (re-executed; their effects are answered by the intent log)."""
    n = 0
    while layer.intents is not None and layer.intents.get(session, seq + n) is not None:
        n += 1
    return n


def run_job(job: Job) -> None:
    root = Path(job.dir)
    root.mkdir(parents=True, exist_ok=True)
    beat = Heartbeat(root / "heartbeat", job.heartbeat_interval_ms / 1000.0).start()
    world, perf = DiskWorld(root / "world"), PerfLog(root / "perf.jsonl")
    try:
        runner = SessionRunner(job, world, perf, _Injector(root))
        for k, session in enumerate(job.spec.session_ids()):
            done = root / f"done.{k}"
            if not done.exists():
                runner.run(session)
                done.touch()
    finally:
        world.close()
        perf.close()
        beat.stop()


def run_job_json(text: str) -> None:
    """The entry point of a worker process started by the supervisor."""
    run_job(Job.model_validate_json(text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness.experiment.chaos.worker")
    parser.add_argument("--job", required=True, help="the Job as JSON")
    run_job_json(parser.parse_args(argv).job)
    return 0


if __name__ == "__main__":
    sys.exit(main())
