"""A checker's test run is believed only where it agrees with the test module's source."""

from __future__ import annotations

import dataclasses

import pytest

from harness.world import Workspace, testrun
from harness.world.verified_tests import disagreement, expected_tests, run_verified

SOURCE = "from pkg import f\n\ndef test_a():\n    assert f(1) == 2\n\n\ndef test_b():\n    x = f(2)\n    assert x == 3\n"
PKG = {"pkg/__init__.py": "def f(x):\n    return x + 1\n", "tests/test_pkg.py": SOURCE}


def honest() -> testrun.TestReport:
    return testrun.TestReport("tests/test_pkg.py", collected=2, passed=["test_a", "test_b"],
                      lines={"test_a": [4], "test_b": [8, 9]}, origins={"test_a": 3, "test_b": 7})


def test_the_source_says_which_tests_and_asserts_must_run():
    exp = expected_tests(SOURCE)
    assert exp.names == ("test_a", "test_b")
    assert exp.first_lines == {"test_a": 3, "test_b": 7}
    assert exp.asserts == {"test_a": ((4, 4),), "test_b": ((9, 9),)}


@pytest.mark.parametrize("change,reason", [
    ({"passed": ["test_a", "test_b", "test_c"], "collected": 3}, "differ"),
    ({"passed": ["test_a"], "collected": 1}, "differ"),
    ({"passed": ["test_a", "test_a"], "collected": 2}, "results for"),
    ({"collected": 5}, "results for"),
    ({"origins": {"test_a": 12, "test_b": 7}}, "ran code from line 12"),
    ({"lines": {"test_a": [], "test_b": [8, 9]}}, "without executing its asserts"),
])
def test_a_report_that_disagrees_with_the_source_is_not_believed(change, reason):
    assert disagreement(honest(), expected_tests(SOURCE)) is None
    forged = dataclasses.replace(honest(), **change)
    assert reason in disagreement(forged, expected_tests(SOURCE))


def test_a_failing_test_needs_no_evidence_of_its_asserts():
    report = dataclasses.replace(honest(), passed=["test_a"], lines={"test_a": [4]},
                                 failures=[testrun.TestFailure("test_b", "AssertionError", "")])
    assert disagreement(report, expected_tests(SOURCE)) is None


def test_an_honest_run_in_the_sandbox_is_believed_and_a_neutered_one_is_not():
    assert run_verified(Workspace(PKG), "tests/test_pkg.py").ok
    neutered = {**PKG, "tests/test_pkg.py": SOURCE + "\ntest_b = lambda: None\n"}
    report = run_verified(Workspace(neutered), "tests/test_pkg.py")
    assert not report.ok and report.collection_error.error_type == "ReportMismatch"
    early = {**PKG, "tests/test_pkg.py": SOURCE.replace("    x = f(2)\n", "    return\n    x = f(2)\n")}
    report = run_verified(Workspace(early), "tests/test_pkg.py")
    assert not report.ok and "without executing its asserts" in report.collection_error.message


def test_a_multi_line_assert_counts_as_run_whichever_of_its_lines_the_tracer_saw():
    src = "from pkg import f\n\ndef test_a():\n    assert (\n        f(1)\n        == 2\n    )\n"
    assert run_verified(Workspace({**PKG, "tests/test_pkg.py": src}), "tests/test_pkg.py").ok


def test_an_unparsable_or_missing_module_fails_without_running():
    assert run_verified(Workspace({"tests/test_x.py": "def test_(:\n"}), "tests/test_x.py").collection_error
    assert "no test module" in run_verified(Workspace({}), "tests/test_x.py").collection_error.message
