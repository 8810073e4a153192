"""Workload building: deterministic, stratified subsets, task ids stable under limits."""

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.workload.workloads import (
    WorkloadConfig,
    _Slot,
    _stratified_subset,
    build_workload,
    workload_hash,
)

RENAME = {"family": "code_modification/rename_symbol", "count": 12}


def test_same_config_same_tasks():
    cfg = WorkloadConfig(name="w", families=[RENAME])
    assert workload_hash(build_workload(cfg)) == workload_hash(build_workload(cfg))


def test_a_limited_workload_is_a_subset_of_the_full_one():
    full = {t.id: t for t in build_workload(WorkloadConfig(name="w", families=[RENAME]))}
    part = build_workload(WorkloadConfig(name="w", families=[RENAME], limit=5))
    assert len(part) == 5
    assert all(full[t.id] == t for t in part)


def test_workload_seed_changes_tasks():
    a = build_workload(WorkloadConfig(name="w", seed=0, families=[RENAME]))
    b = build_workload(WorkloadConfig(name="w", seed=1, families=[RENAME]))
    assert workload_hash(a) != workload_hash(b)


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=60), st.integers(1, 60), st.integers(0, 9))
@settings(max_examples=200)
def test_stratified_subset_keeps_the_category_mix(cats, limit, seed):
    slots = [_Slot(f"{c}/f", c, i, 1) for i, c in enumerate(cats)]
    chosen = _stratified_subset(slots, min(limit, len(slots)), seed)
    assert len(chosen) == min(limit, len(slots))
    assert len({s.task_id for s in chosen}) == len(chosen)
    for c in set(cats):
        share = cats.count(c) * len(chosen) / len(cats)
        got = sum(s.category == c for s in chosen)
        assert abs(got - share) < 1 + 1e-9  # largest remainder: within one of the exact share


def test_a_scenario_is_a_configured_family():
    quota = {"family": "code_modification/rename_symbol", "count": 3, "difficulties": [2],
             "scenario": "refactoring", "overrides": {"n_modules": 60}}
    tasks = build_workload(WorkloadConfig(name="s", families=[quota]))
    assert [t.id for t in tasks] == ["refactoring-0000", "refactoring-0001", "refactoring-0002"]
    assert all(t.scenario == "refactoring" and t.params["n_modules"] == 60 for t in tasks)
