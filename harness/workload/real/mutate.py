"""Small, single-site mutations of a real package's own modules, from the AST.

Each mutation is a *text edit* of one span of the original file (an operator token, a
constant, a condition, a slice bound, two arguments), never a re-rendering of the module
through ``ast.unparse``: the rest of the file, comments and formatting included, stays
byte-identical, so the gold fix is exactly the original span and a diff shows one site.

Kinds (the issue's list): ``operator`` (a binary, comparison, boolean or augmented
operator swapped for its usual confusion), ``constant`` (an int n→n+1, True↔False),
``condition`` (an if/while/ternary test negated), ``off_by_one`` (a slice bound or a
``range`` stop moved by one) and ``swap_args`` (the first two positional arguments of a
call exchanged). Docstrings, ``__all__``, type-checking-only and ``__main__`` blocks are
never touched: a mutation there is not a bug a suite could catch.

Enumeration is exhaustive and sorted; ``sample`` draws from it with a named RNG stream, so
the same (package, seed) gives the same mutants in any process.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, replace

from harness.core.rng import stream

KINDS = ("operator", "constant", "condition", "off_by_one", "swap_args")

# Each operator's usual confusion (both directions where the swap is its own inverse).
_SWAPS: dict[str, str] = {
    "+": "-", "-": "+", "*": "/", "/": "*", "//": "/", "%": "//", "<<": ">>", ">>": "<<",
    "&": "|", "|": "&", "^": "|",
    "<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==",
    "is": "is not", "is not": "is", "in": "not in", "not in": "in",
    "and": "or", "or": "and",
}


@dataclass(frozen=True, order=True)
class Mutant:
    """One edit of one file: ``source[start:end]`` (character offsets) becomes ``new``."""

    path: str
    start: int
    end: int
    kind: str
    old: str
    new: str
    line: int
    function: str = ""  # qualified name of the innermost def holding the site

    @property
    def mutant_id(self) -> str:
        return f"{self.path}:{self.line}:{self.start}:{self.kind}"

    def apply(self, source: str) -> str:
        if source[self.start:self.end] != self.old:
            raise ValueError(f"mutant {self.mutant_id} does not match its file")
        return source[:self.start] + self.new + source[self.end:]


def _offsets(source: str) -> list[int]:
    starts, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


class _Sites:
    """Enumerates the mutation sites of one module."""

    def __init__(self, path: str, source: str):
        self.path, self.source = path, source
        self.starts = _offsets(source)
        self.tree = ast.parse(source)

    def off(self, line: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets; convert within the line.
        text = self.source[self.starts[line - 1]:self.starts[line]]
        return self.starts[line - 1] + len(text.encode("utf-8")[:col].decode("utf-8", "replace"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.off(node.lineno, node.col_offset),  # type: ignore[attr-defined]
                self.off(node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]

    def mutant(self, start: int, end: int, kind: str, new: str) -> Mutant:
        line = self.source.count("\n", 0, start) + 1
        return Mutant(self.path, start, end, kind, self.source[start:end], new, line)

    def between(self, left: ast.AST, right: ast.AST, kind: str) -> Iterator[Mutant]:
        """The operator token in the gap between two operands (outside any parentheses)."""
        a, b = self.span(left)[1], self.span(right)[0]
        gap = self.source[a:b]
        token = " ".join(gap.replace("(", " ").replace(")", " ").split())
        if token in _SWAPS and "#" not in gap and "\\" not in gap:
            first = gap.index(token.split()[0])
            last = gap.rindex(token.split()[-1]) + len(token.split()[-1])
            yield self.mutant(a + first, a + last, kind, _SWAPS[token])

    def all(self) -> Iterator[Mutant]:
        skip = _skipped(self.tree)
        for node in ast.walk(self.tree):
            if id(node) in skip:
                continue
            yield from self._at(node)

    def _at(self, node: ast.AST) -> Iterator[Mutant]:
        if isinstance(node, ast.BinOp):
            yield from self.between(node.left, node.right, "operator")
        elif isinstance(node, ast.Compare) and len(node.ops) == 1:
            yield from self.between(node.left, node.comparators[0], "operator")
        elif isinstance(node, ast.BoolOp) and len(node.values) == 2:
            yield from self.between(node.values[0], node.values[1], "operator")
        elif isinstance(node, ast.AugAssign):
            a, b = self.span(node.target)[1], self.span(node.value)[0]
            gap = self.source[a:b].strip()
            if gap.endswith("=") and gap[:-1] in _SWAPS:
                start = self.source.index(gap, a)
                yield self.mutant(start, start + len(gap), "operator", _SWAPS[gap[:-1]] + "=")
        elif isinstance(node, ast.Constant) and type(node.value) in (bool, int):
            start, end = self.span(node)
            text = self.source[start:end]
            if isinstance(node.value, bool):
                yield self.mutant(start, end, "constant", str(not node.value))
            elif text.isdigit():
                yield self.mutant(start, end, "constant", str(node.value + 1))
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
            start, end = self.span(node.test)
            if not isinstance(node.test, ast.Compare):  # a comparison's bug is its operator
                yield self.mutant(start, end, "condition", f"not {_atom(node.test, self.source[start:end])}")
        elif isinstance(node, ast.Slice):
            for bound in (node.lower, node.upper):
                if bound is not None:
                    yield self._plus_one(bound)
        elif isinstance(node, ast.Call):
            yield from self._call(node)

    def _plus_one(self, node: ast.expr) -> Mutant:
        """``n`` -> ``n + 1`` as a person would write it (a literal is simply the next number)."""
        start, end = self.span(node)
        text = self.source[start:end]
        if isinstance(node, ast.Constant) and type(node.value) is int and text.isdigit():
            return self.mutant(start, end, "off_by_one", str(node.value + 1))
        return self.mutant(start, end, "off_by_one", f"{_atom(node, text)} + 1")

    def _call(self, node: ast.Call) -> Iterator[Mutant]:
        args = node.args
        if isinstance(node.func, ast.Name) and node.func.id == "range" and 1 <= len(args) <= 2:
            yield self._plus_one(args[-1])
        if len(args) >= 2 and not any(isinstance(a, ast.Starred) for a in args[:2]):
            (s0, e0), (s1, e1) = self.span(args[0]), self.span(args[1])
            first, second = self.source[s0:e0], self.source[s1:e1]
            if first != second and "\n" not in first + second:
                new = second + self.source[e0:s1] + first
                yield self.mutant(s0, e1, "swap_args", new)


def _atom(node: ast.expr, text: str) -> str:
    """The expression's text, parenthesised only where an operator next to it needs that."""
    simple = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant)
    return text if isinstance(node, simple) else f"({text})"


def _skipped(tree: ast.Module) -> set[int]:
    """Ids of nodes no mutation touches: docstrings, ``__all__``, TYPE_CHECKING and
    ``__main__`` blocks (dead at test time), and everything under them."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            roots.append(body[0])
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                for t in node.targets):
            roots.append(node)
        if isinstance(node, ast.If):
            test = ast.unparse(node.test)
            if "TYPE_CHECKING" in test or "__main__" in test:
                roots.append(node)
    return {id(sub) for root in roots for sub in ast.walk(root)}


def _functions(tree: ast.Module) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every def, outermost first."""
    out: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    out.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return out


def _inside(functions: list[tuple[int, int, str]], line: int) -> str:
    found = [f for f in functions if f[0] < line <= f[1]]  # the def line itself is its signature
    return max(found, key=lambda f: f[0])[2] if found else ""


def enumerate_mutants(files: dict[str, str]) -> list[Mutant]:
    """Every valid mutant inside a function body of the given modules, sorted: it parses,
    and its AST differs. Module-level code (version strings, tables, imports) is left
    alone: a bug report about it would name the line."""
    out: list[Mutant] = []
    for path in sorted(files):
        source = files[path]
        original = ast.dump(ast.parse(source))
        functions = _functions(ast.parse(source))
        seen: set[tuple[int, int, str]] = set()
        for m in _Sites(path, source).all():
            function = _inside(functions, m.line)
            if not function:
                continue
            m = replace(m, function=function)
            if (m.start, m.end, m.new) in seen:
                continue
            seen.add((m.start, m.end, m.new))
            try:
                changed = ast.dump(ast.parse(m.apply(source))) != original
            except SyntaxError:
                continue
            if changed:
                out.append(m)
    return sorted(out)


def sample(mutants: list[Mutant], count: int, seed: int, package: str) -> list[Mutant]:
    """``count`` mutants drawn without replacement from a stream named after the package,
    returned in enumeration order; the same inputs give the same list in any process."""
    if count >= len(mutants):
        return list(mutants)
    rng = stream(seed, f"real/{package}", 0, "mutants")
    picked = rng.choice(len(mutants), size=count, replace=False)
    return [mutants[i] for i in sorted(int(i) for i in picked)]
