"""Strategy for a security review: which holes does the change open?

A security reviewer's checklist, applied to every definition the change adds or modifies:
SQL text built by string formatting, a caller's name joined into a path that is never
normalised and checked, a credential written into the code, input handed to an unsafe
deserializer. A hole counts only if the old version of the definition did not have it
(the change opened it); safe look-alikes (parametrised queries, checked paths, secrets
from the environment, ``json.loads``/``yaml.safe_load``) match nothing.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.review_diff import Block
from harness.agents.reference.review_flow import Finding, Review, pure, run_review
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief

Hole = tuple[str, int, str]  # (kind, line, the offending code) - the code tells old from new
_SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|DROP|CREATE)\b", re.IGNORECASE)
_SECRET_NAME = re.compile(r"(token|password|passwd|secret|api_?key|credential)", re.IGNORECASE)
_SAFE_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader"}
_CHECKS = {"startswith", "commonpath", "is_relative_to", "relative_to"}


@STRATEGIES.register("code_review/review_security")
def review_security(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    yield from run_review(brief, kit, errors, pure(find_holes))


def find_holes(review: Review) -> list[Finding]:
    found = []
    for change in review.changed:
        old = {(kind, code) for kind, _, code in holes(change.before)} if change.before else set()
        for kind, line, code in holes(change.after):
            if (kind, code) not in old:
                found.append(Finding(change.path, line, kind))
    return found


def holes(block: Block) -> list[Hole]:
    nodes = list(ast.walk(block.node))
    found = [h for check in CHECKLIST for h in check(block.node, nodes)]
    return sorted(set(found), key=lambda h: (h[1], h[0]))


def _injection(root: ast.AST, nodes: list[ast.AST]) -> Iterator[Hole]:
    """SQL text assembled from values by f-string, ``%``, ``+`` or ``.format``."""
    for node in nodes:
        if _formatted_sql(node):
            yield "injection", node.lineno, ast.unparse(node)


def _formatted_sql(node: ast.AST) -> bool:
    if isinstance(node, ast.JoinedStr):
        parts = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        filled = any(isinstance(v, ast.FormattedValue) for v in node.values)
        return filled and bool(_SQL.search("".join(parts)))
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, (ast.Mod, ast.Add)) and _sql_literal(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and _sql_literal(node.func.value)
    return False


def _sql_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(_SQL.search(node.value))


def _path_traversal(root: ast.AST, nodes: list[ast.AST]) -> Iterator[Hole]:
    """A parameter joined into a path in a function that never normalises and checks it."""
    if not isinstance(root, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return
    params = {a.arg for a in [*root.args.posonlyargs, *root.args.args, *root.args.kwonlyargs]}
    called = {_callee(n) for n in nodes if isinstance(n, ast.Call)}
    checked = bool(called & {"normpath", "realpath", "abspath", "resolve"}) and bool(called & _CHECKS)
    if checked:
        return
    for node in nodes:
        if not (isinstance(node, ast.Call) and _callee(node) == "join" and "path" in ast.unparse(node.func)):
            continue
        if any(isinstance(a, ast.Name) and a.id in params for a in node.args):
            yield "path_traversal", node.lineno, ast.unparse(node)


def _secret(root: ast.AST, nodes: list[ast.AST]) -> Iterator[Hole]:
    """A non-empty string literal bound to a name, key or argument that names a credential."""
    for node in nodes:
        pairs: list[tuple[str, ast.AST]] = []
        if isinstance(node, ast.Assign):
            pairs = [(ast.unparse(t), node.value) for t in node.targets]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            pairs = [(ast.unparse(node.target), node.value)]
        elif isinstance(node, ast.Dict):
            pairs = [(k.value, v) for k, v in zip(node.keys, node.values, strict=True)
                     if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        elif isinstance(node, ast.Call):
            pairs = [(k.arg, k.value) for k in node.keywords if k.arg]
        for name, value in pairs:
            if _SECRET_NAME.search(name) and isinstance(value, ast.Constant) and isinstance(value.value, str) \
                    and value.value.strip():
                yield "secret", value.lineno, f"{name}={value.value}"


def _deserialization(root: ast.AST, nodes: list[ast.AST]) -> Iterator[Hole]:
    """pickle/marshal loads, and yaml.load without a safe loader."""
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        func = ast.unparse(node.func)
        unsafe = func in {"pickle.loads", "pickle.load", "marshal.loads", "marshal.load", "yaml.unsafe_load"}
        if func == "yaml.load":
            positional = node.args[1] if len(node.args) > 1 else None
            loader = next((k.value for k in node.keywords if k.arg == "Loader"), positional)
            unsafe = loader is None or ast.unparse(loader).rsplit(".", 1)[-1] not in _SAFE_LOADERS
        if unsafe:
            yield "deserialization", node.lineno, ast.unparse(node)


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


CHECKLIST: tuple[Callable[[ast.AST, list[ast.AST]], Iterator[Hole]], ...] = (
    _injection, _path_traversal, _secret, _deserialization)
