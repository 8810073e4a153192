"""The four families on real packages, from the frozen screening: briefs tell what a bug report
or a change request would, never the answer; gold passes; doing nothing and the traps fail."""

from __future__ import annotations

import re

import pytest

from harness.workload.checks import run_checkers
from harness.workload.gold import apply_steps
from harness.workload.registry import get_family
from harness.workload.validation import validate_task
from harness.workload.workloads import WorkloadConfig, build_workload

FAMILIES = ("code_modification/real_fix_bug", "code_review/real_review", "code_modification/real_rename",
            "code_modification/real_add_parameter")


def _tasks(family: str, count: int):
    return build_workload(WorkloadConfig(name="real-test", families=[{"family": family, "count": count}]))


@pytest.mark.parametrize("family", FAMILIES)
def test_tasks_are_drawn_without_replacement_and_spread_over_packages(family):
    tasks = _tasks(family, 10)
    keys = [tuple(sorted((k, str(v)) for k, v in t.params.items() if k in ("mutant", "controls", "rename", "target")))
            for t in tasks]
    assert len(set(keys)) == len(keys)
    assert len({t.params["package"] for t in tasks}) >= 3


def test_a_bug_report_names_the_failing_test_and_its_message_but_not_the_place():
    for t in _tasks("code_modification/real_fix_bug", 10):
        assert t.public["failing_test"] in t.instructions
        assert not re.search(rf"(?<![\w/]){re.escape(t.params['path'])}", t.instructions), t.instructions
        assert f"line {t.params['line']}" not in t.instructions and f":{t.params['line']}" not in t.instructions
        assert t.params["function"].split(".")[-1] not in t.public.values()


def test_a_review_task_diff_shows_two_changes_and_controls_are_one_in_three():
    tasks = _tasks("code_review/real_review", 9)
    assert sum(not t.params["issues"] for t in tasks) == 3
    fam = get_family("code_review/real_review")
    for t in tasks[:3]:
        diff = fam.build_world(t).workspace.read("review/change.diff")
        assert diff.count("\n@@ ") + diff.startswith("@@") >= 1 and "+++ b/" in diff


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_gold_passes_and_the_untouched_world_do_nothing_and_traps_fail(family):
    [task] = _tasks(family, 1)
    result = validate_task(task)
    assert result.ok, result.problems
    world = apply_steps(get_family(family).build_world(task), task.gold)
    assert all(r.passed for r in run_checkers(world, task))
