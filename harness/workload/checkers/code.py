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

from harness.workload.checks import CHECKERS
from harness.workload.test_fingerprint import (
    compare_bodies,
    module_problems,
    short,
    test_defs,
    test_head,
)
from harness.workload.test_normalise import count_asserts, normalised_tests, trivially_true
from harness.world import World
from harness.world.pycode import defines, identifier_counts
from harness.world.verified_tests import run_verified


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


@CHECKERS.register("no_identifier")
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


@CHECKERS.register("defines_symbol")
def defines_symbol(world: World, spec: Any, path: str, name: str) -> tuple[bool, str]:
    """``path`` defines ``name`` at top level (class, def or assignment)."""
    if not world.workspace.exists(path):
        return False, f"{path} does not exist"
    try:
        ok = defines(world.workspace.read(path), name)
    except (SyntaxError, ValueError) as exc:
        return False, f"{path} does not parse: {exc}"
    return ok, f"{path} {'defines' if ok else 'does not define'} `{name}` at top level"


@CHECKERS.register("preserved_identifiers")
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


@CHECKERS.register("tests_pass")
def tests_pass(world: World, spec: Any, module: str, timeout_s: float = 10.0) -> tuple[bool, str]:
    report = run_verified(world.workspace, module, timeout_s=timeout_s)
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


@CHECKERS.register("tests_intact")
def tests_intact(world: World, spec: Any, module: str, tests: dict[str, int] | None = None,
                 expected: dict[str, Any] | None = None, normalise: dict[str, Any] | None = None) -> tuple[bool, str]:
    """The original tests are still there, unweakened, and still the ones that run.

    With ``expected`` (``fingerprint_tests`` of the original module, made by the family
    when it generated the task) each original test function must match its record
    statement by statement after ``normalise``, which each family sets to forgive exactly
    the edits its task makes to the tests:

    - rename_symbol: ``rename {old: new}`` (the task renames the symbol in the tests too,
      as identifier and as a whole word in strings);
    - add_parameter: ``drop_keyword`` (every call of the function gains ``param=value``;
      another value in an original test is a change); new tests may be added;
    - dependency_upgrade, extract_helper, bulk_migration: nothing (the tests call the
      package's own functions, whose signatures the task keeps: the tests stay as they
      are up to formatting, comments, docstrings and annotations);
    - follow_convention: nothing, and new tests may be added;
    - fix_bug keeps its tests byte-identical instead (``files_unchanged``).

    Refused, each with its place: a test gone, defined twice, with another signature or
    decorators, or with a statement changed, added or removed (a changed expected value
    and an assert that cannot fail, ``assert 1 == 1``, ``assert True``, ``assert x == x``,
    are named as such, in new tests too); a test or a name the tests read (the functions
    under test, builtins, module constants) rebound at module level by assignment,
    augmented assignment, ``del``, a for/with/except target, an import (unless the very
    import of the original), a definition, a walrus, a star import, or a ``global``
    declaration; such a name mutated (``X.attr = ...``, ``X[...] = ...``, ``X.clear()``);
    more dynamic namespace access than the original had (``globals()``, ``vars()``,
    ``setattr``, ``sys.modules``, ``exec``, ``__dict__``, ...); and new module-level code
    that runs on import (a call, a decorator, a compound statement).

    Not detectable statically: rebinding or mutation through an alias made first
    (``m = MODULES`` then ``m.clear()``), tricks in the package code the tests import
    (the package is judged by the task's other checkers and hidden tests), a weak new
    test that is not trivially true (``assert f(x) >= 0``), and tautologies that need
    evaluating. Which tests actually ran, and from which lines, is ``tests_pass``'s job.

    Without ``expected`` (the older form) ``tests`` maps each test to its number of
    asserts that can fail, and only the test names themselves are protected."""
    if not world.workspace.exists(module):
        return False, f"test module {module} was deleted"
    try:
        tree = normalised_tests(world.workspace.read(module), normalise)
    except (SyntaxError, ValueError, RecursionError) as exc:
        return False, f"{module} does not parse: {exc}"
    defs = test_defs(tree)
    want = expected["tests"] if expected else dict.fromkeys(tests or {})
    problems: list[str] = []
    verified: set[int] = set()
    for name in sorted(want):
        fns = defs.get(name, [])
        if not fns:
            problems.append(f"{name} is gone")
            continue
        if len(fns) > 1:
            problems.append(f"{name} is defined {len(fns)} times (lines {', '.join(str(f.lineno) for f in fns)})")
        fn = fns[-1]
        if expected is None:
            if (have := count_asserts(fn)) < int((tests or {})[name]):
                problems.append(f"{name} has {have} of its {tests[name]} asserts that can fail")  # type: ignore[index]
            verified.add(id(fn))
            continue
        if test_head(fn) != want[name]["head"]:
            problems.append(f"{name}: its signature or decorators changed (line {fn.lineno})")
        problems += compare_bodies(name, want[name]["body"], fn)
        verified.add(id(fn))
    for name, fns in sorted(defs.items()):
        if name in want:
            continue
        problems += [f"{name} line {a.lineno}: `{short(a)}` cannot fail" for fn in fns for a in ast.walk(fn)
                     if isinstance(a, ast.Assert) and trivially_true(a.test)]
    protected = set(want) | set(expected["reads"] if expected else ())
    problems += module_problems(tree, verified, protected, set(want), expected)
    if problems:
        return False, f"tests were weakened or bypassed: {_brief(list(dict.fromkeys(problems)), 4)}"
    return True, f"all {len(want)} original tests intact"
