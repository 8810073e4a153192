"""The runner in-process: one row per episode, determinism across runs and worker counts,
resume skipping finished episodes, and condition names that change nothing."""

import shutil

import pandas as pd
import pytest

from harness.core.models import TERMINATIONS
from harness.experiment.config import build_run_config
from harness.experiment.runner import run_experiment
from harness.store import reader

SMALL = ["experiment=smoke", "workload.limit=6", "repeats=2", "progress=false"]


def _run(tmp_path, name, *extra):
    db = tmp_path / f"{name}.duckdb"
    cfg = build_run_config([*SMALL, f"store.path={db}", *extra])
    summary = run_experiment(cfg)
    return db, summary


def test_one_row_per_condition_task_repeat(tmp_path):
    db, summary = _run(tmp_path, "a", "executor.workers=1")
    eps = reader.episodes(db, summary.run_id)
    assert len(eps) == 6 * 2 * 2 == summary.planned
    keys = set(zip(eps.condition, eps.task_id, eps["repeat"], strict=True))
    assert len(keys) == len(eps)
    assert set(eps.condition) == {"agent_native", "human"}
    assert set(eps.termination) <= set(TERMINATIONS)
    assert (eps.termination != "harness_error").all(), eps[eps.termination == "harness_error"].error.tolist()
    acts = reader.actions(db, summary.run_id)
    assert len(acts) == int(eps.actions.sum())


def test_same_seed_same_rows_any_worker_count(tmp_path):
    db1, s1 = _run(tmp_path, "w1", "executor.workers=1")
    db2, s2 = _run(tmp_path, "w2", "executor.workers=2")
    db3, s3 = _run(tmp_path, "w1again", "executor.workers=1")
    assert s1.run_id == s2.run_id == s3.run_id
    rows1 = reader.deterministic_episode_rows(db1, s1.run_id)
    assert rows1 == reader.deterministic_episode_rows(db2, s2.run_id)
    assert rows1 == reader.deterministic_episode_rows(db3, s3.run_id)


def test_different_seed_changes_rows(tmp_path):
    db1, s1 = _run(tmp_path, "s0", "executor.workers=1", "seed=0", "agent.profile.slip_rate=0.3")
    db2, s2 = _run(tmp_path, "s1", "executor.workers=1", "seed=1", "agent.profile.slip_rate=0.3")
    assert s1.run_id != s2.run_id
    r1 = [r[1:] for r in reader.deterministic_episode_rows(db1, s1.run_id)]
    r2 = [r[1:] for r in reader.deterministic_episode_rows(db2, s2.run_id)]
    assert r1 != r2


def test_rerun_executes_nothing_and_changes_nothing(tmp_path):
    db, s1 = _run(tmp_path, "r", "executor.workers=1")
    before = reader.deterministic_episode_rows(db, s1.run_id)
    _, s2 = _run(tmp_path, "r", "executor.workers=1")
    assert s2.executed == 0 and s2.already_done == s1.planned
    assert reader.deterministic_episode_rows(db, s1.run_id) == before


def test_a_preset_copied_under_a_new_name_gives_identical_episodes(tmp_path, monkeypatch):
    from harness.experiment.config import config_dir

    configs = tmp_path / "configs"
    shutil.copytree(config_dir(), configs)
    (tmp_path / "workloads").symlink_to(config_dir().parent / "workloads")  # manifests live beside configs/
    shutil.copy(configs / "condition" / "human.yaml", configs / "condition" / "renamed_copy.yaml")
    monkeypatch.setenv("HARNESS_CONFIG_DIR", str(configs))
    db_a, sa = _run(tmp_path, "orig", "executor.workers=1", "conditions=[human]", "compare=null",
                    "faults.crash_rate=0.05")
    db_b, sb = _run(tmp_path, "copy", "executor.workers=1", "conditions=[renamed_copy]", "compare=null",
                    "faults.crash_rate=0.05")
    a = reader.episodes(db_a, sa.run_id).drop(columns=["run_id", "condition", "wall_seconds"])
    b = reader.episodes(db_b, sb.run_id).drop(columns=["run_id", "condition", "wall_seconds"])
    pd.testing.assert_frame_equal(a, b)  # NaN-aware: an absent time to diagnosis equals itself


@pytest.mark.parametrize("cond", ["tools_typed", "tools_shell"])
def test_perfect_agent_completes_every_task_in_every_condition(tmp_path, cond):
    """Invariant 6: with no agent errors, the tool layer alone decides nothing."""
    perfect = ["agent.profile.slip_rate=0", "agent.profile.malformed_call_rate=0", "agent.profile.misread_rate=0",
               "agent.profile.context_capacity=10000"]
    db, s = _run(tmp_path, cond, "executor.workers=1", f"conditions=[{cond}]", "compare=null", "repeats=1",
                 "workload.limit=10", *perfect)
    eps = reader.episodes(db, s.run_id)
    assert eps.success.all(), eps[~eps.success][["task_id", "termination", "check_detail"]].to_dict("records")
