"""Reading a change the way a reviewer does: a unified diff, the files it touched, their blocks.

Pure functions over text the agent has read: parse the diff into hunks, rebuild each
file as it was before the change (the diff applied backwards to the file as it is now),
cut both versions into top-level blocks (a function, a class, an assignment) and pair
them by name, so each strategy judges whole definitions rather than loose hunk lines.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Hunk:
    old_start: int
    new_start: int
    lines: tuple[str, ...]  # each with its ' ', '-' or '+' prefix

    def side(self, keep: str) -> list[str]:
        return [line[1:] for line in self.lines if line[:1] in (" ", keep)]


@dataclass(frozen=True)
class Block:
    """One top-level statement of a file: lines ``start``..``end`` (1-based, inclusive)."""

    name: str
    start: int
    end: int
    text: str
    node: ast.stmt


@dataclass(frozen=True)
class Change:
    """A top-level definition the change added (``before`` None) or modified."""

    path: str
    before: Block | None
    after: Block


def parse_diff(text: str) -> dict[str, list[Hunk]]:
    """Hunks per post-change path, in file order. Each hunk is read for as many lines as
    its header announces, so a removed line that looks like a header is still a line."""
    files: dict[str, list[Hunk]] = {}
    lines = text.splitlines()
    i, path = 0, None
    while i < len(lines):
        line, i = lines[i], i + 1
        if line.startswith("+++ "):
            path = line[4:].strip()
            path = path[2:] if path.startswith("b/") else path
            files.setdefault(path, [])
            continue
        m = _HUNK.match(line)
        if m is None or path is None:
            continue
        old_left, new_left = int(m[2] or 1), int(m[4] or 1)
        body = []
        while (old_left > 0 or new_left > 0) and i < len(lines):
            raw, i = lines[i] or " ", i + 1  # a blank context line whose space was lost
            if raw.startswith("\\"):
                continue  # "\ No newline at end of file"
            body.append(raw)
            old_left -= raw[0] != "+"
            new_left -= raw[0] != "-"
        files[path].append(Hunk(int(m[1]), int(m[3]), tuple(body)))
    return files


def before_text(after: str, hunks: list[Hunk]) -> str | None:
    """The file as it was before the change; None when the diff does not fit the file."""
    lines = after.splitlines()
    for hunk in reversed(hunks):
        new, old = hunk.side("+"), hunk.side("-")
        at = max(hunk.new_start - 1, 0) if new else hunk.new_start
        if lines[at:at + len(new)] != new:
            return None
        lines[at:at + len(new)] = old
    return "\n".join(lines) + ("\n" if lines else "")


def added_lines(hunks: list[Hunk]) -> set[int]:
    """Post-change line numbers the change added or rewrote."""
    added = set()
    for hunk in hunks:
        n = hunk.new_start
        for line in hunk.lines:
            if line[:1] == "+":
                added.add(n)
            if line[:1] != "-":
                n += 1
    return added


def old_number(hunks: list[Hunk], new: int) -> int:
    """The line number the diff's other column gives for post-change line ``new``: the
    before-side counter at that point (the number a hurried reader copies by mistake)."""
    delta = 0
    for hunk in hunks:
        if new < hunk.new_start:
            break
        old, cur = hunk.old_start, hunk.new_start
        for line in hunk.lines:
            tag = line[:1]
            if tag != "-" and cur == new:
                return old
            old += tag != "+"
            cur += tag != "-"
        delta = old - cur
    return new + delta


def blocks(text: str) -> list[Block] | None:
    """Top-level statements with their names; None when the text is not Python."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    lines = text.splitlines()
    out = []
    for node in tree.body:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        end = node.end_lineno or node.lineno
        out.append(Block(_name(node), start, end, "\n".join(lines[start - 1:end]), node))
    return out


def _name(node: ast.stmt) -> str:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return "=" + ",".join(ast.unparse(t) for t in targets)
    return ast.unparse(node).split("\n", 1)[0]


def changes(path: str, after: str, hunks: list[Hunk]) -> list[Change] | None:
    """The definitions the diff added or modified in one file; None if it cannot be read."""
    before = before_text(after, hunks)
    old_blocks = blocks(before) if before is not None else None
    new_blocks = blocks(after)
    if old_blocks is None or new_blocks is None:
        return None
    by_name: dict[str, Block] = {}
    for block in old_blocks:
        by_name.setdefault(block.name, block)
    found = []
    for block in new_blocks:
        old = by_name.get(block.name)
        if old is None or old.text != block.text:
            found.append(Change(path, old, block))
    return found
