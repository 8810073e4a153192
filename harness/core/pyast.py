"""Small, pure helpers over Python syntax trees, shared by checkers and by agents (who
may not import each other's packages)."""

from __future__ import annotations

import ast
from collections.abc import Collection
from functools import lru_cache


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
