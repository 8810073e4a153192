"""What the code-modification strategies share: reading Python the way an editor does,
splicing edits into text, writing a file and making sure it holds what was meant.

Parsing source with ``ast`` is the agent's own skill (an IDE's outline, a careful read),
applied only to text the tools returned; nothing here touches the world except through
the toolkit.
"""

from __future__ import annotations

import ast
import json
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.pyast import (
    calls_to,  # noqa: F401 - re-exported for the strategies
    parse,
)
from harness.runtime.port import GiveUp, History, Submit, Think

Splice = tuple[int, int, str]  # (start, end, replacement) as character offsets


def tree_of(text: str | None) -> ast.Module | None:
    try:
        return parse(text or "")
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


def edit_checked(kit: Toolkit, errors: ErrorProcesses, path: str, before: str | None, after: str) -> Steps:
    """Change ``path`` from ``before`` to ``after``. A tool with a structured replace gets the
    whole old text as its ``old`` argument, so the call itself records what it replaced
    (an undo record the history can give back); otherwise the file is written."""
    if kit.reports_edits and before:
        outcome = yield from kit.replace(path, before, after, expected=1)
        if outcome.applied:
            return True
    return (yield from write_checked(kit, errors, path, after))


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


def verify_and_submit(kit: Toolkit, errors: ErrorProcesses, test_module: str, meant: EditMemory,
                      redo: Redo | None = None) -> Steps:
    """Run the tests; on failure compare the edits still in mind with what was meant, ask
    the history about the ones that are not, repair, at most ``retries`` times; then submit
    or give up."""
    for _ in range(1 + errors.retries):
        outcome = yield from tests_pass(kit, errors, test_module)
        if outcome is not None and outcome.ok:
            yield Submit(answer={})
            return
        yield Think(step="tests fail; compare edited files with what I meant",
                    evidence=tuple((outcome.failures if outcome else [])[:3]))
        yield from repair(kit, errors, meant, redo)
    yield GiveUp(reason="tests still fail after repairs")


def repair(kit: Toolkit, errors: ErrorProcesses, meant: EditMemory, redo: Redo | None) -> Steps:
    """Files still in mind are compared with what was meant; each forgotten one is
    recovered once from the history (see ``history_edits``)."""
    yield from recheck(kit, errors, meant.held)
    for path in meant.forgotten():
        meant.settled.add(path)  # one recovery per file: the history will not say more next time
        if redo is not None:
            yield from recover(kit, errors, path, redo)


# -- bounded memory of one's own edits, and recovering the rest from the history ----------
Redo = Callable[[str, str], "str | None"]  # (path, text before the edit) -> what was meant


class EditMemory:
    """What the agent still holds of its own edits: the intended text of only the
    ``capacity`` most recently edited files. Older ones leave just their path (the list of
    files touched is a short to-do list; their contents are not); what they were meant to
    hold must be recovered from the history, or not at all."""

    def __init__(self, capacity: int):
        self.capacity = max(1, capacity)
        self.held: OrderedDict[str, str] = OrderedDict()
        self.edited: list[str] = []
        self.settled: set[str] = set()

    def __setitem__(self, path: str, text: str) -> None:
        self.held.pop(path, None)
        self.held[path] = text
        if path not in self.edited:
            self.edited.append(path)
        while len(self.held) > self.capacity:
            self.held.popitem(last=False)

    def forgotten(self) -> list[str]:
        return [p for p in self.edited if p not in self.held and p not in self.settled]


@dataclass(frozen=True)
class PastEdit:
    """What the history says was last done to a file: the text it replaced (when the call
    carried it) and the text it left."""

    before: str | None
    after: str | None


def recover(kit: Toolkit, errors: ErrorProcesses, path: str, redo: Redo) -> Steps:
    """Re-derive what ``path`` was meant to hold: from the replaced text the history gives
    back (undo the edit and redo it right), else from the written text (re-apply it if
    the file differs), else from scratch on the file as it is now."""
    past = yield from history_edit(errors, path)
    now = yield from kit.read(path)
    if now is None:
        return False
    if past is not None and past.before is not None:
        intended = redo(path, past.before)
    elif past is not None and past.after is not None and past.after.rstrip("\n") != now.rstrip("\n"):
        intended = past.after
    else:
        yield Think(step=f"the history does not show what I did to {path}; redo it from the task", confidence=0.3)
        intended = redo(path, now)
        if intended is not None and redo(path, intended) != intended:
            return False  # the file already bears an edit; doing it again on top would compound it
    if intended is None or intended.rstrip("\n") == now.rstrip("\n"):
        return False
    return (yield from write_checked(kit, errors, path, intended))


def history_edit(errors: ErrorProcesses, path: str) -> Steps:
    """Ask the history for the last change to ``path``. A structured answer names the
    action, whose full arguments are asked for next; a text answer is read line by line
    and the last line naming the file is parsed, when it was not cut short."""
    obs = yield History(query={"op": "last_change", "resource": f"file:{path}", "text": path})
    if not obs.ok:
        return None
    if obs.data is not None:
        node = obs.data.get("action")
        if not node:
            return None
        call = yield History(query={"op": "call", "seq": node["seq"]})
        return _edit_from_args(path, call.data.get("args", {})) if call.ok and call.data else None
    for line in reversed(errors.read_lines(obs.text or "")):
        args = _args_from_line(line)
        if args is not None:
            edit = _edit_from_args(path, args)
            if edit is not None:
                return edit
    return None


def _args_from_line(line: str) -> dict | None:
    """``<time> <tool>: <json args> -> <outcome>``; a line cut short does not parse."""
    m = re.match(r"\S+ \w+: (\{.*\}) -> ", line)
    if not m:
        return None
    try:
        args = json.loads(m.group(1))
    except ValueError:
        return None
    return args if isinstance(args, dict) else None


def _edit_from_args(path: str, args: dict) -> PastEdit | None:
    if args.get("path") == path and "old" in args and "new" in args:
        return PastEdit(str(args["old"]), str(args["new"]))
    if args.get("path") == path and "text" in args:
        return PastEdit(None, str(args["text"]))
    m = re.match(r"cat >>? (\S+) <<'(\w+)'\n(.*)\n\2$", str(args.get("command", "")), re.S)
    if m and m.group(1).strip("'") == path:
        return PastEdit(None, m.group(3) + "\n")
    return None
