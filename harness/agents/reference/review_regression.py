"""Strategy for a regression review: slower code, or a public function that now answers differently.

Performance: inside a loop (a ``for`` body or a comprehension's element), a membership
test against a list, an aggregate (``sum``, ``sorted``, ...) that does not depend on the
loop variable and so is redone per item, or a database query per item. Contract: a
public function whose declared return type changed, or that now raises where it did not.
As in every review, only what the old version of the definition did not do counts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.review_diff import Block, Change
from harness.agents.reference.review_flow import Finding, Review, def_line, pure, run_review
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief

Slow = tuple[int, str]  # (line, the code that is slow) - the code tells old from new
_AGGREGATES = {"sum", "sorted", "max", "min", "list", "set", "dict", "tuple", "any", "all"}
_QUERIES = {"execute", "executemany", "fetchone", "fetchall", "query"}
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


@STRATEGIES.register("code_review/review_regression")
def review_regression(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    yield from run_review(brief, kit, errors, pure(find_regressions))


def find_regressions(review: Review) -> list[Finding]:
    found = []
    for change in review.changed:
        if not isinstance(change.after.node, _FUNCS):
            continue
        old = {code for _, code in slow_spots(change.before)} if change.before else set()
        found += [Finding(change.path, line, "performance") for line, code in slow_spots(change.after)
                  if code not in old]
        line = contract_break(change)
        if line is not None:
            found.append(Finding(change.path, line, "contract"))
    return _one_per_function(found, review)


def _one_per_function(found: list[Finding], review: Review) -> list[Finding]:
    """A regression is one finding, at its first line, however many of its lines show it."""
    seen, out = set(), []
    for f in sorted(found, key=lambda f: (f.path, f.line)):
        home = next((c.after.start for c in review.changed if c.path == f.path
                     and c.after.start <= f.line <= c.after.end), f.line)
        if (f.path, home, f.kind) not in seen:
            seen.add((f.path, home, f.kind))
            out.append(f)
    return out


def slow_spots(block: Block) -> list[Slow]:
    root = block.node
    lists = _list_names(root)
    spots = []
    for body, loop_vars in _loop_bodies(root):
        for node in body:
            spots.extend(_slow(node, lists, loop_vars))
    return sorted(set(spots))


def _slow(node: ast.AST, lists: set[str], loop_vars: set[str]) -> Iterator[Slow]:
    if isinstance(node, ast.Compare) and _in_list(node, lists):
        yield node.lineno, ast.unparse(node) + " in a list"
    if isinstance(node, ast.Call) and (_is_query(node) or _is_invariant_aggregate(node, loop_vars)):
        yield node.lineno, ast.unparse(node) + " per item"


def _in_list(node: ast.Compare, lists: set[str]) -> bool:
    membership = any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)
    return membership and any(isinstance(c, ast.Name) and c.id in lists for c in node.comparators)


def _is_query(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Attribute) and node.func.attr in _QUERIES


def _is_invariant_aggregate(node: ast.Call, loop_vars: set[str]) -> bool:
    """``sum(xs)`` inside a loop over something else: the same work, redone per item."""
    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return getattr(node.func, "id", "") in _AGGREGATES and bool(node.args) and not used & loop_vars


def _loop_bodies(root: ast.AST) -> Iterator[tuple[list[ast.AST], set[str]]]:
    """Every node run once per item, with the loop's variables."""
    for node in ast.walk(root):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            loop_vars = _targets(node.target) if isinstance(node, (ast.For, ast.AsyncFor)) else set()
            yield [n for stmt in node.body for n in ast.walk(stmt)], loop_vars
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            loop_vars = set().union(*(_targets(g.target) for g in node.generators))
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            parts += [cond for g in node.generators for cond in g.ifs]
            yield [n for part in parts for n in ast.walk(part)], loop_vars


def _targets(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _list_names(root: ast.AST) -> set[str]:
    """Names bound to a list (a literal, a comprehension or ``list(...)``) in this function."""
    names = set()
    for node in ast.walk(root):
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        is_list = isinstance(value, (ast.List, ast.ListComp)) or (
            isinstance(value, ast.Call) and getattr(value.func, "id", "") == "list")
        if is_list:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def contract_break(change: Change) -> int | None:
    """Line of a public function's changed promise: its return type, or a new ``raise``."""
    old, new = change.before, change.after.node
    if old is None or not isinstance(old.node, _FUNCS) or not isinstance(new, _FUNCS):
        return None
    if new.name.startswith("_"):
        return None  # a private helper promises nothing to callers outside
    if _returns(old.node) != _returns(new):
        return def_line(change)
    before = {ast.unparse(n) for n in ast.walk(old.node) if isinstance(n, ast.Raise)}
    raised = [n for n in ast.walk(new) if isinstance(n, ast.Raise) and ast.unparse(n) not in before]
    return raised[0].lineno if raised else None


def _returns(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    return ast.unparse(fn.returns) if fn.returns is not None else ""
