"""Where a workspace's tests run: in the harness process, or in the sandbox.

``inprocess`` executes workspace code inside the harness (fast; fine for the reference
agent, which only edits generated code). ``sandbox`` runs the same ``testrun`` code in a
confined subprocess (``harness.sandbox.box``) and returns the same ``TestReport``, so a
tool layer can switch backends without any change in what the agent is shown.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from harness.core.errors import WallClockTimeout
from harness.sandbox.box import Sandbox, isolation, python_argv, site_dir
from harness.world.state import World
from harness.world.test_server import Outcome, run_in_server
from harness.world.testrun import TestFailure, TestReport, run_test_module
from harness.world.workspace import Workspace, WorldError

TestBackend = Literal["inprocess", "sandbox"]
RunnerFn = Callable[[Workspace, str, float], TestReport]

_HERE = Path(__file__).parent
_RUNNER = _HERE / "sandbox_runner.py"
_TESTRUN = _HERE / "testrun.py"
MARKER = "@@harness-test-report@@"
# Interpreter start-up and file snapshot happen before the in-sandbox alarm starts.
STARTUP_GRACE_S = 5.0


def _report_from_dict(data: dict) -> TestReport:
    failure = data.get("collection_error")
    return TestReport(
        module=data["module"],
        collected=int(data["collected"]),
        passed=[str(t) for t in data["passed"]],
        failures=[TestFailure(**f) for f in data["failures"]],
        collection_error=None if failure is None else TestFailure(**failure),
        timed_out=bool(data["timed_out"]),
        over_budget=bool(data.get("over_budget", False)),
        lines={str(k): [int(n) for n in v] for k, v in (data.get("lines") or {}).items()},
        origins={str(k): int(v) for k, v in (data.get("origins") or {}).items()},
    )


def run_sandboxed_test_module(workspace: Workspace, test_path: str,
                              timeout_s: float = 10.0) -> TestReport:
    """``run_test_module`` with the workspace's code executed in the sandbox."""
    try:
        present = workspace.exists(test_path)
    except WorldError:
        present = False
    if not present:  # nothing of the agent's runs: the in-process answer is the same answer
        return run_test_module(workspace, test_path, timeout_s)
    if isolation().mode in ("privileged", "userns"):
        outcome = run_in_server(workspace.snapshot(), test_path, timeout_s)
    else:
        outcome = _run_fresh(workspace, test_path, timeout_s)
    if outcome.timed_out:
        return _blocked(TestReport(module=test_path, timed_out=True), timeout_s)
    if outcome.report is None:
        return TestReport(test_path, collection_error=TestFailure("<collect>", "SandboxError", outcome.ended))
    report = _report_from_dict(outcome.report)
    return _blocked(report, timeout_s) if report.timed_out else report


def _run_fresh(workspace: Workspace, test_path: str, timeout_s: float) -> Outcome:
    """One fresh sandbox for one run (where no pid namespace makes a server's clean-up exact)."""
    mode = isolation().mode
    with Sandbox(workspace.snapshot()) as box:
        helpers = box.parent / "runner"
        helpers.mkdir()
        shutil.copy(_RUNNER, helpers / _RUNNER.name)
        shutil.copy(_TESTRUN, helpers / _TESTRUN.name)
        helpers.chmod(0o755)
        argv = [*python_argv(mode, box.parent), str(helpers / _RUNNER.name),
                str(helpers / _TESTRUN.name), test_path, repr(timeout_s), site_dir(mode, box.parent)]
        result = box.run(argv, timeout_s=timeout_s + STARTUP_GRACE_S)
    if result.timed_out:
        return Outcome(timed_out=True)
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(MARKER):
            return Outcome(report=json.loads(line[len(MARKER):]))
    tail = result.stderr.strip().splitlines()[-1:] or [""]
    return Outcome(ended=f"test process ended with exit code {result.exit_code} before reporting {tail[0]}"[:300])


def _blocked(report: TestReport, timeout_s: float) -> TestReport:
    """A sandboxed run that reached the wall clock is the code's failure, not the harness's:
    the step budget bounds every line of Python, so only code that blocks outside it (a
    sleep, a wait, a swallowed alarm) gets there; and the process was killed from outside,
    so no ``except BaseException`` could keep it alive."""
    failure = TestFailure("<wall-clock>", "WallClockLimit",
                          f"the test run was stopped after {timeout_s:g} s of wall clock: the code "
                          "blocks outside Python (sleep, wait, I/O) or swallowed the time limit")
    return TestReport(report.module, collection_error=failure)


TEST_BACKENDS: dict[str, RunnerFn] = {
    "inprocess": run_test_module,
    "sandbox": run_sandboxed_test_module,
}


def run_tests(world: World, module: str, timeout_s: float,
              backend: TestBackend = "inprocess") -> TestReport:
    """Run one test module of ``world``'s workspace with the chosen backend. A run stopped
    by the wall clock raises ``WallClockTimeout`` (see ``checked``)."""
    try:
        runner = TEST_BACKENDS[backend]
    except KeyError:
        raise ValueError(f"unknown test backend {backend!r}; known: {sorted(TEST_BACKENDS)}") from None
    suite = world.parts.get("suite")
    if suite is not None:  # a real package: its own pytest suite, always in the sandbox
        return checked(suite.test_report(world.workspace, module, timeout_s), timeout_s)
    path, sep, test = module.partition("::")  # a pytest node id: the module, then one test of it
    report = checked(runner(world.workspace, path, timeout_s), timeout_s)
    return only(report, test) if sep and report.collection_error is None and not report.over_budget else report


def only(report: TestReport, test: str) -> TestReport:
    """The report of one test of a module run (none when the module has no such test)."""
    return TestReport(
        module=report.module,
        collected=int(test in report.passed or any(f.test == test for f in report.failures)),
        passed=[t for t in report.passed if t == test],
        failures=[f for f in report.failures if f.test == test],
    )


def checked(report: TestReport, timeout_s: float) -> TestReport:
    """The report, unless the wall-clock backstop stopped the run: what a run shows must
    never depend on how busy the machine was, so that is the harness's error."""
    if report.timed_out:
        raise WallClockTimeout(f"test run of {report.module} hit the {timeout_s:g} s wall-clock backstop "
                               "before its step budget; the machine is too slow or the code blocks "
                               "outside Python", hint="raise tools' test_timeout_s")
    return report


def bench_test_backends(n: int = 20, modules: int = 5) -> dict[str, float]:
    """Median milliseconds per test-module run for each backend on one small workspace."""
    files = {f"pkg/m{i}.py": f"def f{i}(x):\n    return x + {i}\n" for i in range(modules)}
    files["tests/test_pkg.py"] = "".join(
        f"from pkg.m{i} import f{i}\n\ndef test_f{i}():\n    assert f{i}(1) == {i + 1}\n"
        for i in range(modules)
    )
    world = World(Workspace(files))
    isolation()  # the one-off probe is not part of a run's cost
    out: dict[str, float] = {}
    for name in TEST_BACKENDS:
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            report = run_tests(world, "tests/test_pkg.py", 10.0, name)  # type: ignore[arg-type]
            samples.append((time.perf_counter() - t0) * 1000)
            assert report.ok, report.to_dict()
        out[f"{name}_median_ms"] = statistics.median(samples)
    out["sandbox_overhead_ratio"] = out["sandbox_median_ms"] / out["inprocess_median_ms"]
    return out
