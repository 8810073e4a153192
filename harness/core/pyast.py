"""Small, pure helpers over Python syntax trees, shared by checkers and by agents (who
may not import each other's packages), and ``serialise_parsing`` for a process that runs
episodes on several threads."""

from __future__ import annotations

import ast
import functools
import threading
from collections.abc import Callable, Collection
from functools import lru_cache
from typing import Any

# Re-entrant: a finalizer that runs mid-parse may parse too.
_PARSE_LOCK = threading.RLock()


def serialise_parsing() -> None:
    """Make ``ast.parse`` take one process-wide lock (once; idempotent).

    CPython 3.11 keeps the depth of its syntax tree to Python objects conversion in
    per-interpreter state, so two threads parsing at once (one switched out mid-parse by a
    finalizer that runs Python code) corrupt it: ``SystemError: AST constructor recursion
    depth mismatch`` (cpython gh-106905; seen here in a checker with 4 episodes per
    process). Agents, checkers and the traceback module (its caret anchors) all call
    ``ast.parse``, so the function itself is replaced, for every caller at once."""
    with _PARSE_LOCK:
        if getattr(ast.parse, "serialised", False):
            return
        ast.parse = _locked(ast.parse)


def _locked(parse: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(parse)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _PARSE_LOCK:
            return parse(*args, **kwargs)

    locked.serialised = True  # type: ignore[attr-defined]
    return locked


@lru_cache(maxsize=512)
def parse(source: str) -> ast.Module:
    """``ast.parse`` once per distinct source text (agents and checkers parse the same files
    again and again). The tree is shared between callers: read it, never modify it."""
    return ast.parse(source)


def calls_to(tree: ast.AST, name: str, modules: Collection[str] = ()) -> list[ast.Call]:
    """Calls of the module-level ``name``: ``name(...)`` or ``mod.name(...)`` for a module
    alias in ``modules``; a method of the same name on some other object is another function."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        plain = isinstance(f, ast.Name) and f.id == name
        qualified = (isinstance(f, ast.Attribute) and f.attr == name
                     and isinstance(f.value, ast.Name) and f.value.id in modules)
        if plain or qualified:
            found.append(node)
    return found
