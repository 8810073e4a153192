"""Runs on Ray (one local Ray, two CPUs, for the whole module): the same episode rows as the
local pool; an actor killed mid-run and the run still stores every episode once, rows
unchanged; a sweep runs each combination through Ray. Bad input through the real command
(Ray missing, an address nobody answers on, workers < 1): one line, exit 2, nothing stored."""

import os
import signal
import socket
import time

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.experiment import runner
from harness.experiment.config import build_run_config
from harness.experiment.executors import _ray_session as session
from harness.experiment.executors.ray_actors import RayExecutor
from harness.experiment.runner import run_experiment
from harness.store import reader
from tests.conftest import run_cli

pytest.importorskip("ray")
pytestmark = pytest.mark.slow
SMALL = ["experiment=smoke", "workload.limit=6", "repeats=1", "progress=false", "executor.workers=2"]
RAY = ["executor.name=ray"]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One Ray for the module; every run with executor.workers=2 reuses it."""
    session.connect(None, 2)
    yield
    session.shutdown()


@pytest.fixture(scope="module")
def local_rows(tmp_path_factory):
    db = tmp_path_factory.mktemp("local") / "r.duckdb"
    summary = run_experiment(build_run_config([*SMALL, f"store.path={db}"]))
    return reader.deterministic_episode_rows(db, summary.run_id)


@pytest.fixture
def built(monkeypatch):
    """The executors the runner builds, in order."""
    made = []

    def spy(section, where="executor", **kwargs):
        made.append(runner_make(section, where, **kwargs))
        return made[-1]

    runner_make = runner.make_executor
    monkeypatch.setattr(runner, "make_executor", spy)
    return made


def _stored(db, run_id):
    eps = reader.episodes(db, run_id)
    keys = list(zip(eps.condition, eps.task_id, eps["repeat"], strict=True))
    return keys, reader.deterministic_episode_rows(db, run_id)


def test_ray_stores_the_rows_the_local_pool_stores(tmp_path, local_rows, built):
    db = tmp_path / "r.duckdb"
    summary = run_experiment(build_run_config([*SMALL, *RAY, f"store.path={db}"]))
    keys, rows = _stored(db, summary.run_id)
    assert isinstance(built[0], RayExecutor) and built[0].lost_jobs == 0
    assert summary.executed == summary.planned == len(keys) == len(set(keys)) == 12
    assert rows == local_rows


def test_ray_actors_running_jobs_on_threads_store_the_rows_of_one_at_a_time(tmp_path, built):
    """A model agent's episodes at once on each actor (a threaded actor): the rows and the
    recorded exchanges are those of one job at a time in one process."""
    mock = ["agent=mock", "workload.limit=4"]
    db = tmp_path / "r.duckdb"
    one = run_experiment(build_run_config([*SMALL, *mock, "executor.workers=1", "executor.concurrency=1",
                                           f"store.path={tmp_path / 'one.duckdb'}"]))
    summary = run_experiment(build_run_config([*SMALL, *mock, *RAY, "executor.concurrency=4",
                                               f"store.path={db}"]))
    assert built[-1].options.concurrency == 4 and built[-1].pool.threads == 4
    keys, rows = _stored(db, summary.run_id)
    assert len(keys) == len(set(keys)) == 8
    assert rows == reader.deterministic_episode_rows(tmp_path / "one.duckdb", one.run_id)
    exchanges = reader.exchanges(db, summary.run_id).drop(columns="run_id")
    reference = reader.exchanges(tmp_path / "one.duckdb", one.run_id).drop(columns="run_id")
    assert len(exchanges) > 8
    assert sorted(exchanges.itertuples(index=False, name=None)) == sorted(reference.itertuples(index=False, name=None))


def test_the_ray_bench_measures_ray_beside_the_local_pool_and_leaves_a_running_ray_up():
    from harness.experiment.throughput import ray_vs_local

    out = ray_vs_local(workers=2, overrides=["workload.limit=2", "repeats=1"])
    assert out["local"]["episodes"] == out["ray"]["episodes"] == out["ray_warm"]["episodes"] == 4
    assert out["ratio_ray_over_local"] == round(out["ray"]["episodes_per_s"] / out["local"]["episodes_per_s"], 2)
    assert session.require_ray().is_initialized()  # the module's Ray: used, not stopped


def slow_job(job, spending=None):
    """A task job that takes long enough for a kill to land while jobs are in flight."""
    time.sleep(1.0)
    return runner_task_job(job, spending)


runner_task_job = runner.run_task_job


@pytest.mark.chaos
def test_a_killed_actor_loses_nothing_and_stores_nothing_twice(tmp_path, local_rows, built, monkeypatch):
    monkeypatch.setattr(runner, "run_task_job", slow_job)
    killed = []

    def kill_one_after_the_first_result(done, planned, committed):
        pool = built[0].pool if built else None
        if killed or pool is None or done == 0:
            return
        victim = max(pool.actors, key=lambda a: a.load)  # one with jobs in flight
        killed.append(victim.pid)
        os.kill(victim.pid, signal.SIGKILL)  # as a lost machine or the OOM killer would

    db = tmp_path / "r.duckdb"
    summary = run_experiment(build_run_config([*SMALL, *RAY, f"store.path={db}"]),
                             on_progress=kill_one_after_the_first_result)
    keys, rows = _stored(db, summary.run_id)
    assert killed and built[0].lost_jobs >= 1  # the kill cost jobs, and they ran again
    assert summary.executed == summary.planned == len(keys) == len(set(keys)) == 12
    assert rows == local_rows


def test_a_sweep_runs_every_combination_through_ray(tmp_path, built):
    db = tmp_path / "sweep.duckdb"
    result = CliRunner().invoke(app, ["run", "-m", *SMALL[:-1], "workload.limit=3", *RAY, "executor.workers=2",
                                      "seed=0,1", f"store.path={db}"])
    assert result.exit_code == 0, result.output
    runs = reader.list_runs(db)
    assert len(runs) == 2 and len(built) == 2
    assert all(isinstance(e, RayExecutor) for e in built)
    for run_id in runs.id:
        keys, _ = _stored(db, run_id)
        assert len(keys) == len(set(keys)) == 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _refused(tmp_path, *overrides, env=None):
    db = tmp_path / "r.duckdb"
    proc = run_cli("run", *SMALL, *RAY, f"store.path={db}", *overrides, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2, proc.stderr
    assert not db.exists()
    return proc.stderr


def test_ray_missing_is_one_line_exit_2_nothing_stored(tmp_path):
    fake = tmp_path / "site" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError(\"No module named 'ray'\")\n")
    path = os.pathsep.join(p for p in [str(fake.parent), os.environ.get("PYTHONPATH")] if p)
    err = _refused(tmp_path, env={"PYTHONPATH": path})
    assert "executor.name=ray needs Ray, which is not installed" in err and "pip install" in err


def test_an_unreachable_address_is_one_line_exit_2_nothing_stored(tmp_path):
    err = _refused(tmp_path, f"executor.address=127.0.0.1:{_free_port()}")
    assert "no Ray cluster answers there" in err


def test_no_workers_is_one_line_exit_2_nothing_stored(tmp_path):
    assert "executor.workers" in _refused(tmp_path, "executor.workers=0")


def test_a_concurrency_below_one_is_one_line_exit_2_nothing_stored(tmp_path):
    assert "executor.concurrency" in _refused(tmp_path, "executor.concurrency=0")
