"""How a test module is normalised before it is compared with its original record.

When a task is generated, its family records what the test module must still be
(``harness.workload.test_fingerprint``); ``tests_intact`` compares the final module with
that record. Both sides go through the same normalisation (``normalised_tests``), which
forgives exactly the edits the task legitimately makes to the tests and nothing else;
``trivially_true`` names the asserts that cannot fail.
"""

from __future__ import annotations

import ast
import hashlib
import operator
import re
from typing import Any

# Names and attributes through which code can reach a module's namespace (or a function's
# code) without a plain assignment: more of them than the original module had is refused.
DYNAMIC_NAMES = frozenset({"globals", "vars", "locals", "setattr", "delattr", "exec", "eval", "compile",
                           "__import__", "__builtins__", "builtins", "sys", "importlib"})
DYNAMIC_ATTRS = frozenset({"__dict__", "modules", "__globals__", "__code__", "__defaults__", "__kwdefaults__",
                           "__closure__", "f_globals", "f_locals", "__setattr__", "__delattr__"})
MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "update", "setdefault", "popitem",
                       "sort", "reverse", "discard", "add", "__setitem__", "__delitem__", "__iadd__"})
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
            ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
_REFLEXIVE = (ast.Eq, ast.Is, ast.LtE, ast.GtE)
TEST_DEFS = ast.FunctionDef | ast.AsyncFunctionDef


def canonical(node: Any) -> str:
    """A syntax tree as text, without positions, contexts or empty fields: the same for
    the same code on every supported Python (``ast.dump`` differs between versions)."""
    if isinstance(node, ast.AST):
        fields = []
        for name in node._fields:
            value = getattr(node, name, None)
            if name in ("ctx", "kind", "type_comment", "type_params") or value is None or value == []:
                continue
            fields.append(f"{name}={canonical(value)}")
        return f"{type(node).__name__}({','.join(fields)})"
    if isinstance(node, list):
        return "[" + ",".join(canonical(item) for item in node) + "]"
    return repr(node)


def digest(node: Any) -> str:
    return hashlib.sha256(canonical(node).encode()).hexdigest()[:16]


class _Normaliser(ast.NodeTransformer):
    """Rewrites a test module into the form both sides are compared in.

    Always: docstrings and annotations are dropped (comments and formatting are not in the
    tree anyway). ``normalise`` may add, for the edits a family's task makes to its tests:
    ``{"rename": {old: new}}`` (identifiers, and whole words in strings, as the task's
    rename does) and ``{"drop_keyword": {"function": f, "name": p, "value": v}}`` (the
    keyword ``p=v`` the task adds to every call of ``f``; another value is a change)."""

    def __init__(self, normalise: dict[str, Any] | None):
        normalise = normalise or {}
        self.names: dict[str, str] = dict(normalise.get("rename") or {})
        words = sorted(self.names, key=len, reverse=True)
        self.word = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b") if words else None
        drop = normalise.get("drop_keyword")
        self.drop = None if not drop else (
            drop["function"], drop["name"], canonical(ast.parse(str(drop["value"]), mode="eval").body))

    def _name(self, name: str | None) -> str | None:
        return name if name is None else ".".join(self.names.get(p, p) for p in name.split("."))

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._name(node.id) or node.id
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        node.attr = self._name(node.attr) or node.attr
        return node

    def visit_alias(self, node: ast.alias) -> ast.AST:
        node.name, node.asname = self._name(node.name) or node.name, self._name(node.asname)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        self.generic_visit(node)
        node.module = self._name(node.module)
        return node

    def _definition(self, node: Any) -> ast.AST:
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        node.name = self._name(node.name) or node.name
        if not isinstance(node, ast.ClassDef):
            node.returns = None
        self.generic_visit(node)
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _definition

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg, node.annotation = self._name(node.arg) or node.arg, None
        return node

    def visit_keyword(self, node: ast.keyword) -> ast.AST:
        self.generic_visit(node)
        node.arg = self._name(node.arg)
        return node

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> ast.AST:
        node.names = [self._name(n) or n for n in node.names]
        return node

    visit_Nonlocal = visit_Global

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if self.word is not None and isinstance(node.value, str):
            node.value = self.word.sub(lambda m: self.names[m[0]], node.value)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if self.drop is not None and _callee(node) == self.drop[0]:
            node.keywords = [k for k in node.keywords
                             if not (k.arg == self.drop[1] and canonical(k.value) == self.drop[2])]
        return node


def _callee(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def normalised_tests(source: str, normalise: dict[str, Any] | None = None) -> ast.Module:
    """``source`` parsed and normalised (a fresh tree: the caller may keep it)."""
    return _Normaliser(normalise).visit(ast.parse(source))


_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
         ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.USub: operator.neg, ast.UAdd: operator.pos,
         ast.Not: operator.not_}


def _constant(node: ast.expr) -> Any:
    """The value of an expression made of literals only (``1 + 1``, ``-(2 * 3)``), or
    ValueError; sizes stay small (no ``"a" * 10**9``)."""
    if isinstance(node, ast.BinOp) and type(node.op) in _FOLD:
        left, right = _constant(node.left), _constant(node.right)
        if isinstance(node.op, ast.Mult) and any(not isinstance(v, int | float) for v in (left, right)) \
                and any(isinstance(v, int) and abs(v) > 1000 for v in (left, right)):
            raise ValueError("too large to fold")
        return _FOLD[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _FOLD:
        return _FOLD[type(node.op)](_constant(node.operand))
    return ast.literal_eval(node)


def _literal(node: ast.expr) -> tuple[bool, Any]:
    try:
        return True, _constant(node)
    except Exception:  # noqa: BLE001 - anything that does not fold is not a literal
        return False, None


def _falsy(test: ast.expr) -> bool:
    ok, value = _literal(test)
    return ok and not value


def trivially_true(test: ast.expr) -> bool:
    """An assert condition that holds whatever the code under test does: a true constant
    or literal (``assert True``, ``assert (x, "msg")``), a comparison of literals
    (``assert 1 == 1``), a comparison of an expression with itself (``assert x == x``),
    or an ``or`` with such a part. Tautologies that need evaluating (``assert x + 0 == x``)
    are not recognised."""
    if isinstance(test, ast.Tuple | ast.List | ast.Set):
        return bool(test.elts)
    if isinstance(test, ast.Dict):
        return bool(test.keys)
    if isinstance(test, ast.Lambda):
        return True
    if isinstance(test, ast.BoolOp):
        parts = [trivially_true(v) for v in test.values]
        return any(parts) if isinstance(test.op, ast.Or) else all(parts)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _falsy(test.operand)
    if isinstance(test, ast.Constant | ast.BinOp | ast.UnaryOp):
        ok, value = _literal(test)
        return ok and bool(value)
    if isinstance(test, ast.Compare):
        operands = [test.left, *test.comparators]
        literals = [_literal(o) for o in operands]
        if all(ok for ok, _ in literals):
            values = [v for _, v in literals]
            try:
                return all(_COMPARE[type(op)](a, b) for op, a, b in zip(test.ops, values, values[1:], strict=False))
            except Exception:  # noqa: BLE001 - e.g. 1 < "a": not a tautology, the assert fails
                return False
        return all(isinstance(op, _REFLEXIVE) and canonical(a) == canonical(b)
                   for op, a, b in zip(test.ops, operands, operands[1:], strict=False))
    return False


def count_asserts(fn: ast.AST) -> int:
    """Assert statements that can fail (``assert True`` or ``assert x == x`` prove nothing)."""
    return sum(1 for node in ast.walk(fn) if isinstance(node, ast.Assert) and not trivially_true(node.test))
