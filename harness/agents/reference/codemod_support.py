"""What the code-modification strategies share: reading Python the way an editor does,
splicing edits into text, writing a file and making sure it holds what was meant.

Parsing source with ``ast`` is the agent's own skill (an IDE's outline, a careful read),
applied only to text the tools returned; nothing here touches the world except through
the toolkit.
"""

from __future__ import annotations

import ast
import re

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.runtime.port import GiveUp, Submit, Think

Splice = tuple[int, int, str]  # (start, end, replacement) as character offsets


def tree_of(text: str | None) -> ast.Module | None:
    try:
        return ast.parse(text or "")
    except SyntaxError:
        return None


def offset(text: str, lineno: int, col: int) -> int:
    """Character offset of (1-based line, 0-based column); the sources here are ASCII."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts[lineno - 1] + col


def span(text: str, node: ast.AST) -> tuple[int, int]:
    return (offset(text, node.lineno, node.col_offset),  # type: ignore[attr-defined]
            offset(text, node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]


def splice(text: str, edits: list[Splice]) -> str:
    """Apply non-overlapping edits, last first, so earlier offsets stay valid."""
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def calls_to(tree: ast.Module, name: str, modules: set[str] = frozenset()) -> list[ast.Call]:
    """Calls of the module-level ``name``: ``name(...)`` or ``mod.name(...)`` for a module
    alias in ``modules``; a method of the same name on some object is another function."""
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


def function_def(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def import_line_end(text: str) -> int:
    """Where a new import goes: after the last top-level import, else after the docstring."""
    tree = tree_of(text)
    if tree is None or not tree.body:
        return 0
    anchor = None
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            anchor = node
    first = tree.body[0]
    is_doc = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant)
    anchor = anchor or (first if is_doc else None)
    if anchor is None:
        return 0
    return offset(text, anchor.end_lineno + 1, 0)  # type: ignore[operator]


def add_import(text: str, line: str) -> str:
    if line in text.splitlines():
        return text
    at = import_line_end(text)
    prefix = "\n" if at and not _has_import(text) else ""
    return text[:at] + prefix + line + "\n" + text[at:]


def _has_import(text: str) -> bool:
    tree = tree_of(text)
    return tree is not None and any(isinstance(n, ast.Import | ast.ImportFrom) for n in tree.body)


def between(text: str, start: str, end: str) -> str | None:
    m = re.search(re.escape(start) + r"(.*?)" + re.escape(end), text, re.S)
    return m.group(1) if m else None


def write_checked(kit: Toolkit, errors: ErrorProcesses, path: str, text: str) -> Steps:
    """Write ``text`` to ``path`` and make sure it is there: a tool that reports edits is
    believed; otherwise the file is read back. Bounded by the retries; True when it holds."""
    for _ in range(1 + errors.retries):
        outcome = yield from kit.write(path, text)
        if outcome.applied and kit.reports_edits:
            return True
        if outcome.refused:
            continue  # refused before touching the world: the same intent, once more
        now = yield from kit.read(path)
        if now is not None and now.rstrip("\n") == text.rstrip("\n"):
            return True
        yield Think(step=f"{path} does not hold what I wrote; write it again", confidence=0.8)
    return False


def recheck(kit: Toolkit, errors: ErrorProcesses, meant: dict[str, str]) -> Steps:
    """Read back every file edited and rewrite any that differ from what was meant (the
    way a slip in an edit is found: by looking at the diff). Paths rewritten."""
    fixed = []
    for path, text in sorted(meant.items()):
        now = yield from kit.read(path)
        if now is None or now.rstrip("\n") != text.rstrip("\n"):
            fixed.append(path)
            yield from write_checked(kit, errors, path, text)
    return fixed


def tests_pass(kit: Toolkit, errors: ErrorProcesses, module: str) -> Steps:
    """Run the tests, asking again when the run itself did not happen (a mistyped path)."""
    outcome = None
    for _ in range(1 + errors.retries):
        outcome = yield from kit.run_tests(module)
        if outcome.ok or any("not found" not in f for f in outcome.failures):
            return outcome
    return outcome


def verify_and_submit(kit: Toolkit, errors: ErrorProcesses, test_module: str, meant: dict[str, str]) -> Steps:
    """Run the tests; on failure compare edited files with what was meant and repair, at
    most ``retries`` times; then submit or give up."""
    for _ in range(1 + errors.retries):
        outcome = yield from tests_pass(kit, errors, test_module)
        if outcome is not None and outcome.ok:
            yield Submit(answer={})
            return
        yield Think(step="tests fail; compare edited files with what I meant",
                    evidence=tuple((outcome.failures if outcome else [])[:3]))
        yield from recheck(kit, errors, meant)
    yield GiveUp(reason="tests still fail after repairs")
