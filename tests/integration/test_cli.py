"""The `harness` command as a user runs it: a smoke run, the report, and every kind of
bad input answered with a short message, exit code 2, and untouched stored results."""

import hashlib

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow
SMALL = ["experiment=smoke", "workload.limit=4", "repeats=1", "executor.workers=1"]


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def smoke_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("cli") / "smoke.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={db}")
    assert proc.returncode == 0, proc.stderr
    assert "episodes executed" in proc.stderr
    return db


def test_report_prints_completion_and_gap_tables(smoke_db):
    proc = run_cli("report", "--db", str(smoke_db))
    assert proc.returncode == 0, proc.stderr
    assert "Completion rate" in proc.stdout and "paired gap" in proc.stdout
    assert "agent_native" in proc.stdout and "code_modification" in proc.stdout


@pytest.mark.parametrize("fmt", ["md", "tex", "csv", "json"])
def test_report_formats(smoke_db, fmt):
    proc = run_cli("report", "--db", str(smoke_db), "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    assert "agent_native" in proc.stdout.replace("\\_", "_")  # tex escapes underscores


def test_unknown_condition_lists_known_ones(smoke_db):
    before = _sha(smoke_db)
    proc = run_cli("run", *SMALL, f"store.path={smoke_db}", "conditions=[tools_typed,nope]")
    assert proc.returncode == 2
    assert "unknown condition 'nope'" in proc.stderr and "tools_shell" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _sha(smoke_db) == before


@pytest.mark.parametrize("override", ["repeats=[1", "=3", "repeats=abc", "no_such_key=1", "experiment=nope"])
def test_malformed_override(smoke_db, override):
    before = _sha(smoke_db)
    proc = run_cli("run", *SMALL, f"store.path={smoke_db}", override)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 3
    assert _sha(smoke_db) == before


def test_results_path_that_is_not_duckdb(tmp_path):
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("these are my notes, not a database\n")
    proc = run_cli("run", *SMALL, f"store.path={bogus}")
    assert proc.returncode == 2
    assert "not a DuckDB" in proc.stderr and "Traceback" not in proc.stderr
    assert bogus.read_text() == "these are my notes, not a database\n"
    proc = run_cli("report", "--db", str(bogus))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_resume_with_changed_config_is_refused(smoke_db):
    first = run_cli("run", *SMALL, f"store.path={smoke_db}", "run.id=fixed")
    assert first.returncode == 0, first.stderr
    before = _sha(smoke_db)
    proc = run_cli("run", *SMALL, f"store.path={smoke_db}", "run.id=fixed", "seed=7")
    assert proc.returncode == 2
    assert "different configuration" in proc.stderr and "Traceback" not in proc.stderr
    assert _sha(smoke_db) == before


def test_report_unknown_run(smoke_db):
    proc = run_cli("report", "--db", str(smoke_db), "--run", "no-such-run")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_multirun_sweeps_over_values(tmp_path):
    db = tmp_path / "sweep.duckdb"
    proc = run_cli("run", "-m", *SMALL, f"store.path={db}", "seed=0,1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("episodes executed") == 2


def test_tasks_validate_and_show():
    proc = run_cli("tasks", "validate", "--workload", "rename", "--limit", "10")
    assert proc.returncode == 0, proc.stderr
    assert "10/10 tasks valid" in proc.stderr
    proc = run_cli("tasks", "show", "rename_symbol-0003", "--workload", "rename")
    assert proc.returncode == 0 and "instructions" in proc.stdout
    proc = run_cli("tasks", "show", "nope", "--workload", "rename")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_report_stores_every_estimate_it_prints(smoke_db):
    from harness.store import reader

    proc = run_cli("report", "--db", str(smoke_db), "--resamples", "500")
    assert proc.returncode == 0, proc.stderr
    assert "Table 2" in proc.stdout and "pass^k" in proc.stdout
    est = reader.estimates(smoke_db)
    assert {"completion", "gap", "pass_k", "accuracy"} <= set(est.analysis)
    gap = est[est.analysis == "gap"]
    assert set(gap.category) >= {"all", "code_modification"}
    assert gap[gap.category == "all"].p_holm.isna().all()  # Holm is across categories only
    assert (gap.mde > 0).all() and (gap.low <= gap.estimate).all() and (gap.estimate <= gap.high).all()
    assert (est.resamples == 500).all()
    again = run_cli("report", "--db", str(smoke_db), "--resamples", "500", "--format", "csv")
    assert again.returncode == 0 and len(reader.estimates(smoke_db)) == len(est)  # replaced, not appended


def test_compare_a_run_with_itself_passes_the_gate(smoke_db):
    proc = run_cli("compare", str(smoke_db), str(smoke_db), "--resamples", "500")
    assert proc.returncode == 0, proc.stderr
    assert "no regression" in proc.stdout


def test_compare_fails_a_run_that_completes_nothing(smoke_db, tmp_path):
    (tmp_path / "idle_agent_cli.py").write_text(
        "from harness.runtime.port import GiveUp\n\n"
        "class Idle:\n"
        "    def run(self, brief, tools, rng):\n"
        "        yield GiveUp(reason='does nothing')\n")
    idle_db = tmp_path / "idle.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={idle_db}", "agent=custom", "agent.import_path=idle_agent_cli:Idle",
                   env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("compare", str(smoke_db), str(idle_db), "--resamples", "500", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert '"regression": true' in proc.stdout


def test_compare_refuses_runs_of_different_workloads(smoke_db, tmp_path):
    other = tmp_path / "other.duckdb"
    proc = run_cli("run", "experiment=smoke", "workload.limit=5", "repeats=1", "executor.workers=1",
                   f"store.path={other}")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("compare", str(smoke_db), str(other))
    assert proc.returncode == 2
    assert "different workloads" in proc.stderr and "Traceback" not in proc.stderr


def test_report_refuses_an_unpaired_run_naming_the_missing_episode(smoke_db, tmp_path):
    import shutil

    import duckdb

    gappy = tmp_path / "gappy.duckdb"
    shutil.copy(smoke_db, gappy)
    con = duckdb.connect(str(gappy))
    task = con.execute("SELECT task_id FROM episodes WHERE condition = 'human' ORDER BY task_id LIMIT 1").fetchone()[0]
    con.execute("DELETE FROM episodes WHERE condition = 'human' AND task_id = ?", [task])
    con.close()
    proc = run_cli("report", "--db", str(gappy), "--resamples", "200")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert task in proc.stderr and "human" in proc.stderr


def test_report_any_pair_of_conditions(smoke_db):
    proc = run_cli("report", "--db", str(smoke_db), "--resamples", "200", "--no-store", "--pair", "human,agent_native")
    assert proc.returncode == 0, proc.stderr
    assert "paired gap human − agent_native" in proc.stdout
    bad = run_cli("report", "--db", str(smoke_db), "--pair", "human,nope")
    assert bad.returncode == 2 and "--pair" in bad.stderr
