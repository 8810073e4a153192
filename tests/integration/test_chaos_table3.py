"""Table 3 under real faults: worker processes, SIGKILLs, heartbeat detection, recovery.

Bounded for CI (the whole file runs in well under two minutes on 2 cores). The full run
(>= 200 kills) is ``harness chaos experiment=table3``.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
from pathlib import Path

import duckdb
import pytest

from harness.experiment.chaos.diskworld import DiskWorld
from harness.experiment.chaos.run import run_chaos_experiment
from harness.experiment.chaos.soak import SoakSpec, run_reference
from harness.experiment.chaos.supervisor import Launcher
from harness.experiment.chaos.table3 import perf_events
from harness.experiment.chaos.worker import DIE_ENV, Job
from tests.conftest import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

METRICS = {"checkpoint_write_ms", "checkpoint_bytes", "detection_ms", "recovery_ms", "reexecuted_actions",
           "effects_applied_twice", "final_state_matches", "heartbeat_interval_ms", "heartbeat_timeout_ms"}
SPEC = SoakSpec(seed=5, task="t0", sessions=2, actions=300)


def _run_worker(job: Job) -> int:
    proc = Launcher().start(job)
    proc.join(60)
    return proc.exitcode


def _reference(tmp_path: Path) -> DiskWorld:
    run_reference(SPEC, tmp_path / "reference")
    return DiskWorld(tmp_path / "reference", fsync=False)


def _started(task_dir: Path, attempt: int) -> dict:
    return next(e for e in perf_events(task_dir) if e["event"] == "started" and e["attempt"] == attempt)


def test_small_chaos_run_matches_the_fault_free_run(tmp_path: Path) -> None:
    store = tmp_path / "t3.duckdb"
    chaos = {"tasks": 3, "sessions_per_task": 2, "actions_per_session": 700, "kills": 20,
             "mean_kill_gap_ms": 120.0, "max_chaos_seconds": 30.0, "max_wall_seconds": 90.0,
             "workdir": str(tmp_path)}
    result = run_chaos_experiment({"experiment": "table3", "seed": 11, "run": {"id": "t3-ci"},
                                   "store": {"path": str(store)}, "chaos": chaos})
    assert result.mismatched == [] and result.duplicates == 0
    assert len(result.supervision.kills) == 20  # every configured kill was executed
    con = duckdb.connect(str(store), read_only=True)
    rows = con.execute("SELECT event, metric, value FROM exec_perf WHERE run_id = 't3-ci'").fetchall()
    con.close()
    metrics = {m for _, m, _ in rows}
    assert metrics >= METRICS
    config = {m: v for e, m, v in rows if e == "config"}
    assert config["kills_executed"] == config["kills_configured"] == 20.0
    tasks = result.supervision.tasks
    assert tasks[:3] == ["task00", "task01", "task02"] and config["tasks_run"] == len(tasks)
    matches = [v for _, m, v in rows if m == "final_state_matches"]
    assert matches == [1.0] * (2 * len(tasks))  # every session of every task run (>= 3 tasks x 2)
    assert all(v == 0 for _, m, v in rows if m == "effects_applied_twice")
    detection = [v for _, m, v in rows if m == "detection_ms"]
    assert len(detection) == len(result.supervision.kills)
    assert all(v > 0 for v in detection)  # detected after the kill, never before it
    assert not list(tmp_path.glob("table3-*"))  # scratch removed


def test_work_too_short_for_the_kills_is_extended_with_verified_tasks(tmp_path: Path) -> None:
    """One tiny task ends long before 12 kills are due: more tasks of the same seeded
    sequence are run until every kill has landed, and each is checked like the first."""
    store = tmp_path / "t3.duckdb"
    chaos = {"tasks": 1, "sessions_per_task": 1, "actions_per_session": 150, "kills": 12,
             "mean_kill_gap_ms": 100.0, "max_chaos_seconds": 25.0, "max_wall_seconds": 60.0,
             "workdir": str(tmp_path)}
    result = run_chaos_experiment({"experiment": "table3", "seed": 3, "run": {"id": "t3-extend"},
                                   "store": {"path": str(store)}, "chaos": chaos})
    sup = result.supervision
    assert len(sup.kills) == 12 and result.mismatched == [] and result.duplicates == 0
    assert len(sup.tasks) > 1 and sup.tasks[0] == "task00"
    assert {k.task for k in sup.kills} <= set(sup.tasks)
    matches = result.metric("final_state_matches")
    assert matches.tolist() == [1.0] * len(sup.tasks)


def test_unreachable_kill_count_fails_the_run_and_stores_nothing(tmp_path: Path) -> None:
    store = tmp_path / "short.duckdb"
    proc = run_cli("chaos", "experiment=table3", f"store.path={store}", f"chaos.workdir={tmp_path}",
                   "chaos.tasks=1", "chaos.sessions_per_task=1", "chaos.actions_per_session=100",
                   "chaos.kills=40", "chaos.mean_kill_gap_ms=100", "chaos.max_chaos_seconds=0.5",
                   "chaos.max_wall_seconds=30", timeout=60)
    assert proc.returncode != 0
    m = re.search(r"only (\d+) of the 40 configured kills were executed", proc.stderr)
    assert m and int(m.group(1)) < 40, proc.stderr
    assert "max_chaos_seconds=0.5" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2  # the error and its hint
    assert not store.exists()  # no short run stands in the store as Table 3's
    assert not list(tmp_path.glob("table3-*"))


def test_kill_between_effect_and_completion_is_reconciled_not_reapplied(tmp_path: Path, monkeypatch) -> None:
    ref = _reference(tmp_path)
    seq = next(e.seq for e in ref.entries() if e.session == "t0.s1" and e.seq >= 120)  # an add
    job = Job(dir=str(tmp_path / "t0"), spec=SPEC, checkpoint_every=50)
    monkeypatch.setenv(DIE_ENV, f"after_effect:t0.s1:{seq}")
    assert _run_worker(job) == -signal.SIGKILL
    killed = DiskWorld(tmp_path / "t0" / "world")
    assert killed.value_after("t0.s1", seq) is not None  # the effect reached the disk
    killed.close()
    db = sqlite3.connect(tmp_path / "t0" / "exec.sqlite")
    assert db.execute("SELECT seq FROM intents WHERE session_id='t0.s1' AND result IS NULL").fetchall() == [(seq,)]
    db.close()
    monkeypatch.delenv(DIE_ENV)
    assert _run_worker(job.model_copy(update={"attempt": 1})) == 0
    world = DiskWorld(tmp_path / "t0" / "world")
    assert world.duplicates() == {}
    assert world.digest() == ref.digest()
    assert [e for e in perf_events(tmp_path / "t0") if e["event"] == "reconciled"] == [
        {"attempt": 1, "event": "reconciled", "seq": seq, "session": "t0.s1"}]
    assert _started(tmp_path / "t0", 1)["reexecuted"] == seq - 100 + 1  # from checkpoint 100 to seq


def _flip(blob: bytes) -> bytes:
    mid = len(blob) // 2
    return blob[:mid] + bytes([blob[mid] ^ 0x01]) + blob[mid + 1:]


@pytest.mark.parametrize("damage", [_flip, lambda b: b[:-7]], ids=["flipped-byte", "truncated"])
def test_corrupt_newest_checkpoint_falls_back_to_the_previous_one(tmp_path: Path, monkeypatch, damage) -> None:
    ref = _reference(tmp_path)
    job = Job(dir=str(tmp_path / "t0"), spec=SPEC, checkpoint_every=50)
    monkeypatch.setenv(DIE_ENV, "before_action:t0.s0:230")
    assert _run_worker(job) == -signal.SIGKILL
    db = sqlite3.connect(tmp_path / "t0" / "exec.sqlite")
    seqs = [s for (s,) in db.execute("SELECT seq FROM checkpoints WHERE session_id='t0.s0' ORDER BY seq")]
    assert seqs == [0, 50, 100, 150, 200] or seqs == [50, 100, 150, 200]
    (blob,) = db.execute("SELECT blob FROM checkpoints WHERE session_id='t0.s0' AND seq=200").fetchone()
    db.execute("UPDATE checkpoints SET blob=? WHERE session_id='t0.s0' AND seq=200", (damage(bytes(blob)),))
    db.commit()
    db.close()
    monkeypatch.delenv(DIE_ENV)
    assert _run_worker(job.model_copy(update={"attempt": 1})) == 0
    started = _started(tmp_path / "t0", 1)
    assert (started["from_seq"], started["fallbacks"]) == (150, 1)
    assert started["reexecuted"] == 80  # 150..229 were logged by the dead worker
    world = DiskWorld(tmp_path / "t0" / "world")
    assert world.duplicates() == {}
    assert world.digest() == ref.digest()


def test_perf_log_lines_are_json(tmp_path: Path) -> None:
    job = Job(dir=str(tmp_path / "t0"), spec=SPEC.model_copy(update={"sessions": 1, "actions": 120}),
              checkpoint_every=50)
    assert _run_worker(job) == 0
    lines = (tmp_path / "t0" / "perf.jsonl").read_text().splitlines()
    events = [json.loads(line)["event"] for line in lines]
    assert events == ["started", "checkpoint", "checkpoint", "checkpoint"]  # at 50, 100 and the end


def test_without_reconciliation_the_same_kill_applies_an_effect_twice(tmp_path: Path, monkeypatch) -> None:
    """Negative control: the checks above can fail. With the ledger reconciliation switched
    off, the effect whose completion the kill cut off is applied again on resume."""
    import harness.experiment.chaos.worker as worker_module

    ref = _reference(tmp_path)
    seq = next(e.seq for e in ref.entries() if e.session == "t0.s1" and e.seq >= 120)
    job = Job(dir=str(tmp_path / "t0"), spec=SPEC, checkpoint_every=50)
    monkeypatch.setenv(DIE_ENV, f"after_effect:t0.s1:{seq}")
    assert _run_worker(job) == -signal.SIGKILL
    monkeypatch.delenv(DIE_ENV)
    monkeypatch.setattr(worker_module, "reconcile", lambda *args, **kwargs: None)  # forked child inherits it
    assert _run_worker(job.model_copy(update={"attempt": 1})) == 0
    world = DiskWorld(tmp_path / "t0" / "world")
    assert world.duplicates() == {("t0.s1", seq): 2}
    assert world.digest() != ref.digest()


def test_harness_chaos_runs_table3_by_default_under_the_usual_run_id(tmp_path: Path) -> None:
    """`harness chaos` with no experiment named is `harness chaos experiment=table3`; its
    run id is <experiment>-<config hash>, as it was under `harness run experiment=table3`."""
    from harness.experiment.chaos.run import parse
    from harness.experiment.chaos.table3 import config_hash
    from harness.experiment.config import compose_config

    store = tmp_path / "t3.duckdb"
    small = [f"store.path={store}", f"chaos.workdir={tmp_path}", "chaos.tasks=1", "chaos.sessions_per_task=1",
             "chaos.actions_per_session=300", "chaos.kills=2", "chaos.mean_kill_gap_ms=100",
             "chaos.max_chaos_seconds=30", "chaos.max_wall_seconds=60"]
    proc = run_cli("chaos", *small, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "final_state_matches" in proc.stderr  # the summary lines
    cfg, seed, run_id, _ = parse(compose_config(["experiment=table3", *small]))
    assert run_id == f"table3-{config_hash(cfg, seed)[:10]}"
    con = duckdb.connect(str(store), read_only=True)
    runs = con.execute("SELECT id, experiment FROM runs").fetchall()
    con.close()
    assert runs == [(run_id, "table3")]
