"""A real package's own suite, run in the sandbox: green on the release, red on a bug."""

from __future__ import annotations

from harness.workload.real.suite import run_suite
from harness.workload.real.vendor import load_manifest, package_tree


def test_the_released_six_passes_its_own_suite_in_the_sandbox():
    report = run_suite(package_tree("six"), load_manifest().package("six"))
    assert report.all_passed, report
    assert report.counts["passed"] >= 190


def test_an_injected_bug_fails_the_selected_tests_with_pytests_crash_message():
    package = load_manifest().package("toolz")
    tree = package_tree("toolz")
    path = "toolz/itertoolz.py"
    assert "d[item] += 1" in tree[path]
    tree[path] = tree[path].replace("d[item] += 1", "d[item] += 2", 1)
    report = run_suite(tree, package, select=("toolz/tests/test_itertoolz.py",))
    assert not report.all_passed
    assert any("frequencies" in o.node_id for o in report.failed)
    assert all(o.node_id.startswith("toolz/tests/test_itertoolz.py") for o in report.outcomes)


def test_a_run_past_its_wall_clock_is_reported_timed_out_not_green():
    package = load_manifest().package("six")
    tree = package_tree("six")
    tree["test_six.py"] += "\n\ndef test_zz_blocks():\n    import time\n    time.sleep(60)\n"
    report = run_suite(tree, package, select=("test_six.py::test_zz_blocks",), timeout_s=3)
    assert report.timed_out and not report.all_passed
