"""Through the CLI: a run with agent errors exits non-zero, stops at the first error unless
``max_errors`` lets it go on, and its report counts the errors apart from failures."""

import json

import pytest

from harness.store import reader
from tests.conftest import run_cli

pytestmark = pytest.mark.slow
FLAKY = '''
import hashlib
from harness.runtime.port import Submit


class Flaky:
    """Raises on about half of the tasks (by a hash of the id), submits nothing elsewhere."""

    def run(self, brief, tools, rng):
        if int(hashlib.sha1(brief.task_id.encode()).hexdigest(), 16) % 2:
            raise ValueError("flaky agent bug")
        yield Submit()
'''
SMALL = ["experiment=smoke", "workload.limit=8", "repeats=1", "executor.workers=1", "agent=custom",
         "agent.import_path=flaky_agent:Flaky"]


@pytest.fixture()
def flaky(tmp_path):
    (tmp_path / "flaky_agent.py").write_text(FLAKY)
    return {"PYTHONPATH": str(tmp_path)}


def test_the_first_agent_error_stops_the_run_and_the_exit_code_says_so(tmp_path, flaky):
    db = tmp_path / "a.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={db}", env=flaky)
    assert proc.returncode == 1, proc.stderr
    assert "agent_error" in proc.stderr and "flaky agent bug" in proc.stderr and "Traceback" not in proc.stderr
    eps = reader.episodes(db, reader.latest_run(db))
    assert 0 < len(eps) < 16  # stopped scheduling after the first job with an error
    bad = eps[eps.termination == "agent_error"]
    assert len(bad) and bad.traceback.str.contains("ValueError: flaky agent bug").all()


def test_max_errors_lets_a_run_go_on_and_the_report_leaves_errors_out(tmp_path, flaky):
    db = tmp_path / "b.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={db}", "max_errors=100", env=flaky)
    assert proc.returncode == 1, proc.stderr  # went on to the end, and still not a clean run
    eps = reader.episodes(db, reader.latest_run(db))
    assert len(eps) == 16
    errors = int((eps.termination == "agent_error").sum())
    assert 0 < errors < 16
    report = run_cli("report", "--db", str(db), "--format", "json", env=flaky)
    assert report.returncode == 0, report.stderr
    assert f"{errors} episode(s) ended in an error" in report.stderr
    doc = json.loads(report.stdout)
    counted = {(t["condition"], t["termination"]): t["episodes"] for t in doc["terminations"]}
    assert sum(n for (_, t), n in counted.items() if t == "agent_error") == errors
    rates = [e for e in doc["estimates"] if e["analysis"] == "completion" and e["category"] == "all"]
    assert rates and all(e["tasks"] == 8 - errors // 2 for e in rates)  # errored tasks are not in the rate
