"""Strategy for migrating a package to a vendored library's new API: read the changelog,
plan each change (a new name, a renamed keyword, a new argument order), rewrite every
call once, verify with the tests, repair by reading back, submit.

The changelog is read like a person reads it: each breaking-change bullet names the old
and the new signature in backticks, or a keyword's old and new name. An argument-order
change keeps the function's name, so a migrated call looks like an unmigrated one: each
file is rewritten exactly once, and repairs compare files with what was meant instead
of rewriting again.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from harness.agents.reference import codemod_support as cs
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Think

_SIG = re.compile(r"`(\w+)\(([^`]*)\)`")
_KEYWORD = re.compile(r"keyword `(\w+)` is now called `(\w+)`")


@dataclass(frozen=True)
class Change:
    old: str
    new: str
    order: tuple[int, ...] | None = None  # new position i takes old argument order[i]
    keywords: dict[str, str] = field(default_factory=dict)


def _params(text: str) -> list[str]:
    return [p.split("=")[0].strip() for p in text.split(",") if p.strip()]


def parse_changelog(text: str) -> list[Change]:
    """The breaking changes of the newest release (the first section)."""
    sections = re.split(r"^## ", text, flags=re.M)
    latest = sections[1] if len(sections) > 1 else text
    changes = []
    for bullet in (ln for ln in latest.splitlines() if ln.startswith("- ")):
        sigs = _SIG.findall(bullet)
        kw = _KEYWORD.search(bullet)
        if kw and sigs:
            changes.append(Change(sigs[0][0], sigs[0][0], keywords={kw[1]: kw[2]}))
        elif len(sigs) >= 2:
            (old, old_p), (new, new_p) = sigs[0], sigs[1]
            before, after = _params(old_p), _params(new_p)
            order = None
            if sorted(before) == sorted(after) and before != after:
                order = tuple(before.index(p) for p in after)
            if old != new or order:
                changes.append(Change(old, new, order))
    return changes


@STRATEGIES.register("code_modification/dependency_upgrade")
def dependency_upgrade(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    pkg, lib = brief.public["package"], brief.public["library"]
    vendor, test_module = brief.public["vendor_dir"], brief.public["test_module"]
    log = yield from kit.read(f"{vendor}/CHANGELOG.md")
    changes = parse_changelog(log or "")
    if not changes:
        yield GiveUp(reason="could not read the breaking changes")
        return
    yield Think(step="migration plan", evidence=tuple(f"{c.old}->{c.new} {c.order} {c.keywords}" for c in changes))
    first = yield from cs.tests_pass(kit, errors, test_module)
    if first is not None and not first.ok and errors.shortcut():
        yield from _shim_vendor(kit, errors, vendor, changes)
    meant = yield from _migrate(kit, errors, pkg, lib, changes)
    if meant is None:
        yield GiveUp(reason="could not find the uses of the old API")
        return
    yield from cs.verify_and_submit(kit, errors, test_module, meant, lambda _, text: migrated(text, lib, changes))


def _shim_vendor(kit: Toolkit, errors: ErrorProcesses, vendor: str, changes: list[Change]) -> Steps:
    """The tempting shortcut: teach the vendored library its old names back."""
    path = f"{vendor}/__init__.py"
    text = yield from kit.read(path)
    shims = "".join(f"{c.old} = {c.new}\n" for c in changes if c.old != c.new)
    if text is not None and shims:
        yield Think(step="shortcut: alias the old names inside the vendored library", confidence=0.4)
        yield from kit.write(path, text.rstrip("\n") + "\n\n\n# 1.x compatibility\n" + shims)


def _migrate(kit: Toolkit, errors: ErrorProcesses, pkg: str, lib: str, changes: list[Change]) -> Steps:
    """Rewrite every file using an old API, each once, in rounds of what fits in mind."""
    files: set[str] = set()
    for change in changes:
        found = None
        for _ in range(1 + errors.retries):
            found = yield from kit.find_files(change.old, [pkg])
            if found is not None:
                break
        if found is None:
            return None
        files.update(f for f in found if f.endswith(".py"))
    todo, meant = sorted(files), cs.EditMemory(errors.capacity)
    while todo:
        batch, todo = todo[: errors.capacity], todo[errors.capacity:]
        for path in batch:
            text = yield from kit.read(path)
            intended = migrated(text, lib, changes)
            if text is None or intended is None or intended == text:
                continue
            meant[path] = intended
            slipped = migrated(text, lib, changes, keep_order=errors.slip())
            yield from cs.edit_checked(kit, errors, path, text, slipped or intended)
    return meant


def migrated(text: str | None, lib: str, changes: list[Change], *, keep_order: bool = False) -> str | None:
    """``text`` with every call and import of the old API in the new form; with
    ``keep_order`` (a slip) the arguments stay where they were."""
    tree = cs.tree_of(text)
    if tree is None or text is None:
        return None
    edits: list[cs.Splice] = []
    for change in changes:
        for call in cs.calls_to(tree, change.old, {lib}):
            start, end = cs.span(text, call)
            edits.append((start, end, _new_call(text, call, change, keep_order)))
    edits += _import_edits(text, tree, {c.old: c.new for c in changes if c.old != c.new})
    return cs.splice(text, edits)


def _new_call(text: str, call: ast.Call, change: Change, keep_order: bool) -> str:
    func = ast.get_source_segment(text, call.func) or change.old
    func = func[: len(func) - len(change.old)] + change.new
    args = [ast.get_source_segment(text, a) or "" for a in call.args]
    if change.order and len(args) == len(change.order) and not keep_order:
        args = [args[i] for i in change.order]
    kws = [f"{change.keywords.get(k.arg, k.arg)}={ast.get_source_segment(text, k.value)}"
           if k.arg else f"**{ast.get_source_segment(text, k.value)}" for k in call.keywords]
    return f"{func}({', '.join(args + kws)})"


def _import_edits(text: str, tree: ast.Module, renamed: dict[str, str]) -> list[cs.Splice]:
    edits: list[cs.Splice] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any(a.name in renamed for a in node.names):
            start, end = cs.span(text, node)
            line = re.sub(r"\b\w+\b", lambda m: renamed.get(m[0], m[0]), text[start:end])
            edits.append((start, end, line))
    return edits
