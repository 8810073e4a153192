"""Naming what changed under a reused run id (``harness.experiment.config_diff``)."""

from __future__ import annotations

import pytest

from harness.core.errors import ResumeConflictError
from harness.experiment.config import build_run_config
from harness.experiment.config_diff import (
    ABSENT,
    Change,
    config_changes,
    describe,
    explained_conflict,
    relevant,
)
from harness.store import ResultWriter, RunInfo


def test_nested_keys_are_named_by_their_dotted_path_with_old_and_new_values():
    old = {"repeats": 2, "agent": {"profile": {"error_scale": 1, "slip_rate": 0.05}}, "seed": 0}
    new = {"repeats": 3, "agent": {"profile": {"error_scale": 0.5, "slip_rate": 0.05}}, "seed": 0}
    changes = config_changes(old, new)
    assert changes == [Change("agent.profile.error_scale", 1, 0.5), Change("repeats", 2, 3)]
    assert describe(changes) == "agent.profile.error_scale: 1 -> 0.5; repeats: 2 -> 3"


def test_equal_configs_have_no_changes():
    cfg = {"a": {"b": [1, 2]}, "conditions": [{"name": "x", "k": 1}]}
    assert config_changes(cfg, cfg) == []


def test_a_key_present_on_one_side_only_is_absent_on_the_other():
    assert config_changes({"faults": {}}, {"faults": {"crash_rate": 0.1}}) == [
        Change("faults.crash_rate", ABSENT, 0.1)]
    assert describe(config_changes({"a": 1}, {})) == "a: 1 -> (absent)"


def test_conditions_are_compared_by_name_and_their_list_when_it_changes():
    old = [{"name": "human", "layers": {"tools": "shell"}}, {"name": "agent_native", "layers": {"tools": "typed"}}]
    new = [{"name": "human", "layers": {"tools": "typed"}}, {"name": "tools_shell", "layers": {}}]
    assert describe(config_changes({"conditions": old}, {"conditions": new})) == (
        "conditions: [human, agent_native] -> [human, tools_shell]; conditions[human].layers.tools: shell -> typed")


def test_a_reordered_condition_list_is_a_change():
    a, b = {"name": "a"}, {"name": "b"}
    assert config_changes({"conditions": [a, b]}, {"conditions": [b, a]}) == [Change("conditions", ["a", "b"],
                                                                                      ["b", "a"])]


def test_a_long_list_of_changes_is_cut_and_counted_and_long_values_are_shortened():
    changes = config_changes({f"k{i}": i for i in range(9)}, {f"k{i}": i + 1 for i in range(9)})
    assert describe(changes).endswith("k5: 5 -> 6 (and 3 more)")
    assert str(Change("x", "v" * 200, 1)).startswith("x: " + "v" * 59 + "…")


@pytest.mark.parametrize("overrides", [["experiment=smoke"], ["experiment=factorial_smoke", "faults.crash_rate=0.1"]])
def test_relevant_is_the_part_the_config_hash_covers(overrides):
    cfg = build_run_config(overrides)
    assert relevant(cfg.model_dump(mode="json")) == cfg.result_relevant()


def test_execution_keys_and_operational_agent_keys_are_never_named():
    a = build_run_config(["experiment=smoke"]).model_dump(mode="json")
    b = build_run_config(["experiment=smoke", "executor.workers=3", "store.batch_size=7", "max_errors=4"])
    assert config_changes(relevant(a), relevant(b.model_dump(mode="json"))) == []


def test_the_refusal_names_the_changed_keys(tmp_path):
    db = tmp_path / "c.duckdb"
    old = build_run_config(["experiment=smoke", "repeats=2"])
    new = build_run_config(["experiment=smoke", "repeats=3", "agent.profile.error_scale=0.5"])
    info = RunInfo(id="x", experiment="smoke", config=old.model_dump(mode="json"), config_hash=old.config_hash(),
                   workload_hash="w", code_version="v", seed=0, repeats=2, planned_episodes=4, host="h")
    with ResultWriter(db) as w:
        w.begin_run(info)
    refusal = ResumeConflictError("run x exists with a different configuration (hash a, now b)", hint="choose")
    explained = explained_conflict(refusal, db, "x", new.model_dump(mode="json"), new.config_hash())
    assert explained.message == ("run x exists with a different configuration: "
                                 "agent.profile.error_scale: 1.0 -> 0.5; repeats: 2 -> 3")
    assert explained.hint == "choose"
    # the same config hash: the conflict is about something else (workload, a task), left as it was
    assert explained_conflict(refusal, db, "x", old.model_dump(mode="json"), old.config_hash()) is refusal
    assert explained_conflict(refusal, tmp_path / "missing.duckdb", "x", {}, "h") is refusal
