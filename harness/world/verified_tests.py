"""Test runs whose verdict decides a task: in the sandbox, checked against the test source.

A checker never executes workspace code in the harness process (DESIGN §5, invariant 10):
the run happens in ``harness.sandbox.box``, and the verdict is computed here, outside
it, from the run's report *and* what the test module's own source says must have
happened. The report is only believed where it agrees with that source:

* the tests it names are exactly the module's top-level ``def test_*`` functions, each
  once (an extra callable, a missing test or a different count is a mismatch);
* each passing test ran the code object defined at that ``def`` (rebinding
  ``test_x = lambda: None`` after the definition runs code from another line);
* each passing test executed every ``assert`` written directly in its body (a test
  neutered by an early ``return`` or a replaced body executed none of them).

A report that disagrees is a failure with its reason, never a pass. What this cannot
stop: code in the sandbox that reads the runner's internals and writes a report
consistent with all three (it would have to reproduce the line-level evidence of a run
that passes); the sandbox still keeps such code from touching the harness, the host or
other episodes, and hidden acceptance tests keep their inputs out of the workspace until
the check.

Verdicts are memoised per worker process by the digest of every file the run can see
(the run is deterministic given its files: a step budget, not the clock, bounds it), so
identical final workspaces across conditions and repeats are run once. The memo is shared
by the episodes running at once on a process's threads, so it is locked; two of them
checking the same workspace at the same moment may both run it (the same verdict).
"""

from __future__ import annotations

import ast
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from harness.world.test_backends import run_sandboxed_test_module
from harness.world.testrun import TestFailure, TestReport
from harness.world.workspace import Workspace, WorldError

_CACHE: OrderedDict[str, TestReport] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_LIMIT = 4096


@dataclass(frozen=True)
class ExpectedTests:
    """What the test module's source says a run must show."""

    names: tuple[str, ...]  # top-level test functions, in collection order
    first_lines: dict[str, int]  # the line a test's code object starts at (decorators included)
    # the line span of each assert directly in a test's body (a multi-line assert may report
    # any of its lines as executed, depending on where its evaluation starts)
    asserts: dict[str, tuple[tuple[int, int], ...]]


def expected_tests(source: str) -> ExpectedTests:
    """Raises SyntaxError/ValueError when the source does not parse."""
    tree = ast.parse(source)
    defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
            defs[node.name] = node  # a later definition replaces an earlier one, as at run time
    first = {n: min([d.lineno, *(x.lineno for x in d.decorator_list)]) for n, d in defs.items()}
    asserts = {n: tuple((s.lineno, s.end_lineno or s.lineno) for s in d.body if isinstance(s, ast.Assert))
               for n, d in defs.items()}
    return ExpectedTests(tuple(defs), first, asserts)


def disagreement(report: TestReport, expected: ExpectedTests) -> str | None:
    """Why ``report`` cannot be believed for a module with ``expected`` tests, or None."""
    if report.collection_error is not None or report.over_budget:
        return None  # a run that did not get to the tests claims no pass to verify
    ran = [*report.passed, *(f.test for f in report.failures)]
    if len(ran) != len(set(ran)) or report.collected != len(ran):
        return f"the report names {len(ran)} results for {report.collected} collected tests"
    if sorted(ran) != sorted(expected.names):
        extra = sorted(set(ran) - set(expected.names))
        missing = sorted(set(expected.names) - set(ran))
        return f"the tests run differ from the module's test functions (extra {extra}, missing {missing})"
    for name in report.passed:
        if report.origins.get(name) != expected.first_lines[name]:
            return (f"{name} ran code from line {report.origins.get(name)}, not the test defined "
                    f"at line {expected.first_lines[name]}")
        ran = set(report.lines.get(name, ()))
        skipped = [a for a, b in expected.asserts[name] if not ran.intersection(range(a, b + 1))]
        if skipped:
            return f"{name} passed without executing its asserts at lines {skipped}"
    return None


def _key(files: dict[str, str], module: str, timeout_s: float) -> str:
    h = hashlib.sha256(f"{module}\0{timeout_s!r}\0".encode())
    for path in sorted(files):
        h.update(path.encode("utf-8", "surrogatepass") + b"\0")
        h.update(files[path].encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


def _refused(module: str, error_type: str, message: str) -> TestReport:
    return TestReport(module, collection_error=TestFailure("<verify>", error_type, message[:300]))


def run_verified(workspace: Workspace, module: str, timeout_s: float = 10.0) -> TestReport:
    """The report of ``module``'s tests run in the sandbox, or a failure saying why the
    report could not be believed. Never raises for anything in the workspace."""
    try:
        source = workspace.read(module)
    except WorldError:
        return _refused(module, "FileNotFoundError", f"no test module {module}")
    try:
        expected = expected_tests(source)
    except (SyntaxError, ValueError) as exc:
        return _refused(module, type(exc).__name__, f"{module} does not parse: {exc}")
    files = workspace.snapshot()
    key = _key(files, module, timeout_s)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    report = run_sandboxed_test_module(workspace, module, timeout_s)
    reason = disagreement(report, expected)
    if reason is not None:
        report = _refused(module, "ReportMismatch", f"the test report disagrees with {module}: {reason}")
    with _CACHE_LOCK:
        _CACHE[key] = report
        if len(_CACHE) > CACHE_LIMIT:
            _CACHE.popitem(last=False)
    return report
