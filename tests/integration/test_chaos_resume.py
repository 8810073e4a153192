"""Kill -9 the runner mid-run, run the same command again: the final episodes table is
the same as an uninterrupted run's, and no finished episode is redone."""

import os
import re
import signal
import subprocess
import sys

import pytest

from harness.store import reader
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.chaos]
ARGS = ["experiment=smoke", "workload.limit=10", "repeats=2", "store.batch_size=2"]
COMMITTED = re.compile(rb"committed (\d+)/(\d+) episodes")


def _cmd(db, workers):
    return [sys.executable, "-m", "harness.cli.main", "run", *ARGS, f"store.path={db}", f"executor.workers={workers}"]


def _kill_after_commits(db, workers, at_least):
    """Start a run, SIGKILL its whole process group once `at_least` episodes are committed."""
    proc = subprocess.Popen(_cmd(db, workers), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    seen = 0
    for line in proc.stderr:
        m = COMMITTED.search(line)
        if m and int(m.group(1)) >= at_least:
            seen = int(m.group(1))
            os.killpg(proc.pid, signal.SIGKILL)  # the runner and its workers, no goodbye
            break
    proc.wait()
    proc.stderr.close()
    return seen


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_then_resume_matches_uninterrupted(tmp_path, workers):
    ref_db = tmp_path / "ref.duckdb"
    ref = subprocess.run(_cmd(ref_db, 1), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr
    run_id = reader.latest_run(ref_db)
    planned = len(reader.episodes(ref_db, run_id))

    db = tmp_path / "chaos.duckdb"
    seen = _kill_after_commits(db, workers, at_least=planned // 3)
    assert 0 < seen < planned
    partial = len(reader.episodes(db, run_id))
    assert seen <= partial < planned, "a reported commit was lost, or the run was not interrupted"

    resumed = subprocess.run(_cmd(db, workers), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{planned - partial} episodes executed, {partial} already stored" in resumed.stderr
    assert reader.deterministic_episode_rows(db, run_id) == reader.deterministic_episode_rows(ref_db, run_id)
