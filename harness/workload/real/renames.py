"""Public symbols of a real package to rename, and the careful rename that is the gold.

A candidate is a public top-level function or class of one of the package's own modules
whose name is distinctive: no builtin and no attribute of the common built-in types shares
it (renaming ``update`` would rename every ``dict.update`` call), it is used at least
``MIN_USES`` times across the code and its tests, and the new name occurs nowhere yet. The
gold renames every identifier token (``harness.world.pycode``) in every Python file of the
code base, tests included, and the string entries of ``__all__`` (the public names a star
import exports). Screening keeps a candidate only when the package's own suite passes on
the gold: names that tests look up by string are thereby left out.
"""

from __future__ import annotations

import ast
import builtins
from collections import Counter
from dataclasses import dataclass

import numpy as np

from harness.world.pycode import identifier_counts, rename_identifier

MIN_USES = 3
_COMMON_TYPES = (str, bytes, dict, list, set, tuple, int, float, object, type)
_PATTERNS = {"function": ("{}_v2", "new_{}", "{}_impl"), "class": ("{}V2", "New{}", "{}Impl")}


@dataclass(frozen=True)
class RenameCandidate:
    path: str  # the module that defines it
    old: str
    new: str
    kind: str  # function | class
    uses: int


def _distinctive(name: str) -> bool:
    return (len(name) >= 4 and not name.startswith("_") and not hasattr(builtins, name)
            and not any(hasattr(t, name) for t in _COMMON_TYPES))


def _counts(files: dict[str, str]) -> Counter[str]:
    total: Counter[str] = Counter()
    for path, text in files.items():
        if path.endswith(".py"):
            try:
                total.update(identifier_counts(text))
            except (SyntaxError, ValueError):
                continue
    return total


def candidates(modules: dict[str, str], code_base: dict[str, str], rng: np.random.Generator,
               count: int) -> list[RenameCandidate]:
    """Up to ``count`` candidates from ``modules`` (the package's own), drawn with ``rng``."""
    uses = _counts(code_base)
    pool: list[RenameCandidate] = []
    for path in sorted(modules):
        for node in ast.parse(modules[path]).body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            name, kind = node.name, "class" if isinstance(node, ast.ClassDef) else "function"
            if not _distinctive(name) or uses[name] < MIN_USES:
                continue
            options = [p.format(name) for p in _PATTERNS[kind] if not uses[p.format(name)]]
            if options:
                pool.append(RenameCandidate(path, name, options[int(rng.integers(len(options)))], kind, uses[name]))
    seen: set[str] = set()
    unique = [c for c in pool if not (c.old in seen or seen.add(c.old))]  # a name defined twice: once
    order = rng.permutation(len(unique))[:count]
    return sorted((unique[int(i)] for i in order), key=lambda c: (c.path, c.old))


def rename_everywhere(files: dict[str, str], old: str, new: str) -> dict[str, str]:
    """The careful rename: identifiers in every Python file, and ``__all__`` entries."""
    out = dict(files)
    for path, text in files.items():
        if not path.endswith(".py") or old not in text:  # a file without the text has no such name
            continue
        try:
            renamed, _ = rename_identifier(text, old, new)
        except (SyntaxError, ValueError):
            continue
        out[path] = _all_entries(renamed, old, new)
    return out


def _all_entries(text: str, old: str, new: str) -> str:
    """String elements ``old`` of module-level ``__all__`` lists and tuples, renamed in place."""
    tree = ast.parse(text)
    spans = []
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
            node.target if isinstance(node, ast.AugAssign) else None
        if isinstance(target, ast.Name) and target.id == "__all__" and isinstance(node.value, (ast.List, ast.Tuple)):
            spans += [e for e in node.value.elts if isinstance(e, ast.Constant) and e.value == old]
    if not spans:
        return text
    lines = text.splitlines(keepends=True)
    for e in sorted(spans, key=lambda e: (e.lineno, e.col_offset), reverse=True):
        line = lines[e.lineno - 1]
        raw = line.encode()
        seg = raw[e.col_offset:e.end_col_offset].decode()
        lines[e.lineno - 1] = (raw[:e.col_offset].decode() + seg.replace(old, new, 1)
                               + raw[e.end_col_offset:].decode())
    return "".join(lines)
