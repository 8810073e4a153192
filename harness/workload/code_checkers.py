"""Checkers for code tasks: identifiers by AST, definitions, test runs, test integrity.

They read Python files of the final workspace only. Identifiers are counted on the
syntax tree (``harness.world.pycode``), never by grep, so a name left in a comment or a
string is not "still used", and a longer name that merely contains it is a different name.
A file that no longer parses fails the checker that needed it, naming the file.
"""

from __future__ import annotations

import ast
from collections import Counter
from typing import Any

from harness.workload.checks import checker
from harness.world import World, run_test_module
from harness.world.pycode import defines, identifier_counts
from harness.world.test_backends import checked


def _python_files(world: World, paths: list[str] | None) -> list[str]:
    ws = world.workspace
    selected = ws.list() if paths is None else sorted({p for d in paths for p in ws.list(d)})
    return [p for p in selected if p.endswith(".py")]


def _counts(world: World, path: str) -> tuple[Counter[str] | None, str]:
    try:
        return identifier_counts(world.workspace.read(path)), ""
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes in source
        return None, f"{path} does not parse: {getattr(exc, 'msg', exc)} (line {getattr(exc, 'lineno', '?')})"


def _brief(items: list[str], limit: int = 5) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


@checker("no_identifier")
def no_identifier(world: World, spec: Any, name: str, paths: list[str] | None = None) -> tuple[bool, str]:
    """``name`` is an identifier in no Python file under ``paths``."""
    files = _python_files(world, paths)
    if not files:
        return False, f"no Python files under {paths}: nothing left to check"
    found, broken = [], []
    for path in files:
        counts, error = _counts(world, path)
        if counts is None:
            broken.append(error)
        elif counts[name]:
            found.append(f"{path} ({counts[name]}x)")
    if broken:
        return False, _brief(broken)
    if found:
        return False, f"`{name}` is still an identifier in {_brief(found)}"
    return True, f"`{name}` appears in none of {len(files)} Python files"


@checker("defines_symbol")
def defines_symbol(world: World, spec: Any, path: str, name: str) -> tuple[bool, str]:
    """``path`` defines ``name`` at top level (class, def or assignment)."""
    if not world.workspace.exists(path):
        return False, f"{path} does not exist"
    try:
        ok = defines(world.workspace.read(path), name)
    except (SyntaxError, ValueError) as exc:
        return False, f"{path} does not parse: {exc}"
    return ok, f"{path} {'defines' if ok else 'does not define'} `{name}` at top level"


@checker("preserved_identifiers")
def preserved_identifiers(world: World, spec: Any, counts: dict[str, int],
                          paths: list[str] | None = None) -> tuple[bool, str]:
    """Each name still occurs as an identifier at least ``counts[name]`` times in total."""
    total: Counter[str] = Counter()
    for path in _python_files(world, paths):
        file_counts, error = _counts(world, path)
        if file_counts is None:
            return False, error
        total.update({k: file_counts[k] for k in counts if file_counts[k]})
    short = [f"`{k}` {total[k]}/{n}" for k, n in sorted(counts.items()) if total[k] < n]
    if short:
        return False, f"names that should not have changed were lost: {_brief(short)}"
    return True, f"all {len(counts)} other names kept"


@checker("tests_pass")
def tests_pass(world: World, spec: Any, module: str, timeout_s: float = 10.0) -> tuple[bool, str]:
    report = checked(run_test_module(world.workspace, module, timeout_s=timeout_s), timeout_s)
    if report.ok:
        return True, f"{len(report.passed)} tests passed"
    if report.over_budget:
        return False, f"{module} did not finish within its step budget"
    if report.collection_error is not None:
        e = report.collection_error
        return False, f"{module} could not be collected: {e.error_type}: {e.message} ({_where(e)})"
    if report.collected == 0:
        return False, f"{module} has no tests"
    failures = [f"{f.test}: {f.error_type} ({_where(f)})" for f in report.failures]
    return False, f"{len(failures)} of {report.collected} tests failed: {_brief(failures, 3)}"


def _where(failure: Any) -> str:
    return f"{failure.path}:{failure.line}" if failure.path else "no workspace frame"


def count_asserts(fn: ast.AST) -> int:
    """Assert statements whose test is not a constant (``assert True`` proves nothing)."""
    return sum(1 for node in ast.walk(fn) if isinstance(node, ast.Assert) and not isinstance(node.test, ast.Constant))


@checker("tests_intact")
def tests_intact(world: World, spec: Any, module: str, tests: dict[str, int]) -> tuple[bool, str]:
    """Every original test function exists with at least its original number of asserts."""
    if not world.workspace.exists(module):
        return False, f"test module {module} was deleted"
    try:
        tree = ast.parse(world.workspace.read(module))
    except (SyntaxError, ValueError) as exc:
        return False, f"{module} does not parse: {exc}"
    found = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    problems = []
    for name, want in sorted(tests.items()):
        if name not in found:
            problems.append(f"{name} is gone")
        elif (have := count_asserts(found[name])) < want:
            problems.append(f"{name} has {have} of its {want} asserts")
    if problems:
        return False, f"tests were weakened: {_brief(problems)}"
    return True, f"all {len(tests)} tests intact"
