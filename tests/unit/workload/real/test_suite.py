"""A real package's own suite, run in the sandbox: green on the release, red on a bug, and
bounded by a deterministic step budget per test."""

from __future__ import annotations

from harness.world import World, pytest_suite
from harness.world.components.suite import Suite, as_test_report
from harness.world.pytest_suite import STEPS_PER_TEST, TestOutcome, run_suite
from harness.world.test_backends import run_tests
from harness.world.vendored import dependency_files, suite_config, workspace_files
from harness.world.workspace import Workspace


def test_the_released_six_passes_its_own_suite_in_the_sandbox():
    report = run_suite(workspace_files("six"), suite_config("six"))
    assert report.all_passed, report
    assert report.counts["passed"] >= 190


def test_inflect_passes_with_its_dependencies_beside_the_workspace():
    report = run_suite({**dependency_files("inflect"), **workspace_files("inflect")}, suite_config("inflect"),
                       select=("tests/test_pwd.py",))
    assert report.all_passed, report.failed[:2]


def test_an_injected_bug_fails_the_selected_tests_with_pytests_crash_message():
    tree = workspace_files("toolz")
    path = "toolz/itertoolz.py"
    assert "d[item] += 1" in tree[path]
    tree[path] = tree[path].replace("d[item] += 1", "d[item] += 2", 1)
    report = run_suite(tree, suite_config("toolz"), select=("toolz/tests/test_itertoolz.py",))
    assert not report.all_passed
    failed = [o for o in report.failed if "frequencies" in o.node_id]
    assert failed and failed[0].message.startswith("AssertionError")
    assert all(o.node_id.startswith("toolz/tests/test_itertoolz.py") for o in report.outcomes)


def test_an_endless_loop_fails_its_test_by_the_step_budget_not_the_clock():
    tree = workspace_files("six")
    tree["test_six.py"] += "\n\ndef test_zz_spins():\n    n = 0\n    while True:\n        n += 1\n"
    report = run_suite(tree, suite_config("six"), select=("test_six.py::test_zz_spins",), timeout_s=120)
    assert not report.timed_out
    [outcome] = report.failed
    assert outcome.message == f"StepBudgetExceeded: step budget of {STEPS_PER_TEST} lines exhausted"


def test_memory_addresses_in_messages_are_masked():
    tree = workspace_files("six")
    tree["test_six.py"] += "\n\ndef test_zz_address():\n    assert object() is None\n"
    report = run_suite(tree, suite_config("six"), select=("test_six.py::test_zz_address",))
    [outcome] = report.failed
    assert "0x…" in outcome.message and "0x7" not in outcome.message


def test_a_world_with_a_suite_part_runs_the_tools_test_file_through_pytest():
    world = World(Workspace(workspace_files("toolz")), parts={"suite": Suite("toolz")})
    report = run_tests(world, "toolz/tests/test_dicttoolz.py", 10.0)
    assert report.ok and report.collected >= 20
    assert all("::" not in name or name.count("::") == 1 for name in report.passed)
    snap = world.snapshot()
    assert snap["parts"] == {"suite": {"package": "toolz"}}
    assert World.from_snapshot(snap).digest() == world.digest()


def test_a_collection_error_is_the_reports_collection_error():
    report = as_test_report("t/test_x.py", (TestOutcome("<collect>t/test_x.py", "error", "E   ImportError: nope"),))
    assert report.collection_error is not None and not report.ok


def test_messages_carry_no_trace_of_the_sandboxs_random_path():
    tree = workspace_files("six")
    tree["six.py"] = tree["six.py"].replace("def b(s):", "eif b(s):", 1)
    first = run_suite(tree, suite_config("six"), select=("test_six.py",))
    pytest_suite._CACHE.clear()  # a second real run, not the memo
    second = run_suite(tree, suite_config("six"), select=("test_six.py",))
    [a], [b] = first.failed, second.failed  # collection fails: one report
    assert "SyntaxError" in a.message and "six.py" in a.message
    assert "harness-sandbox" not in a.message and a.message == b.message
