"""Python-source primitives: identifiers by AST, renames by token.

Both the checkers (is the old name gone?) and the typed tool layer (safe batch rename)
use these, so "identifier" means the same thing on both sides.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections import Counter
from functools import lru_cache


class FrozenCounter(Counter):
    """A Counter that refuses changes: cached results are shared between callers."""

    def __init__(self, counts: dict[str, int] | None = None):
        dict.__init__(self, counts or {})

    def _refuse(self, *args, **kwargs):
        raise TypeError("identifier counts are shared and read-only; copy with Counter(counts)")

    __setitem__ = __delitem__ = update = subtract = clear = pop = popitem = setdefault = _refuse


def identifier_counts(source: str) -> FrozenCounter:
    """How often each name occurs as an identifier (not in strings or comments).

    Memoised by source text: agents search, tools rename and checkers verify the same
    files over and over, and parsing dominated episode time before this cache.
    Raises ``SyntaxError`` (or ``ValueError`` for null bytes) when the source does not parse.
    """
    return _identifier_counts(source)


@lru_cache(maxsize=8192)
def _identifier_counts(source: str) -> FrozenCounter:
    counts: Counter[str] = Counter()
    for node in ast.walk(ast.parse(source)):
        for name in _names_of(node):
            counts[name] += 1
    return FrozenCounter(counts)


def _names_of(node: ast.AST) -> list[str]:
    match node:
        case ast.Name(id=name):
            return [name]
        case ast.Attribute(attr=name):
            return [name]
        case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name) | ast.ClassDef(name=name):
            return [name]
        case ast.arg(arg=name):
            return [name]
        case ast.keyword(arg=name) if name:
            return [name]
        case ast.alias(name=name, asname=asname):
            return [part for part in (*name.split("."), asname) if part]
        case ast.ImportFrom(module=module) if module:
            return module.split(".")
        case ast.ExceptHandler(name=name) if name:
            return [name]
        case ast.Global(names=names) | ast.Nonlocal(names=names):
            return list(names)
        # Capture names of match patterns bind like assignments (``case Point(x=px)``, ``case
        # [first, *rest]``, ``case {**extra}``); the keyword names of a class pattern are
        # attributes. The tokenizer sees all of them as names, so the rename reaches them too.
        case ast.MatchAs(name=name) | ast.MatchStar(name=name) if name:
            return [name]
        case ast.MatchMapping(rest=name) if name:
            return [name]
        case ast.MatchClass(kwd_attrs=names):
            return list(names)
    return []


def defines(source: str, name: str) -> bool:
    """Whether the module defines ``name`` at top level (def, class or assignment)."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return True
    return False


def rename_identifier(source: str, old: str, new: str) -> tuple[str, int]:
    """Rename every NAME token equal to ``old``; strings, comments and longer names that
    merely contain ``old`` are untouched. Returns (new source, number of renames).

    Names inside f-string replacement fields are found by their AST positions too: before
    Python 3.12 the tokenizer yields a whole f-string as one STRING token.
    Raises ``SyntaxError`` (or ``tokenize.TokenError``) when the source cannot be read.
    """
    if old not in identifier_counts(source):  # parses (cached) or raises, before any change
        return source, 0
    lines = source_lines(source)
    edits = name_starts(source, lines, old)
    return replace_at(lines, edits, len(old), new), len(edits)


def source_lines(source: str) -> list[str]:
    """The lines as the tokenizer and the parser number them: split at newlines only.
    ``str.splitlines`` also splits at form feeds and other separators real code contains
    (a ``^L`` page break between sections), which would shift every later row."""
    lines = source.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    return out + [lines[-1]] if lines[-1] else out


def char_col(line: str, byte_col: int) -> int:
    """The AST counts columns in UTF-8 bytes, the tokenizer and ``str`` in characters."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def name_starts(source: str, lines: list[str], old: str) -> list[tuple[int, int]]:
    """(row, column) of every identifier ``old`` in ``source``, sorted, each verified in the text."""
    starts = {tok.start for tok in tokenize.generate_tokens(io.StringIO(source).readline)
              if tok.type == tokenize.NAME and tok.string == old}
    starts |= _fstring_name_starts(source, lines, old)
    return sorted(p for p in starts if lines[p[0] - 1][p[1]:p[1] + len(old)] == old)


def replace_at(lines: list[str], starts: list[tuple[int, int]], length: int, new: str) -> str:
    """``lines`` joined, with ``length`` characters at each (row, column) replaced by ``new``."""
    lines = list(lines)
    for row, col in sorted(starts, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + new + line[col + length:]
    return "".join(lines)


def _fstring_name_starts(source: str, lines: list[str], old: str) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for fstring in (n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.JoinedStr)):
        for node in ast.walk(fstring):
            if isinstance(node, ast.Name) and node.id == old:
                found.add((node.lineno, char_col(lines[node.lineno - 1], node.col_offset)))
            elif isinstance(node, ast.Attribute) and node.attr == old and node.end_lineno is not None:
                end = char_col(lines[node.end_lineno - 1], node.end_col_offset or 0)
                found.add((node.end_lineno, end - len(old)))
    return found


def add_keyword_parameter(source: str, function: str, parameter: str) -> str:
    """``source`` with ``parameter`` (e.g. ``post=None``) added to the top-level function
    ``function`` as a keyword-only parameter: before ``**kwargs`` when there is one, after
    the other keyword-only parameters, with a bare ``*`` first when the function has none.
    The rest of the file is untouched. Raises ValueError when there is no such function."""
    tree = ast.parse(source)
    node = next((n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                 and n.name == function), None)
    if node is None:
        raise ValueError(f"no top-level function {function!r}")
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode()))
    raw = source.encode()
    a = node.args
    if a.kwarg is not None:  # before ``**kwargs``: find its ``**``
        at = starts[a.kwarg.lineno - 1] + a.kwarg.col_offset
        at = raw.rindex(b"**", 0, at)
        text = f"{parameter}, " if (a.vararg or a.kwonlyargs) else f"*, {parameter}, "
        return (raw[:at] + text.encode() + raw[at:]).decode()
    close = _closing_paren(raw, starts[node.lineno - 1] + node.col_offset)
    head = raw[:close].rstrip()
    has_params = bool(a.posonlyargs or a.args or a.vararg or a.kwonlyargs)
    sep = b"" if not has_params or head.endswith(b",") else b","
    lead = b" " if has_params else b""
    text = (parameter if (a.vararg or a.kwonlyargs) else f"*, {parameter}").encode()
    return (head + sep + lead + text + raw[close:]).decode()


def _closing_paren(raw: bytes, def_at: int) -> int:
    """Byte offset of the ``)`` that closes the parameter list of the def at ``def_at``."""
    text = raw[def_at:].decode()
    depth, offset = 0, 0
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.OP and tok.string == "(":
            depth += 1
        elif tok.type == tokenize.OP and tok.string == ")":
            depth -= 1
            if depth == 0:
                line_start = sum(len(x.encode()) for x in text.splitlines(keepends=True)[:tok.start[0] - 1])
                offset = line_start + len(text.splitlines(keepends=True)[tok.start[0] - 1][:tok.start[1]].encode())
                return def_at + offset
    raise ValueError("unbalanced parameter list")
