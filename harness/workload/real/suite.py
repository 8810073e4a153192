"""Run a real package's own pytest suite in the sandbox, never in the harness process.

The tree (the package as unpacked, possibly mutated or edited by an agent) is
materialised in a fresh ``Sandbox``; pytest runs there from the harness's site-packages
with the package root and its vendored dependencies first on ``sys.path``. A small
plugin reports each test's outcome on a private copy of stdout behind a marker, so
nothing the tests print can forge the report.

Deterministic limits: the tests to run are an explicit, sorted selection of node ids
(or the package's whole suite), pytest stops after ``max_failures`` failures, plugins
that reorder or cache are off, hashing is seeded, and a wall-clock timeout bounds the
run; a run that reaches it reports ``timed_out`` and counts as failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from harness.sandbox.box import Sandbox, SandboxLimits, isolation, python_argv, site_dir
from harness.workload.real.vendor import Package, dep_paths

MARKER = "@@harness-real-suite@@"
# Pytest, its plugins and the suites open more files and write more output than one
# generated test module; the memory and process limits stay the sandbox's defaults.
LIMITS = SandboxLimits(open_files=512, output_bytes=4 << 20)

# Runs inside the sandbox (stdlib + the harness's site-packages only).
_RUNNER = r"""
import json, os, sys
site, paths, marker = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
args = json.loads(sys.argv[4])
sys.path[:0] = [os.path.abspath(p) for p in paths]
sys.path.append(site)
out = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # pytest's own report goes nowhere
import pytest
results = {}
class Collect:
    def pytest_runtest_logreport(self, report):
        if report.when != "call" and not (report.failed or report.skipped):
            return
        if report.nodeid in results and results[report.nodeid][0] == "failed":
            return
        outcome = "xfailed" if hasattr(report, "wasxfail") else report.outcome
        message = ""
        if report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            message = crash.message if crash is not None else str(report.longrepr)[-2000:]
        results[report.nodeid] = (outcome, message[:2000])
    def pytest_collectreport(self, report):
        if report.failed:
            results["<collect:" + report.nodeid + ">"] = ("error", str(report.longrepr)[-2000:])
code = pytest.main(args, plugins=[Collect()])
out.write(marker + json.dumps({"exit": int(code), "results": results}) + "\n")
out.flush()
os._exit(0)  # a suite's leftover non-daemon threads (socket servers) must not hold the run open
"""


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest class
    node_id: str
    outcome: str  # passed | failed | skipped | xfailed | error
    message: str = ""  # pytest's crash line for a failure: what a bug report would quote


@dataclass(frozen=True)
class SuiteReport:
    exit_code: int | None
    outcomes: tuple[TestOutcome, ...] = ()
    timed_out: bool = False
    duration_s: float = 0.0
    problem: str = ""  # why no report came back (crash before reporting), else ""
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> tuple[TestOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome in ("failed", "error"))

    @property
    def all_passed(self) -> bool:
        """Green: pytest said so, nothing failed, and the run was not cut short."""
        return self.exit_code == 0 and not self.failed and not self.timed_out and not self.problem


def pytest_args(package: Package, select: tuple[str, ...] | None, max_failures: int) -> list[str]:
    targets = sorted(select) if select is not None else list(package.tests)
    return ["-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist",
            f"--maxfail={max_failures}", "--rootdir=.", *package.pytest_args,
            *(f"--deselect={d}" for d in package.deselect), *targets]


def run_suite(tree: dict[str, str], package: Package, *, select: tuple[str, ...] | None = None,
              max_failures: int = 10_000, timeout_s: float = 120.0) -> SuiteReport:
    """Run the package's tests (or the selected node ids) on ``tree`` in a fresh sandbox."""
    mode = isolation().mode
    paths = [".", *dep_paths(package)]
    with Sandbox(tree, limits=LIMITS) as box:
        argv = [*python_argv(mode, box.parent), "-c", _RUNNER, site_dir(mode, box.parent),
                json.dumps(paths), MARKER, json.dumps(pytest_args(package, select, max_failures))]
        result = box.run(argv, timeout_s=timeout_s)
    if result.timed_out:
        return SuiteReport(None, timed_out=True, duration_s=result.duration_s)
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(MARKER):
            body = json.loads(line[len(MARKER):])
            outcomes = tuple(TestOutcome(k, v[0], v[1]) for k, v in sorted(body["results"].items()))
            counts: dict[str, int] = {}
            for o in outcomes:
                counts[o.outcome] = counts.get(o.outcome, 0) + 1
            return SuiteReport(body["exit"], outcomes, duration_s=result.duration_s, counts=counts)
    tail = (result.stderr.strip().splitlines() or [""])[-1]
    return SuiteReport(result.exit_code, duration_s=result.duration_s,
                       problem=f"pytest ended with exit code {result.exit_code} before reporting: {tail}"[:400])
