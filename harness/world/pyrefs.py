"""A symbol's references beyond its identifiers: ``__all__`` and ``__slots__`` entries,
doctest code, the mentions in docstrings, strings and comments that a rename must not
guess about, and the uses that belong to another library.

Real packages name their public symbols in ``__all__`` (the module's export list: a
string there that no longer names anything breaks ``from mod import *``), declare
attributes in ``__slots__`` and show their API in doctests (code that ``pytest
--doctest-modules`` runs). All three are renamed with the symbol. Every other mention in
text is prose or data (``getattr(obj, "name")``, a dict key, an error message): renaming
it may be right or wrong, so it is reported, not done.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass

from harness.world.pycode import char_col, identifier_counts, name_starts, replace_at, source_lines

Position = tuple[int, int]  # (row from 1, column in characters)

# ``__all__.extend([...])`` and friends; a call of any other method is not an export list.
_ALL_METHODS = frozenset({"append", "extend", "insert"})
# Doctest prompts: an example's first line, and the lines continuing it.
_PS1 = re.compile(r"[ \t]*>>>(?: |$)")
_PS2 = re.compile(r"[ \t]*\.\.\.(?: |$)")
_STRING_PREFIX = "rRuU"


@dataclass(frozen=True)
class SymbolRename:
    """One module renamed: its new text, and how many references of each kind changed."""

    text: str
    identifiers: int
    all_entries: int
    doctest_names: int
    slots_entries: int = 0

    @property
    def total(self) -> int:
        return self.identifiers + self.all_entries + self.doctest_names + self.slots_entries


@dataclass(frozen=True)
class Mention:
    """A whole-word mention in text: ``kind`` is docstring, doctest_output (a line a doctest
    compares), string or comment."""

    line: int
    kind: str


def rename_symbol(source: str, old: str, new: str) -> SymbolRename:
    """Rename ``old`` to ``new`` as an identifier, as an ``__all__`` or ``__slots__`` entry
    and as a name in doctest code. Raises ``SyntaxError`` (or ``ValueError``, ``tokenize.TokenError``) when
    the source cannot be read, before anything is computed from it."""
    tree = ast.parse(source)
    lines = source_lines(source)
    names = name_starts(source, lines, old) if old in identifier_counts(source) else []
    entries = [p for p in _literal_starts(_all_literals(tree), lines, old) if _at(lines, p, old)]
    # A class's __slots__ names its attributes: they are renamed with the attributes (every
    # ``obj.old`` is), or ``self.new = ...`` would fail in a class that has no slot for it.
    slots = [p for p in _literal_starts(_slots_literals(tree), lines, old) if _at(lines, p, old)]
    # Doctest lines are renamed: they are code the test suite runs, and a doctest still
    # calling the old name fails after the rename as surely as a test module would. What
    # they print (their expected output) is text, and is only reported.
    doctest = [p for p in _doctest_name_starts(tree, lines, old) if _at(lines, p, old)]
    text = replace_at(lines, [*names, *entries, *doctest, *slots], len(old), new)
    return SymbolRename(text, len(names), len(entries), len(doctest), len(slots))


def all_entries(source: str, name: str) -> int:
    """How many ``__all__`` entries of the module are exactly ``name``."""
    return sum(1 for node in _all_literals(ast.parse(source)) if node.value == name)


def mentions(source: str, name: str) -> list[Mention]:
    """Whole-word mentions of ``name`` in docstrings, other strings and comments, one per
    line and kind, in order. Identifiers inside f-string fields are code, not mentions, but
    before Python 3.12 an f-string is one token: its fields are blanked out first."""
    tree = ast.parse(source)
    lines = source_lines(source)
    spans = _docstring_spans(tree, lines)
    docstrings = {start for start, _ in spans}
    outputs = {row for span in spans for row in _doctest_rows(lines, span)[1]}
    word = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
    found: dict[tuple[int, str], None] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in (tokenize.COMMENT, tokenize.STRING):
            continue
        for match in word.finditer(_without_fields(tok.string)):
            row = tok.start[0] + tok.string.count("\n", 0, match.start())
            found[(row, _kind(tok, row, docstrings, outputs))] = None
    # An entry spelt so that no token shows the whole name (``'Led' 'ger'``) still names it.
    for node in (*_all_literals(tree), *_slots_literals(tree)):
        if node.value == name:
            found[(node.lineno, "string")] = None
    return [Mention(line, kind) for line, kind in sorted(found, key=lambda k: k[0])]


def _kind(tok: tokenize.TokenInfo, row: int, docstrings: set[Position], outputs: set[int]) -> str:
    if tok.type == tokenize.COMMENT:
        return "comment"
    if tok.start not in docstrings:
        return "string"
    # A doctest's expected output is compared by the suite (a repr printing a class's name
    # fails once the class is renamed), unlike prose: the agent is told which it is.
    return "doctest_output" if row in outputs else "docstring"


def foreign_references(source: str, name: str, local: frozenset[str]) -> list[tuple[int, str]]:
    """(line, module) of each use of ``name`` that belongs to a module imported from outside
    the workspace (``local``: the names of its packages and modules): ``itertools.groupby``
    or ``from itertools import count`` in a package that defines its own ``groupby`` or
    ``count``. A rename changes these too (which object owns an attribute is not known
    statically, and the checkers count every identifier), but they almost surely belong to
    the other library."""
    tree = ast.parse(source)
    external = _external_modules(tree, local)
    found = [(node.lineno, node.module) for node in ast.walk(tree)
             if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
             and node.module.split(".")[0] not in local and any(a.name == name for a in node.names)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == name and node.end_lineno is not None:
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in external:
                found.append((node.end_lineno, external[root.id] + ast.unparse(node.value)[len(root.id):]))
    return sorted(found)


def _external_modules(tree: ast.Module, local: frozenset[str]) -> dict[str, str]:
    """Names bound by ``import`` to modules from outside the workspace -> the module."""
    bound = {}
    for node in (n for n in ast.walk(tree) if isinstance(n, ast.Import)):
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top not in local:
                bound[alias.asname or top] = alias.name if alias.asname else top
    return bound


# -- __all__ --------------------------------------------------------------------------------
def _all_literals(tree: ast.Module) -> Iterator[ast.Constant]:
    """String constants listed in the module's ``__all__``: assigned, annotated, added to
    (``+=``) or passed to ``__all__.append/extend/insert``, at module level (also inside
    module-level ``if``/``try`` blocks, where version-dependent exports live)."""
    for stmt in _module_level(tree.body):
        for listed in _listed_by(stmt):
            for node in ast.walk(listed):
                if isinstance(node, ast.List | ast.Tuple | ast.Set):
                    yield from (e for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
                elif listed is node and isinstance(node, ast.Constant) and isinstance(node.value, str):
                    yield node  # __all__.append("name")


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If | ast.Try | ast.With):
            for block in ("body", "orelse", "finalbody"):
                yield from _module_level(getattr(stmt, block, []))
            for handler in getattr(stmt, "handlers", []):
                yield from _module_level(handler.body)


def _listed_by(stmt: ast.stmt) -> list[ast.expr]:
    match stmt:
        case ast.Assign(targets=targets, value=value) if any(_is_all(t) for t in targets):
            return [value]
        case ast.AnnAssign(target=target, value=value) if _is_all(target) and value is not None:
            return [value]
        case ast.AugAssign(target=target, op=ast.Add(), value=value) if _is_all(target):
            return [value]
        case ast.Expr(value=ast.Call(func=ast.Attribute(value=owner, attr=method), args=args)) if (
            _is_all(owner) and method in _ALL_METHODS
        ):
            return list(args)
    return []


def _is_all(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "__all__"


def _slots_literals(tree: ast.Module) -> Iterator[ast.Constant]:
    """String constants of the ``__slots__`` assigned in class bodies (a string, or a list,
    tuple or set of them)."""
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for stmt in cls.body:
            match stmt:
                case ast.Assign(targets=[ast.Name(id="__slots__")], value=value) | ast.AnnAssign(
                    target=ast.Name(id="__slots__"), value=value
                ) if value is not None:
                    yield from _strings_listed(value)


def _strings_listed(value: ast.expr) -> Iterator[ast.Constant]:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        yield value
    elif isinstance(value, ast.List | ast.Tuple | ast.Set):
        yield from (e for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))


def _literal_starts(literals: Iterator[ast.Constant], lines: list[str], old: str) -> list[Position]:
    """Where the name inside each plain ``"old"`` entry starts. An entry spelt otherwise
    (implicitly concatenated, escaped, triple-quoted) is left alone and reported."""
    starts = []
    for node in literals:
        if node.value != old or node.end_lineno != node.lineno or node.end_col_offset is None:
            continue
        line = lines[node.lineno - 1]
        start, end = char_col(line, node.col_offset), char_col(line, node.end_col_offset)
        literal = line[start:end]
        body = literal.lstrip(_STRING_PREFIX)
        if len(body) == len(old) + 2 and body[0] == body[-1] and body[0] in "'\"":
            starts.append((node.lineno, start + len(literal) - len(body) + 1))
    return starts


# -- doctests ---------------------------------------------------------------------------
def _docstring_spans(tree: ast.Module, lines: list[str]) -> list[tuple[Position, Position]]:
    """Where each docstring's literal is: the first statement of a module, class or function,
    and a string assigned to ``X.__doc__`` (``f.__doc__ = '>>> f(1) ...'``: doctest
    reads ``__doc__`` at run time, so its examples run all the same)."""
    spans = []
    for doc in _docstrings(tree):
        end_row = doc.end_lineno or doc.lineno
        spans.append(((doc.lineno, char_col(lines[doc.lineno - 1], doc.col_offset)),
                      (end_row, char_col(lines[end_row - 1], doc.end_col_offset or 0))))
    return spans


def _docstrings(tree: ast.Module) -> Iterator[ast.Constant]:
    for node in ast.walk(tree):
        value = None
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            value = first.value if isinstance(first, ast.Expr) else None
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "__doc__"
                                                  for t in node.targets):
            value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            yield value


def _doctest_name_starts(tree: ast.Module, lines: list[str], old: str) -> list[Position]:
    """Names ``old`` in the code of doctest examples (``>>>`` lines and the ``...`` lines
    continuing them) of docstrings, read line by line from the source as written."""
    found = []
    for span in _docstring_spans(tree, lines):
        code, _ = _doctest_rows(lines, span)
        for row, start in code.items():
            if old in lines[row - 1][start:]:
                found += [(row, start + col) for col in _fragment_names(lines[row - 1][start:], old)]
    return found


def _doctest_rows(lines: list[str], span: tuple[Position, Position]) -> tuple[dict[int, int], list[int]]:
    """A docstring's doctest rows, by doctest's own rules: ({code row: column where its code
    starts}, [expected output rows]). Output runs from an example to the next blank line
    or prompt; ``...`` continues code only right after code (elsewhere it is an ellipsis)."""
    (srow, scol), (erow, ecol) = span
    code: dict[int, int] = {}
    output: list[int] = []
    in_example = False
    for row in range(srow, erow + 1):
        line = lines[row - 1]
        begin = scol if row == srow else 0
        segment = line[begin:ecol if row == erow else len(line)]
        prompt = _PS1.match(segment) or (_PS2.match(segment) if row - 1 in code else None)
        if prompt is not None:
            code[row] = begin + prompt.end()
            in_example = True
        elif not segment.strip().strip("'\""):  # a blank line, or the closing quotes
            in_example = False
        elif in_example:
            output.append(row)
    return code, output


def _fragment_names(code: str, old: str) -> list[int]:
    """Columns of the NAME tokens ``old`` in one line of code, which may be a fragment of a
    longer statement: tokens read before the tokenizer gives up still count."""
    cols = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.NAME and tok.string == old and tok.start[0] == 1:
                cols.append(tok.start[1])
    except (tokenize.TokenError, SyntaxError):
        pass
    return cols


def _at(lines: list[str], pos: Position, name: str) -> bool:
    row, col = pos
    return lines[row - 1][col:col + len(name)] == name


_FIELD = re.compile(r"\{[^{}]*\}")


def _without_fields(token: str) -> str:
    """An f-string token with its ``{...}`` fields blanked (same length, newlines kept), so
    the names in them, which are code, are not reported as text."""
    prefix = token[: len(token) - len(token.lstrip("rRbBuUfF"))]
    if "f" not in prefix.lower():
        return token
    return _FIELD.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), token.replace("{{", "  ").replace("}}", "  "))
