"""Benign changes to a real package's functions: the controls of the review family.

A benign change is a refactor a reviewer should approve: one local variable of a function
renamed everywhere in that function (never a parameter, a global, a name the function
reads from outside, or a function that looks its own names up by string), and a comment
put above the statement that first assigns it. Like a mutant it is a text edit of one
function's span, so the rest of the file stays byte-identical; unlike a mutant, the
screening keeps it only when the package's own suite still passes on it.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
from dataclasses import dataclass

import numpy as np

from harness.workload.real.mutate import _functions

_NEW_NAMES = ("value", "item", "current", "found", "parts", "total", "entry", "pending", "chunk", "head",
              "tail", "piece", "acc", "candidate", "seen_count", "buffer_", "step_size", "position")
_COMMENTS = ("# Kept local: computed once per call.", "# Named for what it holds, not how it is built.",
             "# Set here, read below.", "# A plain name keeps the next lines short.")
_DYNAMIC = {"locals", "vars", "eval", "exec", "globals", "nonlocal", "global"}


@dataclass(frozen=True)
class BenignChange:
    path: str
    function: str
    old_name: str
    new_name: str
    start: int  # character span of the function in the original file
    end: int
    new_text: str  # the function's text after the change
    line: int  # first line of the function

    @property
    def change_id(self) -> str:
        return f"{self.path}:{self.line}:{self.old_name}->{self.new_name}"

    def apply(self, source: str) -> str:
        return source[:self.start] + self.new_text + source[self.end:]


def _locals(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Plain local names assigned in the body (no nested scopes), in order of first assignment."""
    params = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
    params |= {a.arg for a in (fn.args.vararg, fn.args.kwarg) if a is not None}
    nested = {id(n) for d in ast.walk(fn) if d is not fn and isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                            ast.Lambda, ast.ClassDef))
              for n in ast.walk(d)}
    names = [n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
             and id(n) not in nested]
    return [n for n in dict.fromkeys(names) if n not in params and not n.startswith("_") and len(n) > 1]


def _unsafe(fn: ast.AST, name: str) -> bool:
    """Renaming is not obviously safe: dynamic lookups, scope statements, or the name used
    inside a nested scope (which may read it as a closure)."""
    for node in ast.walk(fn):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            return True
        if isinstance(node, ast.Name) and node.id in _DYNAMIC:
            return True
        scope = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
        if node is not fn and isinstance(node, scope) and any(
                isinstance(n, ast.Name) and n.id == name for n in ast.walk(node)):
            return True
    return False


def _rename_in(text: str, old: str, new: str) -> str | None:
    """Rename NAME tokens ``old`` in a function's text; None if an f-string may hold it."""
    out, tokens = [], list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    edits = []
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.STRING and tok.string.lstrip("rbuRBU").startswith(("f", "F")) and old in tok.string:
            return None
        if tok.type == tokenize.NAME and tok.string == old:
            prev = tokens[i - 1].string if i else ""
            if prev == ".":
                continue  # an attribute of something else
            nxt = tokens[i + 1].string if i + 1 < len(tokens) else ""
            if nxt == "=" and tokens[i - 1].string in ("(", ","):
                return None  # a keyword argument of a call: not the local
            edits.append(starts[tok.start[0] - 1] + tok.start[1])
    pos = 0
    for at in edits:
        out.append(text[pos:at] + new)
        pos = at + len(old)
    out.append(text[pos:])
    return "".join(out)


def candidates(path: str, source: str, rng: np.random.Generator, count: int) -> list[BenignChange]:
    """Up to ``count`` benign changes of distinct functions of one module."""
    tree = ast.parse(source)
    defs = {(n.lineno, n.name): n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    qual = {line: name for line, _, name in _functions(tree)}
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    out: list[BenignChange] = []
    for _, fn in sorted(defs.items(), key=lambda kv: int(rng.integers(1 << 30))):
        if len(out) >= count:
            break
        names = [n for n in _locals(fn) if not _unsafe(fn, n)]
        if not names or fn.decorator_list:
            continue
        old = names[int(rng.integers(len(names)))]
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | set(keyword.kwlist)
        fresh = [n for n in _NEW_NAMES if n not in used]
        if not fresh:
            continue
        new = fresh[int(rng.integers(len(fresh)))]
        start, end = starts[fn.lineno - 1], starts[fn.end_lineno]  # type: ignore[index]
        body = _rename_in(source[start:end], old, new)
        if body is None:
            continue
        body = _with_comment(body, new, str(_COMMENTS[int(rng.integers(len(_COMMENTS)))]))
        changed = source[:start] + body + source[end:]
        try:
            ast.parse(changed)
        except SyntaxError:
            continue
        out.append(BenignChange(path, qual.get(fn.lineno, fn.name), old, new, start, end, body, fn.lineno))
    return out


def _with_comment(body: str, name: str, comment: str) -> str:
    """The comment above the first line that assigns ``name``, at its indentation."""
    lines = body.splitlines(keepends=True)
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(f"{name} =") or stripped.startswith(f"{name},") or f"for {name} in" in stripped:
            indent = line[:len(line) - len(stripped)]
            return "".join(lines[:i] + [f"{indent}{comment}\n"] + lines[i:])
    return body
