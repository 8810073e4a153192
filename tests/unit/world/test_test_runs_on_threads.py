"""Test runs from several threads of one process (``executor.concurrency``): in-process runs
of workspaces that share module names each see their own code, the wall-clock backstop
works off the main thread and leaves nothing behind, and sandboxed runs at once each get
their own test server."""

from __future__ import annotations

import sys
import threading
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


NAPPING = Workspace({"tests/test_slow.py": "import time\n\ndef test_slow():\n"
                                           "    while True:\n        time.sleep(0.005)\n"})
SPINNING = Workspace({"tests/test_slow.py": "def test_slow():\n    while True:\n        pass\n"})


@pytest.mark.parametrize("workspace", [NAPPING, SPINNING], ids=["naps: the wall clock", "spins: its CPU time"])
def test_the_backstop_fires_off_the_main_thread_and_leaves_nothing_behind(workspace):
    quick = Workspace({"tests/test_quick.py": "def test_quick():\n    assert True\n"})

    def run():
        # no step budget (max_steps=0): only the backstop can stop the spinning loop
        slow = run_test_module(workspace, "tests/test_slow.py", timeout_s=0.2, max_steps=0)
        return slow, sys.gettrace(), run_test_module(quick, "tests/test_quick.py", timeout_s=5)

    with ThreadPoolExecutor(max_workers=1) as pool:
        slow, trace, after = pool.submit(run).result(timeout=60)
    assert slow.timed_out and not slow.ok and not slow.over_budget
    assert trace is None  # the trace function is gone with the run
    assert after.ok, after.to_dict()  # the same thread runs the next test as if nothing happened


def test_the_backstop_off_the_main_thread_counts_the_run_s_own_cpu_time_not_other_threads_turns():
    """Beside busy threads a run's wall clock passes its limit while it waits for its turns;
    its CPU time does not, so the run ends on its own, as it would alone."""
    work = Workspace({"tests/test_work.py": "def test_work():\n    total = 0\n"
                                            "    for i in range(100_000):\n        total += i\n"})
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            sum(range(100))

    threads = [threading.Thread(target=busy, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            report = pool.submit(run_test_module, work, "tests/test_work.py", 0.5).result(timeout=120)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert report.ok, report.to_dict()


@pytest.mark.skipif(isolation().mode not in ("privileged", "userns"), reason="no test server without a pid namespace")
def test_sandboxed_runs_on_threads_each_get_the_right_report():
    def run(i: int):
        return run_sandboxed_test_module(_workspace(i % 3), "tests/test_calc.py", timeout_s=30)

    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(run, range(12)))
    assert all(r.ok and r.passed == ["test_answer"] for r in reports), [r.to_dict() for r in reports][:2]


STDLIB_IMPORT = Workspace({"pkg/calc.py": "from contextlib import AbstractContextRegistrar\n",
                           "tests/test_calc.py": "from pkg.calc import AbstractContextRegistrar\n\n"
                                                 "def test_it():\n    assert AbstractContextRegistrar\n"})


def test_a_message_naming_the_standard_library_says_where_without_a_machine_path():
    """A rename that reached a standard-library import fails collection with a message
    naming the library's file; its directory (random in a sandbox) must not show."""
    report = run_test_module(STDLIB_IMPORT, "tests/test_calc.py")
    message = report.collection_error.message
    assert "cannot import name 'AbstractContextRegistrar' from 'contextlib' (<stdlib>/contextlib.py)" in message
    assert "/" not in message.replace("<stdlib>/", "")


@pytest.mark.skipif(isolation().mode not in ("privileged", "userns"), reason="no test server without a pid namespace")
def test_the_sandboxed_run_says_the_same_as_the_in_process_one():
    sandboxed = run_sandboxed_test_module(STDLIB_IMPORT, "tests/test_calc.py", timeout_s=30)
    assert sandboxed.collection_error.message == run_test_module(STDLIB_IMPORT, "tests/test_calc.py").collection_error.message
    assert "harness-sandbox" not in sandboxed.collection_error.message
