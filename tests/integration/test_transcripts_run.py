"""Transcripts from real runs (issue 20): every action's arguments and observation and each
session's brief are stored, identical for any executor and after a resume; and a store is
readable by another process while a run writes it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from harness.core.errors import StoreError
from harness.experiment.config import build_run_config
from harness.experiment.runner import run_experiment
from harness.store import reader

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["experiment=smoke", "workload.limit=6", "repeats=2", "progress=false"]
KEY = "condition, task_id, repeat"


def _run(db: Path, *extra: str):
    return run_experiment(build_run_config([*SMALL, f"store.path={db}", *extra]))


def _transcripts(db: Path) -> tuple[list, list]:
    """Every deterministic action column (not the run id or wall-clock latency) and every brief."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        acts = con.execute(f"SELECT * EXCLUDE (run_id, wall_latency_ms) FROM actions ORDER BY {KEY}, seq").fetchall()
        told = con.execute(f"SELECT * EXCLUDE (run_id) FROM briefs ORDER BY {KEY}, session").fetchall()
    finally:
        con.close()
    return acts, told


@pytest.mark.slow
def test_transcripts_are_stored_and_equal_for_any_executor_and_after_a_resume(tmp_path: Path):
    one, two = tmp_path / "w1.duckdb", tmp_path / "w2.duckdb"
    summary = _run(one, "executor.workers=1")
    _run(two, "executor.workers=2")
    acts, told = _transcripts(one)
    assert acts and (acts, told) == _transcripts(two)
    frame = reader.actions(one, summary.run_id, transcript=True)
    assert frame.args.notna().all() and frame.observation.notna().all()  # no crashes in smoke
    eps = reader.episodes(one, summary.run_id)
    first = eps.iloc[0]
    key = (summary.run_id, first.condition, first.task_id, int(first["repeat"]))
    steps = reader.transcript(one, *key)
    assert len(steps) == first.actions and all(isinstance(a, dict) for a in steps.args)
    assert reader.briefs(one, *key)[0].startswith("Task category: ")
    assert len(told) == len(eps)  # smoke tasks have one session each

    # a run killed after some batches: the missing episodes are re-run on resume
    con = duckdb.connect(str(two))
    try:
        for table in ("actions", "briefs", "episodes"):
            con.execute(f"DELETE FROM {table} WHERE task_id IN (SELECT DISTINCT task_id FROM episodes "
                        "ORDER BY task_id LIMIT 3)")
    finally:
        con.close()
    again = _run(two, "executor.workers=2")
    assert again.executed == 3 * 2 * 2
    assert _transcripts(two) == (acts, told)


def _episode_count(db: Path) -> int | None:
    """Episodes stored so far; None while the run has not yet created its store or run."""
    try:
        return len(reader.episodes(db))
    except StoreError as exc:
        if "no results" in str(exc) or "no runs" in str(exc):
            return None
        raise


@pytest.mark.slow
def test_a_store_is_readable_while_a_run_writes_it(tmp_path: Path):
    db, calm = tmp_path / "live.duckdb", tmp_path / "calm.duckdb"
    run = subprocess.Popen([sys.executable, "-m", "harness.cli.main", "run", *SMALL, f"store.path={db}",
                            "store.batch_size=2", "executor.workers=1"],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[int] = []
    try:
        while run.poll() is None:
            n = _episode_count(db)  # never "being written": the writer holds the file per batch only
            if n is not None and run.poll() is None:
                seen.append(n)
            time.sleep(0.05)
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, err[-2000:]
    total = 6 * 2 * 2
    assert seen == sorted(seen) and any(0 < n < total for n in seen), seen  # it watched the run progress
    _run(calm, "executor.workers=1", "store.batch_size=2")
    live_rows = reader.deterministic_episode_rows(db, reader.latest_run(db))
    assert live_rows == reader.deterministic_episode_rows(calm, reader.latest_run(calm))
    assert _transcripts(db) == _transcripts(calm)


@pytest.mark.slow
def test_report_during_a_run_shows_the_estimates_and_stores_none(tmp_path: Path):
    from harness.analysis.report import build_report

    db = tmp_path / "busy.duckdb"
    summary = _run(db, "executor.workers=1")
    holder = subprocess.Popen(  # a run's writer, alive between two batches
        [sys.executable, "-c", "import sys; from harness.store import ResultWriter\n"
         "w = ResultWriter(sys.argv[1]); print('ready', flush=True); sys.stdin.read(); w.close()", str(db)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    notes: list[str] = []
    try:
        assert holder.stdout.readline().strip() == "ready"
        made = build_report(str(db), summary.run_id, resamples=200, note=notes.append)
    finally:
        holder.communicate("", timeout=60)
    assert not made.estimates.empty
    assert any("estimates not stored" in n for n in notes), notes
    assert reader.estimates(db, summary.run_id).empty
