"""The CLI a person meets (issue 20 item 6), through the real command: ``harness runs``,
Ctrl-C / SIGTERM during ``harness run`` (stored, marked stopped, resumed), ``report`` on an
incomplete run, ``run --help``, Hydra's own error text, and a changed config's keys."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess

import duckdb
import pytest

from harness.store import reader
from tests.conftest import HARNESS, ROOT, run_cli

pytestmark = pytest.mark.slow
SMALL = ["experiment=smoke", "workload.limit=4", "repeats=1", "executor.workers=1"]
STOPPED = re.compile(r"^stopped: (\d+)/168 episodes stored; run the same command again to resume$", re.M)


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("wb") / "small.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={db}", "run.id=small")
    assert proc.returncode == 0, proc.stderr
    return db


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_runs_lists_each_run_as_a_table_and_as_json(small_db):
    proc = run_cli("runs", "--db", str(small_db))
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if "small" in line and "smoke" in line)
    assert "finished" in row and "8/8" in row
    doc = json.loads(run_cli("runs", "--db", str(small_db), "--json").stdout)
    assert [(r["id"], r["experiment"], r["status"], r["episodes_done"], r["planned_episodes"]) for r in doc] == [
        ("small", "smoke", "finished", 8, 8)]
    assert doc[0]["started"] and doc[0]["finished"]


def test_runs_on_a_missing_or_empty_store_is_one_line_and_exit_2(tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    for db in (tmp_path / "missing.duckdb", empty):
        proc = run_cli("runs", "--db", str(db))
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""
    assert not (tmp_path / "missing.duckdb").exists()


def _interrupted(db, sig, *, group: bool, workers: int, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """``harness run experiment=smoke`` (168 episodes, a commit every 5) sent ``sig`` once
    at least 10 episodes are committed; ``group``: to its whole process group, as a
    terminal's Ctrl-C is (the pool's workers get it too)."""
    args = [*HARNESS, "run", "experiment=smoke", f"executor.workers={workers}", f"store.path={db}",
            "store.batch_size=5", *extra]
    # SIGINT as a terminal leaves it (a test run started in the background by a
    # non-interactive shell would hand the child SIGINT ignored, and a run keeps that)
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=group,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    try:
        while line := proc.stderr.readline():  # one "committed N/168" line per commit off a terminal
            seen.append(line)
            match = re.match(r"committed (\d+)/", line)
            if match and int(match.group(1)) >= 10:
                break
        os.killpg(proc.pid, sig) if group else proc.send_signal(sig)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(args, proc.returncode, out, "".join(seen) + err)


def _stored_whole(db, run_id):
    eps, acts = reader.episodes(db, run_id), reader.actions(db, run_id)
    per_episode = acts.groupby(["condition", "task_id", "repeat"]).size()
    for ep in eps.itertuples():
        assert per_episode.get((ep.condition, ep.task_id, ep.repeat), 0) == ep.actions


def test_ctrl_c_stores_what_finished_marks_the_run_stopped_and_the_same_command_resumes(tmp_path):
    db = tmp_path / "s.duckdb"
    proc = _interrupted(db, signal.SIGINT, group=False, workers=1)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "Aborted" not in proc.stderr
    stored = int(STOPPED.search(proc.stderr).group(1))
    run_id = reader.latest_run(db)
    info = reader.run_info(db, run_id)
    assert info["status"] == "stopped" and info["episodes_done"] == stored and 10 <= stored < 168
    _stored_whole(db, run_id)

    listed = run_cli("runs", "--db", str(db))
    assert "stopped" in listed.stdout and f"{stored}/168" in listed.stdout
    report = run_cli("report", "--db", str(db), "--resamples", "200", "--no-store")
    assert report.returncode == 0, report.stderr
    header = (f"INCOMPLETE: {stored} of 168 episodes stored (run stopped); "
              "estimates cover the stored episodes only")
    assert report.stdout.splitlines()[0] == header  # before any number
    for fmt in ("md", "tex"):
        assert header in run_cli("report", "--db", str(db), "--resamples", "200", "--no-store", "--format",
                                 fmt).stdout
    doc = json.loads(run_cli("report", "--db", str(db), "--resamples", "200", "--no-store", "--format",
                             "json").stdout)
    assert doc["incomplete"] == header

    again = run_cli("run", "experiment=smoke", "executor.workers=1", f"store.path={db}")
    assert again.returncode == 0, again.stderr
    assert f"{168 - stored} episodes executed, {stored} already stored" in again.stderr
    info = reader.run_info(db, run_id)
    assert (info["status"], info["episodes_done"]) == ("finished", 168)
    assert "finished" in run_cli("runs", "--db", str(db)).stdout
    done = run_cli("report", "--db", str(db), "--resamples", "200", "--no-store")
    assert "INCOMPLETE" not in done.stdout


@pytest.mark.parametrize(("sig", "group", "extra"), [
    (signal.SIGINT, True, ()),  # a process pool
    (signal.SIGINT, True, ("executor.concurrency=2",)),  # worker processes running jobs on threads
    (signal.SIGTERM, False, ()),
])
def test_ctrl_c_to_the_process_group_and_sigterm_stop_a_pooled_run_the_same_way(tmp_path, sig, group, extra):
    db = tmp_path / "p.duckdb"
    proc = _interrupted(db, sig, group=group, workers=2, extra=extra)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr  # the workers ignore SIGINT: no traceback from each of them
    stored = int(STOPPED.search(proc.stderr).group(1))
    run_id = reader.latest_run(db)
    assert reader.run_info(db, run_id)["status"] == "stopped"
    assert reader.run_info(db, run_id)["episodes_done"] == stored
    _stored_whole(db, run_id)


def test_run_help_lists_experiments_and_config_keys():
    proc = run_cli("run", "--help", env={"COLUMNS": "100"})
    assert proc.returncode == 0, proc.stderr
    assert "Usage: harness run [-m] [key=value ...]" in proc.stdout
    for word in ("smoke", "table2", "factorial_smoke", "seed=0", "repeats=1", "run.id=null", "executor",
                 "workers", "store", "layers.<layer>.config.<key>"):
        assert word in proc.stdout, word


def test_a_mistyped_experiment_shows_hydras_message_with_its_options():
    proc = run_cli("run", "experiment=smok")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2
    assert "Could not find 'experiment/smok'" in lines[0]
    assert "Available options in 'experiment':" in lines[1] and "smoke," in lines[1] and "table2" in lines[1]


def test_a_changed_config_under_a_run_id_names_the_keys_that_differ(small_db):
    before = _sha(small_db)
    proc = run_cli("run", *SMALL, f"store.path={small_db}", "run.id=small", "seed=7",
                   "agent.profile.error_scale=0.5")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "agent.profile.error_scale: 1.0 -> 0.5; seed: 0 -> 7" in proc.stderr
    assert _sha(small_db) == before
