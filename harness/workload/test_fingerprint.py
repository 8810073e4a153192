"""The record of a test module made when a task is generated, and the comparison of a
final module with it (statement by statement, module-level rebinding, dynamic access).
"""

from __future__ import annotations

import ast
import difflib
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from harness.workload.test_normalise import (
    DYNAMIC_ATTRS,
    DYNAMIC_NAMES,
    MUTATORS,
    TEST_DEFS,
    digest,
    normalised_tests,
    trivially_true,
)


def _statement_print(stmt: ast.stmt) -> list[str]:
    """[digest] of a statement; for an assert also the digests of both sides of its
    comparison, or "assert" when it has no one-operator comparison (so a changed expected
    value can be told from a changed call, and a removed assert from another statement)."""
    if isinstance(stmt, ast.Assert):
        if isinstance(stmt.test, ast.Compare) and len(stmt.test.ops) == 1:
            return [digest(stmt), digest(stmt.test.left), digest(stmt.test.comparators[0])]
        return [digest(stmt), "assert"]
    return [digest(stmt)]


def test_head(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    return digest([type(fn).__name__, fn.name, fn.args, fn.decorator_list])


def _module_scope(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement that runs in the module's own namespace: the top level and the
    bodies of compound statements there, not function or class bodies. A block under
    ``if __name__ == "__main__":`` never runs when the tests are imported: skipped."""
    for stmt in body:
        if _main_guard(stmt):
            continue
        yield stmt
        if isinstance(stmt, TEST_DEFS | ast.ClassDef):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _module_scope(getattr(stmt, field, None) or [])
        for handler in getattr(stmt, "handlers", None) or []:
            yield from _module_scope(handler.body)
        for case in getattr(stmt, "cases", None) or []:
            yield from _module_scope(case.body)


def _main_guard(stmt: ast.stmt) -> bool:
    t = stmt.test if isinstance(stmt, ast.If) else None
    return (isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == "__name__"
            and len(t.comparators) == 1 and isinstance(t.comparators[0], ast.Constant)
            and t.comparators[0].value == "__main__" and not stmt.orelse)


def _own_expressions(stmt: ast.stmt) -> Iterator[ast.AST]:
    """The nodes of ``stmt`` itself: not nested statements, not function bodies."""
    stack: list[ast.AST] = [c for c in ast.iter_child_nodes(stmt) if not isinstance(c, ast.stmt)]
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.Lambda):
            stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, ast.stmt))


def _targets(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def _binds(stmt: ast.stmt) -> list[tuple[str, str]]:
    """(name, how) for every module-level name ``stmt`` (not its nested statements) binds."""
    out: list[tuple[str, str]] = []
    if isinstance(stmt, TEST_DEFS | ast.ClassDef):
        out.append((stmt.name, "definition"))
    elif isinstance(stmt, ast.Assign):
        out += [(n, "assignment") for t in stmt.targets if not isinstance(t, ast.Attribute | ast.Subscript)
                for n in _targets(t)]
    elif isinstance(stmt, ast.AugAssign | ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        out.append((stmt.target.id, "augmented assignment" if isinstance(stmt, ast.AugAssign) else "assignment"))
    elif isinstance(stmt, ast.Delete):
        out += [(n, "del") for t in stmt.targets if isinstance(t, ast.Name) for n in _targets(t)]
    elif isinstance(stmt, ast.For | ast.AsyncFor):
        out += [(n, "for-loop target") for n in _targets(stmt.target)]
    elif isinstance(stmt, ast.With | ast.AsyncWith):
        out += [(n, "with ... as") for i in stmt.items if i.optional_vars is not None for n in _targets(i.optional_vars)]
    elif isinstance(stmt, ast.Import | ast.ImportFrom):
        for a in stmt.names:
            out.append(("*" if a.name == "*" else a.asname or a.name.split(".")[0], "import"))
    elif isinstance(stmt, ast.Try):
        out += [(h.name, "except ... as") for h in stmt.handlers if h.name]
    elif isinstance(stmt, ast.Match):
        out += [(n, "match capture") for c in stmt.cases for p in ast.walk(c.pattern)
                for n in ([p.name] if isinstance(p, ast.MatchAs | ast.MatchStar) and p.name else [])]
    out += [(n.target.id, "walrus") for n in _own_expressions(stmt) if isinstance(n, ast.NamedExpr)]
    return out


def _imports(stmt: ast.stmt) -> dict[str, str]:
    """Bound name -> what it is bound to, for an import statement."""
    if isinstance(stmt, ast.Import):
        return {a.asname or a.name.split(".")[0]: f"import {a.name}" + (f" as {a.asname}" if a.asname else "")
                for a in stmt.names}
    if isinstance(stmt, ast.ImportFrom):
        return {a.asname or a.name: f"from {'.' * stmt.level}{stmt.module or ''} import {a.name}" for a in stmt.names}
    return {}


def _reads(fn: ast.AST) -> set[str]:
    """Names a function reads from its module (globals and builtins)."""
    local = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    local |= {a.arg for a in ast.walk(fn) if isinstance(a, ast.arg)}
    local |= {h.name for h in ast.walk(fn) if isinstance(h, ast.ExceptHandler) and h.name}
    local |= {d.name for d in ast.walk(fn) if isinstance(d, TEST_DEFS | ast.ClassDef) and d is not fn}
    declared = {g for n in ast.walk(fn) if isinstance(n, ast.Global) for g in n.names}
    return {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - (local - declared)


def _dynamic(nodes: Iterable[ast.AST]) -> Counter[str]:
    found: Counter[str] = Counter()
    for node in nodes:
        if isinstance(node, ast.Name) and node.id in DYNAMIC_NAMES:
            found[node.id] += 1
        elif isinstance(node, ast.Attribute) and node.attr in DYNAMIC_ATTRS:
            found[node.attr] += 1
        elif isinstance(node, ast.alias):
            for part in (*node.name.split("."), node.asname or ""):
                if part in DYNAMIC_NAMES or part in DYNAMIC_ATTRS:
                    found[part] += 1
    return found


def _outside(tree: ast.Module, skip: set[int]) -> Iterator[ast.AST]:
    """Every node of the module except inside the functions whose id is in ``skip``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if id(node) in skip:
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def test_defs(tree: ast.Module) -> dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]:
    defs: dict[str, list[Any]] = {}
    for node in tree.body:
        if isinstance(node, TEST_DEFS) and node.name.startswith("test_"):
            defs.setdefault(node.name, []).append(node)
    return defs


def fingerprint_tests(source: str, normalise: dict[str, Any] | None = None) -> dict[str, Any]:
    """What ``tests_intact`` needs to know of an original test module: each test
    function's signature and statements (digests after ``normalise``), the module names
    the tests read, the original module-level statements and imports, and how often the
    module reaches into namespaces dynamically. Plain JSON; no source text."""
    tree = normalised_tests(source, normalise)
    tests = {name: fns[-1] for name, fns in test_defs(tree).items()}
    reads = set().union(*(_reads(fn) for fn in tests.values())) - set(tests) if tests else set()
    statements = [s for s in tree.body if not (isinstance(s, TEST_DEFS) and s.name in tests)]
    imports = {name: how for s in _module_scope(tree.body) for name, how in _imports(s).items() if name in reads}
    return {
        "tests": {name: {"head": test_head(fn), "body": [_statement_print(s) for s in fn.body]}
                  for name, fn in sorted(tests.items())},
        "reads": sorted(reads),
        "statements": sorted({digest(s) for s in statements}),
        "imports": dict(sorted(imports.items())),
        "dynamic": dict(sorted(_dynamic(_outside(tree, {id(fn) for fn in tests.values()})).items())),
    }


def _clean_code(stmt: ast.stmt) -> bool:
    """A module-level statement that defines or names things and runs nothing of note
    when the module is imported."""
    def quiet(nodes: Iterable[ast.AST]) -> bool:
        return not any(isinstance(n, ast.Call | ast.Await | ast.Yield | ast.YieldFrom)
                       for node in nodes for n in ast.walk(node))

    if isinstance(stmt, ast.Pass | ast.Import | ast.ImportFrom):
        return True
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant)
    if isinstance(stmt, TEST_DEFS):
        a = stmt.args
        return not stmt.decorator_list and quiet([*a.defaults, *(d for d in a.kw_defaults if d is not None)])
    if isinstance(stmt, ast.ClassDef):
        return (not stmt.decorator_list and quiet([*stmt.bases, *stmt.keywords])
                and all(_clean_code(s) for s in stmt.body))
    if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return all(isinstance(t, ast.Name) for t in targets) and quiet([stmt.value] if stmt.value else [])
    if isinstance(stmt, ast.Delete):
        return all(isinstance(t, ast.Name) for t in stmt.targets)
    return False


def _root(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def compare_bodies(name: str, want: list[list[str]], fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """What changed in one test function, said as a reviewer would say it."""
    have = [_statement_print(s) for s in fn.body]
    if have == want:
        return []
    out = []
    ops = difflib.SequenceMatcher(a=[w[0] for w in want], b=[h[0] for h in have], autojunk=False).get_opcodes()
    for tag, a0, a1, b0, b1 in ops:
        if tag == "equal":
            continue
        old, new = want[a0:a1], fn.body[b0:b1]
        for k, stmt in enumerate(new):
            line, was = f"{name} line {stmt.lineno}", old[k] if k < len(old) else None
            now = have[b0 + k]
            if isinstance(stmt, ast.Assert) and trivially_true(stmt.test):
                out.append(f"{line}: `{short(stmt)}` cannot fail")
            elif was is not None and len(was) == 3 and len(now) == 3:
                if now[1] == was[1]:
                    out.append(f"{line}: the expected value of `{short(stmt)}` changed")
                elif now[2] == was[2]:
                    out.append(f"{line}: what `{short(stmt)}` checks changed")
                else:
                    out.append(f"{line}: `{short(stmt)}` replaces an assert")
            elif was is not None and len(was) > 1 and len(now) == 1:
                out.append(f"{line}: an assert became `{short(stmt)}`")
            elif was is not None:
                out.append(f"{line}: `{short(stmt)}` changed")
            else:
                out.append(f"{line}: `{short(stmt)}` was added")
        if len(old) > len(new):
            lost = old[len(new):]
            asserts = sum(1 for s in lost if len(s) > 1)
            out.append(f"{name} lost {len(lost)} statement{'s' * (len(lost) > 1)}"
                       + (f" ({asserts} assert{'s' * (asserts > 1)} among them)" if asserts else ""))
    return out or [f"{name} changed"]


def short(stmt: ast.stmt, limit: int = 60) -> str:
    text = " ".join(ast.unparse(stmt).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def module_problems(tree: ast.Module, verified: set[int], protected: set[str], tests: set[str],
                     expected: dict[str, Any] | None) -> list[str]:
    """Module-level code that could change what the tests see: a test or a name the tests
    read rebound (by any statement form) or mutated, namespaces reached dynamically, and
    new module-level code that runs on import."""
    out = []
    known = set(expected["statements"]) if expected else set()
    imports = expected["imports"] if expected else {}
    top = {id(s) for s in tree.body}
    for stmt in _module_scope(tree.body):
        if id(stmt) in verified:
            continue
        original = digest(stmt) in known
        for name, how in _binds(stmt):
            if name == "*":
                if not original:
                    out.append(f"line {stmt.lineno}: a star import may rebind any test or name the tests use")
            elif name in tests and not (isinstance(stmt, TEST_DEFS) and stmt.name == name):
                out.append(f"`{name}` is rebound at line {stmt.lineno} ({how})")
            elif name in protected and name not in tests and not original:
                bound = _imports(stmt).get(name)
                if bound is None or imports.get(name) != bound:
                    out.append(f"`{name}`, which the tests use, is rebound at line {stmt.lineno} ({how})")
        if not original and id(stmt) in top and not _clean_code(stmt):
            out.append(f"line {stmt.lineno}: new module-level code runs on import (`{short(stmt, 40)}`)")
    outside = list(_outside(tree, verified))
    for node in outside:
        if isinstance(node, ast.Global | ast.Nonlocal):
            out += [f"line {node.lineno}: `global {n}` lets a function rebind it" for n in node.names if n in protected]
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            out += [f"line {node.lineno}: `{_root(t)}`, which the tests use, is modified" for t in targets
                    if isinstance(t, ast.Attribute | ast.Subscript) and _root(t) in protected]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS \
                and _root(node.func.value) in protected:
            out.append(f"line {node.lineno}: `{_root(node.func.value)}`, which the tests use, is modified")
    found = _dynamic(outside)
    allowed = expected["dynamic"] if expected else {}
    for token, n in sorted(found.items()):
        if expected is None and token in ("sys", "importlib", "builtins"):
            continue  # without a record of the original, only the direct forms are refused
        if n > allowed.get(token, 0):
            lines = sorted({getattr(x, "lineno", 0) for x in outside
                            if (isinstance(x, ast.Name) and x.id == token)
                            or (isinstance(x, ast.Attribute) and x.attr == token)} - {0})
            out.append(f"line {lines[0] if lines else '?'}: `{token}` reaches into a namespace dynamically")
    return out
