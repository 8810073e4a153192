"""The results store survives damage to its write-ahead log.

A run is SIGKILLed mid-way (its last commits live only in ``<store>.wal``); then the log
is damaged the two ways a disk or a dying process damages it:

- torn tail: the last entry cut short. DuckDB drops the incomplete commit by itself, and
  re-running the same command resumes to the undisturbed run's table.
- a flipped byte inside the log: every command refuses the store with one message that
  names the fix, leaving its bytes alone; ``harness store recover`` keeps the commits
  before the damage (and the damaged log, aside); re-running resumes to the same table.
"""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

from harness.store import reader
from tests.conftest import ROOT, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.chaos]
ARGS = ["experiment=smoke", "workload.limit=8", "repeats=2", "store.batch_size=2", "executor.workers=1"]
COMMITTED = re.compile(rb"committed (\d+)/(\d+) episodes")


def _run(db):
    return run_cli("run", *ARGS, f"store.path={db}")


def _digest(*paths):
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    db = tmp_path_factory.mktemp("ref") / "ref.duckdb"
    proc = _run(db)
    assert proc.returncode == 0, proc.stderr
    run_id = reader.latest_run(db)
    return run_id, reader.deterministic_episode_rows(db, run_id)


@pytest.fixture(scope="module")
def killed(tmp_path_factory, reference):
    """A store whose run was SIGKILLed after half its episodes: main file plus a live log."""
    db = tmp_path_factory.mktemp("killed") / "killed.duckdb"
    cmd = [sys.executable, "-m", "harness.cli.main", "run", *ARGS, f"store.path={db}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    for line in proc.stderr:
        m = COMMITTED.search(line)
        if m and int(m.group(1)) >= len(reference[1]) // 2:
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    proc.stderr.close()
    wal = db.with_name(db.name + ".wal")
    assert wal.exists() and wal.stat().st_size > 1000, "the killed run left no write-ahead log to damage"
    return db, wal


def _copy(killed, tmp_path):
    db, wal = killed
    shutil.copy(db, tmp_path / db.name)
    shutil.copy(wal, tmp_path / wal.name)
    return tmp_path / db.name, tmp_path / wal.name


def test_torn_log_tail_is_dropped_and_the_run_resumes(killed, reference, tmp_path):
    db, wal = _copy(killed, tmp_path)
    os.truncate(wal, wal.stat().st_size - 37)  # the last append, cut short
    run_id, rows = reference
    partial = len(reader.episodes(db, run_id))
    assert 0 < partial < len(rows)
    resumed = _run(db)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(rows) - partial} episodes executed, {partial} already stored" in resumed.stderr
    assert reader.deterministic_episode_rows(db, run_id) == rows


def test_damaged_log_is_refused_then_recovered_and_resumed(killed, reference, tmp_path):
    db, wal = _copy(killed, tmp_path)
    damaged = bytearray(wal.read_bytes())
    damaged[len(damaged) * 3 // 5] ^= 0xFF
    wal.write_bytes(bytes(damaged))
    before = _digest(db, wal)

    refused = _run(db)
    assert refused.returncode == 2
    assert "write-ahead log" in refused.stderr and f"harness store recover {db}" in refused.stderr
    assert "Traceback" not in refused.stderr
    report = run_cli("report", "--db", str(db))
    assert report.returncode == 2 and "harness store recover" in report.stderr
    assert _digest(db, wal) == before, "a refused command changed the damaged store"

    recovered = run_cli("store", "recover", str(db))
    assert recovered.returncode == 0, recovered.stderr
    kept = list(tmp_path.glob(wal.name + ".damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == bytes(damaged), "the damaged log was not kept as it was"
    run_id, rows = reference
    partial = len(reader.episodes(db, run_id))
    assert 0 < partial < len(rows)
    assert f"run {run_id}: {partial} episodes stored" in recovered.stdout

    resumed = _run(db)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(rows) - partial} episodes executed, {partial} already stored" in resumed.stderr
    assert reader.deterministic_episode_rows(db, run_id) == rows


def test_recover_leaves_a_healthy_store_alone(reference, tmp_path_factory):
    db = tmp_path_factory.mktemp("healthy") / "ok.duckdb"
    assert _run(db).returncode == 0
    before = _digest(db)
    proc = run_cli("store", "recover", str(db))
    assert proc.returncode == 0 and "nothing to recover" in proc.stdout
    assert _digest(db) == before


def test_recover_names_a_missing_store(tmp_path):
    proc = run_cli("store", "recover", str(tmp_path / "nope.duckdb"))
    assert proc.returncode == 2 and "no results at" in proc.stderr and "Traceback" not in proc.stderr
