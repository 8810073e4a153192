"""``harness.run`` runs what ``harness run`` runs: the same run id for the same overrides,
resumed (not redone) by either, and read back with the CLI's numbers."""

import pytest

import harness
from tests.conftest import run_cli

pytestmark = pytest.mark.slow
SMALL = ["workload.limit=4", "repeats=1", "executor.workers=1"]


@pytest.fixture(scope="module")
def api_run(tmp_path_factory):
    db = tmp_path_factory.mktemp("api") / "api.duckdb"
    return harness.run("smoke", [*SMALL, f"store.path={db}"])


def test_run_returns_the_finished_run(api_run):
    assert api_run.status == "finished" and api_run.info["episodes_done"] == 8
    assert api_run == harness.open(api_run.db)
    assert len(api_run.episodes) == 8 and not api_run.actions().empty


def test_the_cli_resumes_the_apis_run_and_the_api_resumes_it_again(api_run, capfd):
    proc = run_cli("run", "experiment=smoke", *SMALL, f"store.path={api_run.db}")
    assert proc.returncode == 0, proc.stderr
    assert f"run {api_run.id}: 0 episodes executed, 8 already stored" in proc.stderr
    again = harness.run("smoke", [*SMALL, f"store.path={api_run.db}"], progress=True)
    assert again == api_run and len(again.episodes) == 8
    err = capfd.readouterr().err
    assert "episodes done" in err and "\x1b[" not in err  # plain lines, no terminal escape codes


def test_report_tables_are_the_ones_the_cli_prints(api_run):
    tables = api_run.report(resamples=500)
    proc = run_cli("report", "--db", api_run.db, api_run.id, "--resamples", "500", "--format", "md", "--no-store")
    assert proc.returncode == 0, proc.stderr
    assert [line[4:] for line in proc.stdout.splitlines() if line.startswith("### ")] == list(tables)
    completion = next(f for t, f in tables.items() if t.startswith("Completion rate"))
    row = "| " + " | ".join(completion.iloc[0]) + " |"
    assert row in proc.stdout
    assert not api_run.estimates.empty  # stored by the report


def test_compare_with_itself_is_no_regression(api_run):
    frame = api_run.compare(api_run, resamples=300)
    assert (frame["diff"] == 0).all() and not frame.regression.any()
