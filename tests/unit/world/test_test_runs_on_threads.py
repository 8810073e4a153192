"""Test runs from several threads of one process (``executor.concurrency``): in-process runs
of workspaces that share module names each see their own code, the wall-clock backstop
works off the main thread and leaves nothing behind, and sandboxed runs at once each get
their own test server."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.sandbox.box import isolation
from harness.world import Workspace, run_test_module
from harness.world.test_backends import run_sandboxed_test_module


def _workspace(value: int) -> Workspace:
    """The same module names in every workspace, a different answer in each."""
    return Workspace({
        "pkg/__init__.py": "",
        "pkg/calc.py": f"def answer():\n    return {value}\n",
        "tests/test_calc.py": (f"from pkg.calc import answer\n\ndef test_answer():\n"
                               f"    for _ in range(2000):\n        assert answer() == {value}\n"),
    })


def test_in_process_runs_on_threads_each_see_their_own_workspace():
    def run(i: int):
        return run_test_module(_workspace(i % 5), "tests/test_calc.py", timeout_s=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        reports = list(pool.map(run, range(40)))
    assert all(r.ok for r in reports), [r.to_dict() for r in reports if not r.ok][:1]


def test_the_wall_clock_backstop_fires_off_the_main_thread_and_leaves_nothing_behind():
    blocking = Workspace({"tests/test_slow.py": "import time\n\ndef test_slow():\n"
                                                "    while True:\n        time.sleep(0.01)\n"})
    quick = Workspace({"tests/test_quick.py": "def test_quick():\n    assert True\n"})

    def run():
        slow = run_test_module(blocking, "tests/test_slow.py", timeout_s=0.5)
        return slow, sys.gettrace(), run_test_module(quick, "tests/test_quick.py", timeout_s=5)

    with ThreadPoolExecutor(max_workers=1) as pool:
        slow, trace, after = pool.submit(run).result(timeout=60)
    assert slow.timed_out and not slow.ok
    assert trace is None  # the step budget's trace function is gone with the run
    assert after.ok, after.to_dict()  # the same thread runs the next test as if nothing happened


@pytest.mark.skipif(isolation().mode not in ("privileged", "userns"), reason="no test server without a pid namespace")
def test_sandboxed_runs_on_threads_each_get_the_right_report():
    def run(i: int):
        return run_sandboxed_test_module(_workspace(i % 3), "tests/test_calc.py", timeout_s=30)

    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(run, range(12)))
    assert all(r.ok and r.passed == ["test_answer"] for r in reports), [r.to_dict() for r in reports][:2]
