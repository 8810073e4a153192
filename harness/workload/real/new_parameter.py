"""Functions of a real package to give a new keyword-only parameter, its gold and its test.

The new behaviour is one any function can have and a brief can state exactly: a
parameter (``post`` and its synonyms) that, when given a callable, is applied to what the
function returns; ``None`` (the default) changes nothing. A candidate is a public,
top-level, non-generator function of the package's own modules that returns a value and
that the package's own tests call with literal arguments somewhere (those calls become
the inputs of the generated test, which the agent never sees). The gold adds the parameter
(``harness.world.pycode.add_keyword_parameter``) and rewrites each of the function's own
``return X`` as ``return X if post is None else post(X)``. Screening keeps a candidate only
when the suite and the generated test pass on the gold (a function whose results do not
compare equal across calls, an iterator say, is thereby left out).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from harness.world.pycode import add_keyword_parameter

NAMES = ("post", "then", "transform", "finish")
MAX_CALLS = 3
TEST_DIR = "_acceptance"


@dataclass(frozen=True)
class ParameterCandidate:
    path: str
    function: str
    parameter: str
    calls: str  # Python source of a list of [args, kwargs] literal inputs

    @property
    def module(self) -> str:
        parts = self.path.removesuffix(".py").split("/")
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _own(fn: ast.AST) -> list[ast.AST]:
    """Nodes of ``fn``'s own body, not of nested functions, lambdas or classes."""
    out, stack = [], list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        out.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return out


def _eligible(fn: ast.FunctionDef) -> bool:
    own = _own(fn)
    returns = [n for n in own if isinstance(n, ast.Return)]
    params = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
    return (not fn.name.startswith("_") and bool(returns) and all(r.value is not None for r in returns)
            and not any(isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await)) for n in own)
            and not params & set(NAMES) and not fn.decorator_list)


def _calls_it(node: ast.AST, name: str, modules: set[str]) -> bool:
    """``name(...)``, or ``module.name(...)`` through the defining module or package."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Name) and f.id == name) or (
        isinstance(f, ast.Attribute) and f.attr == name and isinstance(f.value, ast.Name) and f.value.id in modules)


@lru_cache(maxsize=8)
def _parsed(tests: tuple[tuple[str, str], ...]) -> tuple[ast.Module, ...]:
    """The test modules that parse, parsed once per screening of a package."""
    out = []
    for _, text in tests:
        try:
            out.append(ast.parse(text))
        except SyntaxError:
            continue
    return tuple(out)


def _literal_calls(tests: dict[str, str], name: str,
                   modules: set[str]) -> list[tuple[tuple, tuple[tuple[str, object], ...]]]:
    found: list[tuple[tuple, tuple[tuple[str, object], ...]]] = []
    for tree in _parsed(tuple(sorted(tests.items()))):
        for node in ast.walk(tree):
            if not _calls_it(node, name, modules):
                continue
            assert isinstance(node, ast.Call)
            try:
                args = tuple(ast.literal_eval(a) for a in node.args if not isinstance(a, ast.Starred))
                kwargs = tuple((k.arg, ast.literal_eval(k.value)) for k in node.keywords if k.arg)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            if len(args) == len(node.args) and len(kwargs) == len(node.keywords) and (args, kwargs) not in found:
                found.append((args, kwargs))
    return found[:MAX_CALLS]


def candidates(modules: dict[str, str], tests: dict[str, str], rng: np.random.Generator,
               count: int) -> list[ParameterCandidate]:
    pool = []
    for path in sorted(modules):
        for node in ast.parse(modules[path]).body:
            if isinstance(node, ast.FunctionDef) and _eligible(node):
                dotted = path.removesuffix(".py").removesuffix("/__init__").split("/")
                calls = _literal_calls(tests, node.name, {dotted[0], dotted[-1]})
                if calls:
                    literal = repr([[list(args), dict(kwargs)] for args, kwargs in calls])
                    pool.append(ParameterCandidate(path, node.name, NAMES[int(rng.integers(len(NAMES)))], literal))
    order = rng.permutation(len(pool))[:count]
    return sorted((pool[int(i)] for i in order), key=lambda c: (c.path, c.function))


def with_parameter(source: str, function: str, parameter: str) -> str:
    """The gold edit of one module."""
    text = add_keyword_parameter(source, function, f"{parameter}=None")
    tree = ast.parse(text)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode()))
    raw = text.encode()
    returns = sorted((n for n in _own(fn) if isinstance(n, ast.Return)), key=lambda n: (n.lineno, n.col_offset))
    for ret in reversed(returns):
        value = ret.value
        a = starts[value.lineno - 1] + value.col_offset  # type: ignore[union-attr]
        b = starts[value.end_lineno - 1] + value.end_col_offset  # type: ignore[union-attr, operator]
        expr = raw[a:b].decode()
        new = f"({expr}) if {parameter} is None else {parameter}({expr})"
        raw = raw[:a] + new.encode() + raw[b:]
    return raw.decode()


def hidden_test(c: ParameterCandidate) -> tuple[str, str]:
    """(path, source) of the generated test of the new behaviour."""
    source = (f"from {c.module} import {c.function}\n\n\n"
              "def _tag(result):\n    return (\"tagged\", result)\n\n\n"
              f"def test_{c.function}_{c.parameter}_is_applied_to_the_result():\n"
              f"    for args, kwargs in {c.calls}:\n"
              f"        plain = {c.function}(*args, **kwargs)\n"
              f"        assert {c.function}(*args, **kwargs, {c.parameter}=_tag) == (\"tagged\", plain)\n"
              f"        assert {c.function}(*args, **kwargs, {c.parameter}=None) == plain\n")
    return f"{TEST_DIR}/test_new_parameter.py", source
