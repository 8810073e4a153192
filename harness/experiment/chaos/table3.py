"""``harness chaos experiment=table3``: a fault-free reference, a chaos run, verification, result rows.

The reference runs every task's sessions in process with no execution layer at all (an
oracle that shares no code with checkpoints or intents). The chaos run is the supervisor
with real worker processes. The run is correct when every session's ledger entries and
every task's world digest equal the reference's and no effect key appears twice.

``tasks`` is the least work: while kills are pending once every configured task has
started, the supervisor starts task ``tasks``, ``tasks + 1``, ... of the same seeded
sequence (a task's sessions depend only on the seed and its index), each run to its end
and verified like the others, so all ``kills`` land on real work however fast the machine
gets through it. The run fails (``run.KillShortfallError``) if fewer kills were executed.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from harness.core.hashing import stable_hash
from harness.experiment.chaos.diskworld import DiskWorld, Entry
from harness.experiment.chaos.soak import SoakSpec, run_reference
from harness.experiment.chaos.supervisor import (
    Supervision,
    SupervisionSettings,
    Supervisor,
    SupervisorConfig,
)
from harness.experiment.chaos.worker import Job

Row = tuple[str, str | None, str | None, int | None, str, float]  # exec_perf minus run_id


class Table3Config(SupervisionSettings):
    tasks: int = Field(default=4, ge=1)
    sessions_per_task: int = Field(default=3, ge=1)
    actions_per_session: int = Field(default=1000, ge=1)
    cells: int = Field(default=16, ge=1)
    checkpoint_every: int = Field(default=50, ge=1)
    full_every: int = Field(default=10, ge=1)
    synchronous: str = "NORMAL"
    heartbeat_interval_ms: float = Field(default=100.0, gt=0)
    kills: int = Field(default=200, ge=0)  # Table 3 is read from at least 200 kills
    workdir: str | None = None  # parent of the run's scratch directory (default: system temp)
    keep_workdir: bool = False

    def spec(self, seed: int, index: int) -> SoakSpec:
        """The ``index``-th task of the run's sequence (configured ones first, then extras)."""
        return SoakSpec(seed=seed, task=f"task{index:02d}", sessions=self.sessions_per_task,
                        actions=self.actions_per_session, cells=self.cells)

    def specs(self, seed: int) -> list[SoakSpec]:
        """The configured tasks (the least work of the run)."""
        return [self.spec(seed, i) for i in range(self.tasks)]

    def job(self, root: Path, spec: SoakSpec) -> Job:
        return Job(dir=str(root / spec.task), spec=spec, checkpoint_every=self.checkpoint_every,
                   full_every=self.full_every, synchronous=self.synchronous,
                   heartbeat_interval_ms=self.heartbeat_interval_ms)

    def supervisor(self, seed: int) -> SupervisorConfig:
        shared = {name: getattr(self, name) for name in SupervisionSettings.model_fields}
        return SupervisorConfig(**shared, seed=seed)


@dataclass
class Table3Result:
    rows: list[Row]
    supervision: Supervision
    workdir: Path
    mismatched: list[str] = field(default_factory=list)  # sessions whose final state differs
    duplicates: int = 0

    def metric(self, name: str) -> np.ndarray:
        return np.asarray([r[5] for r in self.rows if r[4] == name], dtype=float)

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for name in sorted({r[4] for r in self.rows}):
            v = self.metric(name)
            out[name] = {"n": int(v.size), "median": float(np.median(v)), "p95": float(np.percentile(v, 95)),
                         "p99": float(np.percentile(v, 99)), "max": float(v.max())}
        return out


def perf_events(task_dir: Path) -> Iterator[dict[str, Any]]:
    """The task's perf events; a line a kill cut short cannot occur (one write per line)
    but would be skipped rather than trusted."""
    path = task_dir / "perf.jsonl"
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            continue


def run_table3(cfg: Table3Config, seed: int) -> Table3Result:
    root = Path(tempfile.mkdtemp(prefix="table3-", dir=cfg.workdir))
    try:
        specs = {s.task: s for s in cfg.specs(seed)}
        refs = {task: root / "reference" / task for task in specs}
        for spec in specs.values():
            run_reference(spec, refs[spec.task])

        def more(index: int) -> Job:  # an extra task, while kills are pending
            spec = cfg.spec(seed, index)
            specs[spec.task] = spec
            return cfg.job(root / "chaos", spec)

        jobs = [cfg.job(root / "chaos", s) for s in specs.values()]
        supervision = Supervisor(jobs, cfg.supervisor(seed), more=more).run()
        for task in supervision.tasks[len(jobs):]:  # extras: their fault-free runs, now
            refs[task] = root / "reference" / task
            run_reference(specs[task], refs[task])
        result = Table3Result(rows=[], supervision=supervision, workdir=root)
        result.rows += _config_rows(cfg, supervision)
        for task in supervision.tasks:
            result.rows += _task_rows(specs[task], root / "chaos" / task, refs[task], supervision, result)
        return result
    finally:
        if not cfg.keep_workdir:
            shutil.rmtree(root, ignore_errors=True)


def _config_rows(cfg: Table3Config, sup: Supervision) -> list[Row]:
    values = {"heartbeat_interval_ms": cfg.heartbeat_interval_ms, "heartbeat_timeout_ms": cfg.heartbeat_timeout_ms,
              "checkpoint_every": cfg.checkpoint_every, "poll_ms": cfg.poll_ms,
              "kills_configured": sup.kills_configured, "kills_executed": len(sup.kills),
              "false_suspicions": len(sup.suspicions), "tasks_configured": cfg.tasks, "tasks_run": len(sup.tasks),
              "wall_seconds": sup.wall_s}
    return [("config", None, None, None, k, float(v)) for k, v in values.items()]


def _task_rows(spec: SoakSpec, task_dir: Path, ref_dir: Path, sup: Supervision, result: Table3Result) -> list[Row]:
    events = list(perf_events(task_dir))
    rows: list[Row] = []
    for e in (e for e in events if e["event"] == "checkpoint"):
        rows.append(("checkpoint", None, spec.task, None, "checkpoint_write_ms", float(e["ms"])))
        rows.append(("checkpoint", None, spec.task, None, "checkpoint_bytes", float(e["bytes"])))
        kind = "checkpoint_full_bytes" if e["full"] else "checkpoint_delta_bytes"
        rows.append(("checkpoint", None, spec.task, None, kind, float(e["bytes"])))
    rows += _kill_rows(spec.task, events, sup)
    rows += _session_rows(spec, task_dir, ref_dir, result)
    return rows


def _kill_rows(task: str, events: list[dict[str, Any]], sup: Supervision) -> list[Row]:
    starts: dict[int, dict[str, Any]] = {}
    for e in events:
        if e["event"] == "started":
            starts.setdefault(int(e["attempt"]), e)  # the replacement's first (resumed) session
    rows: list[Row] = []
    for k in (k for k in sup.kills if k.task == task):
        rows.append(("kill", None, task, k.attempt, "detection_ms", (k.detected_ns - k.kill_ns) / 1e6))
        started = starts.get(k.attempt + 1)
        if started is None:  # the replacement was itself killed before it acted
            continue
        rows.append(("kill", None, task, k.attempt, "recovery_ms", (started["t_ns"] - k.detected_ns) / 1e6))
        rows.append(("kill", None, task, k.attempt, "reexecuted_actions", float(started["reexecuted"])))
    return rows


def _session_rows(spec: SoakSpec, task_dir: Path, ref_dir: Path, result: Table3Result) -> list[Row]:
    got, want = DiskWorld(task_dir / "world"), DiskWorld(ref_dir, fsync=False)
    try:
        same_world = got.digest() == want.digest()
        twice = got.duplicates()
        mine, theirs = _by_session(got.entries()), _by_session(want.entries())
    finally:
        got.close()
        want.close()
    rows: list[Row] = []
    for session in spec.session_ids():
        matches = same_world and mine.get(session) == theirs.get(session)
        n_twice = sum(n - 1 for (s, _), n in twice.items() if s == session)
        if not matches:
            result.mismatched.append(session)
        result.duplicates += n_twice
        rows.append(("session", None, session, None, "final_state_matches", float(matches)))
        rows.append(("session", None, session, None, "effects_applied_twice", float(n_twice)))
    return rows


def _by_session(entries: list[Entry]) -> dict[str, list[Entry]]:
    out: dict[str, list[Entry]] = {}
    for e in entries:
        out.setdefault(e.session, []).append(e)
    return out


def config_hash(cfg: Table3Config, seed: int) -> str:
    """What can change the verified outcome; where scratch files go does not."""
    return stable_hash({"seed": seed, **cfg.model_dump(exclude={"workdir", "keep_workdir"})})
