"""`harness chaos` is the chaos experiment's own command: `harness run` refuses a config
with a `chaos` section (naming the command to use) and `harness chaos` refuses one without,
each with one line, exit code 2 and nothing stored. (A real `harness chaos` run is in
test_chaos_table3.py.)"""

from tests.conftest import run_cli


def test_help_lists_the_chaos_command():
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    assert "chaos" in proc.stdout and "Table 3" in proc.stdout


def test_harness_run_refuses_table3_naming_harness_chaos(tmp_path):
    store = tmp_path / "t3.duckdb"
    proc = run_cli("run", "experiment=table3", f"store.path={store}")
    assert proc.returncode == 2, proc.stderr
    assert f"`harness chaos experiment=table3 store.path={store}`" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir())  # no store, no log, no scratch


def test_a_sweep_with_a_chaos_combination_runs_nothing(tmp_path):
    store = tmp_path / "sweep.duckdb"
    proc = run_cli("run", "-m", "experiment=smoke,table3", "workload.limit=2", f"store.path={store}")
    assert proc.returncode == 2, proc.stderr
    assert "harness chaos experiment=table3" in proc.stderr and "episodes executed" not in proc.stderr
    assert not list(tmp_path.iterdir())  # the smoke combination was not run either


def test_harness_chaos_refuses_an_episode_experiment(tmp_path):
    store = tmp_path / "smoke.duckdb"
    proc = run_cli("chaos", "experiment=smoke", f"store.path={store}")
    assert proc.returncode == 2, proc.stderr
    assert "no chaos section" in proc.stderr and "`harness run experiment=smoke`" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir())


def test_harness_chaos_bad_chaos_value_is_a_config_error(tmp_path):
    proc = run_cli("chaos", "chaos.kills=-1", f"store.path={tmp_path / 'x.duckdb'}")
    assert proc.returncode == 2, proc.stderr
    assert "invalid chaos config" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir())
