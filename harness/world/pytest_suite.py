"""Run a real package's own pytest suite in the sandbox, never in the harness process.

The files (the package as unpacked, possibly mutated or edited by an agent, plus the
test-only dependencies it imports) are materialised in a fresh ``Sandbox``; pytest runs
there from the harness's site-packages with the package root and its dependencies first
on ``sys.path``. A small plugin reports each test's outcome on a private copy of stdout
behind a marker, so nothing the tests print can forge the report.

The limit that decides is deterministic, as for generated test modules
(``harness.world.testrun``): a budget of executed lines of the tree's own code *per test*
(a mutant that loops forever fails its test the same way on an idle and a loaded
machine). The wall clock is only the backstop for code that blocks outside Python; a run
that reaches it says ``timed_out``, which the harness treats as its own error. Plugins that
reorder or cache are off and hashing is seeded. Memory addresses in failure messages
(``<object at 0x7f…>``) are masked: what the agent is shown must not depend on the run.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from harness.sandbox.box import Sandbox, SandboxLimits, isolation, python_argv, site_dir

MARKER = "@@harness-pytest-suite@@"
# Pytest, its plugins and the suites open more files and write more output than one
# generated test module; memory and process limits stay the sandbox's defaults.
LIMITS = SandboxLimits(open_files=512, output_bytes=4 << 20)
# Lines of the tree's code one test may execute (no published source: the largest test of
# the five vendored suites runs about 0.6 M; ten times that still ends in seconds).
STEPS_PER_TEST = 6_000_000
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,16}")

# Runs inside the sandbox (stdlib + the harness's site-packages only).
_RUNNER = r"""
import json, os, sys, threading
site, paths, marker, args, budget = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4]), int(sys.argv[5])
root = os.path.abspath(".")
sys.path[:0] = [os.path.abspath(p) for p in paths]
sys.path.append(site)
out = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # pytest's own report goes nowhere
# The harness's own pytest plugins (notebooks, hypothesis, ...) are not the package's: a
# suite runs with plain pytest, as its authors ran it, and without seconds of their imports.
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
import pytest

class OverBudget(BaseException):
    pass  # BaseException: a test's own ``except Exception`` cannot swallow it

state = {"left": budget, "over": False}
mine = {}

def _line(frame, event, arg):
    if event == "line":
        state["left"] -= 1
        if state["left"] < 0:
            state["over"] = True
            raise OverBudget("step budget of %d lines exhausted" % budget)
    return _line

def _call(frame, event, arg):
    name = frame.f_code.co_filename
    inside = mine.get(name)
    if inside is None:
        inside = mine[name] = name.startswith(root + os.sep)
    return _line if inside else None

def _here(text):  # this sandbox's paths made relative: its name is random, what a run shows is not
    return text.replace(root + os.sep, "").replace(os.path.dirname(root) + os.sep, "../")

def _rel(path):
    path = str(path)
    return os.path.relpath(path, root) if path.startswith(root + os.sep) else None

results = {}
class Collect:
    def pytest_runtest_logstart(self, nodeid, location):
        state["left"], state["over"] = budget, False
        sys.settrace(_call)
        threading.settrace(_call)
    def pytest_runtest_logreport(self, report):
        if report.when == "teardown":
            sys.settrace(None)
            threading.settrace(None)
        if report.when != "call" and not (report.failed or report.skipped):
            return
        if report.nodeid in results and results[report.nodeid]["outcome"] == "failed":
            return
        outcome = "xfailed" if hasattr(report, "wasxfail") else report.outcome
        entry = {"outcome": outcome, "message": "", "path": None, "line": None}
        if state["over"]:
            entry.update(outcome="failed", message="StepBudgetExceeded: step budget of %d lines exhausted" % budget)
        elif report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            if crash is not None:
                entry.update(message=crash.message, path=_rel(crash.path), line=crash.lineno)
            else:
                entry["message"] = str(report.longrepr)[-2000:]
        entry["message"] = _here(entry["message"])[:2000]
        results[report.nodeid] = entry
    def pytest_collectreport(self, report):
        if report.failed:
            results["<collect>" + report.nodeid] = {"outcome": "error",
                                                    "message": _here(str(report.longrepr))[-2000:],
                                                    "path": None, "line": None}
code = pytest.main(args, plugins=[Collect()])
sys.settrace(None)
out.write(marker + json.dumps({"exit": int(code), "results": results}) + "\n")
out.flush()
os._exit(0)  # a suite's leftover non-daemon threads (socket servers) must not hold the run open
"""


@dataclass(frozen=True)
class SuiteConfig:
    """How one package's suite is run: plain data, carried by the world's ``suite`` part."""

    package: str
    tests: tuple[str, ...]  # pytest paths of its whole suite
    pytest_args: tuple[str, ...] = ()
    deselect: tuple[str, ...] = ()
    dep_paths: tuple[str, ...] = ()  # folders (of the dependency files) put on sys.path first

    def argv(self, select: tuple[str, ...] | None, max_failures: int) -> list[str]:
        targets = sorted(select) if select is not None else list(self.tests)
        return ["-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:asyncio",
                f"--maxfail={max_failures}", "--rootdir=.", *self.pytest_args,
                *(f"--deselect={d}" for d in self.deselect), *targets]


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest class
    node_id: str
    outcome: str  # passed | failed | skipped | xfailed | error
    message: str = ""  # pytest's crash line for a failure: what a bug report would quote
    path: str | None = None  # tree path of the crash frame
    line: int | None = None

    @property
    def failing(self) -> bool:
        return self.outcome in ("failed", "error")


@dataclass(frozen=True)
class SuiteReport:
    exit_code: int | None
    outcomes: tuple[TestOutcome, ...] = ()
    timed_out: bool = False
    duration_s: float = 0.0  # wall clock: for benchmarks and notes, never for a verdict
    problem: str = ""  # why no report came back (crash before reporting), else ""
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> tuple[TestOutcome, ...]:
        return tuple(o for o in self.outcomes if o.failing)

    @property
    def all_passed(self) -> bool:
        """Green: pytest said so, nothing failed, and the run was not cut short."""
        return self.exit_code == 0 and not self.failed and not self.timed_out and not self.problem

    def of_file(self, path: str) -> tuple[TestOutcome, ...]:
        return tuple(o for o in self.outcomes if o.node_id.split("::")[0] == path
                     or o.node_id == "<collect>" + path)


_CACHE: OrderedDict[str, SuiteReport] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_LIMIT = 2048


def _key(files: dict[str, str], config: SuiteConfig, select: tuple[str, ...] | None, max_failures: int) -> str:
    h = hashlib.sha256(json.dumps([config.__dict__, select, max_failures, STEPS_PER_TEST], default=list).encode())
    for path in sorted(files):
        h.update(path.encode() + b"\0" + hashlib.sha256(files[path].encode()).digest())
    return h.hexdigest()


def run_suite(files: dict[str, str], config: SuiteConfig, *, select: tuple[str, ...] | None = None,
              max_failures: int = 10_000, timeout_s: float = 180.0) -> SuiteReport:
    """Run the package's tests (or the selected node ids or files) on ``files`` in a fresh
    sandbox. Memoised per process by everything the run can see: it is deterministic given
    its files (a step budget, not the clock, bounds it), and the same trees recur across
    conditions and repeats of one task."""
    key = _key(files, config, select, max_failures)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    report = _run(files, config, select, max_failures, timeout_s)
    if not report.timed_out:
        with _CACHE_LOCK:
            _CACHE[key] = report
            while len(_CACHE) > CACHE_LIMIT:
                _CACHE.popitem(last=False)
    return report


def _run(files: dict[str, str], config: SuiteConfig, select: tuple[str, ...] | None, max_failures: int,
         timeout_s: float) -> SuiteReport:
    mode = isolation().mode
    with Sandbox(files, limits=LIMITS) as box:
        argv = [*python_argv(mode, box.parent), "-c", _RUNNER, site_dir(mode, box.parent),
                json.dumps([".", *config.dep_paths]), MARKER, json.dumps(config.argv(select, max_failures)),
                str(STEPS_PER_TEST)]
        result = box.run(argv, timeout_s=timeout_s)
    if result.timed_out:
        return SuiteReport(None, timed_out=True, duration_s=result.duration_s)
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(MARKER):
            return _parsed(json.loads(line[len(MARKER):]), result.duration_s)
    tail = (result.stderr.strip().splitlines() or [""])[-1]
    return SuiteReport(result.exit_code, duration_s=result.duration_s,
                       problem=f"pytest ended with exit code {result.exit_code} before reporting: {tail}"[:400])


def _parsed(body: dict, duration_s: float) -> SuiteReport:
    outcomes = tuple(TestOutcome(k, v["outcome"], _ADDRESS.sub("0x…", v["message"]), v["path"], v["line"])
                     for k, v in sorted(body["results"].items()))
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    return SuiteReport(body["exit"], outcomes, duration_s=duration_s, counts=counts)
