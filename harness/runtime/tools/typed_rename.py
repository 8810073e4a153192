"""The typed layer's ``rename_symbol``: one symbol renamed across the workspace's Python
files, all files or none, and a result that says what it did not do.

Renamed with the identifiers (``harness.world.pyrefs``): the symbol's ``__all__`` entries,
``__slots__`` entries (attributes are renamed, so their slots must be) and the names in
doctest code. Reported, not renamed: whole-word mentions in docstrings,
other strings and comments (``unrenamed_mentions``), since whether ``"name"`` in a dict
key or an error message is the symbol is the agent's call. Renamed but flagged: names that
belong to modules imported from outside the workspace (``foreign_references``:
``itertools.groupby`` or ``from itertools import count`` when the package's own
``groupby`` or ``count`` is renamed), which every identifier-counting check wants gone
and the package's tests almost surely want kept. A file that does not parse
under the running Python refuses the whole call (nothing changed), or, with
``skip_unparsable``, is left untouched and named in ``skipped`` while the other files are
renamed together. Keys beyond the four basic ones appear only when they have something to
say, so a plain rename's result is what it always was.
"""

from __future__ import annotations

import keyword
import tokenize
from dataclasses import dataclass
from typing import Any

from harness.runtime.tools.typed_models import RenameSymbolArgs
from harness.runtime.tools.typed_ops import Refused
from harness.world import Workspace
from harness.world.pycode import identifier_counts
from harness.world.pyrefs import (
    SymbolRename,
    all_entries,
    foreign_references,
    mentions,
    rename_symbol,
)

PARSE_ERRORS = (SyntaxError, ValueError, tokenize.TokenError, RecursionError)
# Enough for an agent to see the pattern and decide; the total says how many more exist.
MENTION_CAP = 20


@dataclass(frozen=True)
class _Plan:
    """What renaming would do in each readable file, before anything is written."""

    sources: dict[str, str]
    renames: dict[str, SymbolRename]
    clashes: list[str]
    found: bool
    unreadable: dict[str, str]


def rename_in_workspace(ws: Workspace, a: RenameSymbolArgs, targets: list[str]) -> dict[str, Any]:
    _check_names(a)
    sources = _relevant_sources(ws, a, targets)
    plan = _plan(sources, a.old_name, a.new_name)
    if plan.unreadable and not a.skip_unparsable:
        reasons = "; ".join(f"{p} does not parse ({why})" for p, why in sorted(plan.unreadable.items()))
        raise Refused("precondition_failed", f"{reasons}; nothing changed (skip_unparsable=true renames the "
                      "other files and names these)", "paths")
    if not plan.found:
        skipped = f" (of those that parse; {len(plan.unreadable)} do not)" if plan.unreadable else ""
        raise Refused("not_found", f"{a.old_name!r} is not an identifier in any .py file{skipped}", "old_name")
    if plan.clashes:
        raise Refused("precondition_failed",
                      f"{a.new_name!r} already exists as an identifier in {', '.join(plan.clashes)}", "new_name")
    renamed = {p: r.text for p, r in plan.renames.items() if r.text != sources[p]}
    _write_checked(ws, renamed, sources, a.old_name)
    return _summary(ws, a, plan, sorted(renamed))


def _summary(ws: Workspace, a: RenameSymbolArgs, plan: _Plan, changed_paths: list[str]) -> dict[str, Any]:
    """The result: the four keys a plain rename always had, then only what has something to say."""
    changed = [plan.renames[p] for p in changed_paths]
    data: dict[str, Any] = {
        "old_name": a.old_name,
        "new_name": a.new_name,
        "files_changed": changed_paths,
        "occurrences": sum(r.total for r in changed),
    }
    extras = {
        "all_entries": sum(r.all_entries for r in changed),
        "doctest_names": sum(r.doctest_names for r in changed),
        "slots_entries": sum(r.slots_entries for r in changed),
    }
    data.update({k: v for k, v in extras.items() if v})
    local = frozenset(part.removesuffix(".py") for path in ws.list() for part in path.split("/"))
    foreign = [{"path": p, "line": line, "module": module} for p in changed_paths
               for line, module in foreign_references(plan.sources[p], a.old_name, local)]
    if foreign:
        data["foreign_references"] = foreign[:MENTION_CAP]
    left = _unrenamed(ws, sorted(plan.renames), a.old_name)
    if left:
        data["unrenamed_mentions"] = left[:MENTION_CAP]
        data["unrenamed_mentions_total"] = len(left)
    if plan.unreadable:
        data["skipped"] = [{"path": p, "reason": why} for p, why in sorted(plan.unreadable.items())]
    return data


def _check_names(a: RenameSymbolArgs) -> None:
    for field in ("old_name", "new_name"):
        name = getattr(a, field)
        if not name.isidentifier() or keyword.iskeyword(name):
            raise Refused("precondition_failed", f"{name!r} is not a valid identifier", field)
    if a.old_name == a.new_name:
        raise Refused("precondition_failed", "new_name equals old_name", "new_name")


def _relevant_sources(ws: Workspace, a: RenameSymbolArgs, targets: list[str]) -> dict[str, str]:
    """Target .py files that mention either name as text. Only these must parse: a file
    that contains neither string can neither be changed nor collide, so a broken file
    elsewhere in the tree does not block the rename."""
    sources = {}
    for path in targets:
        if path.endswith(".py"):
            text = ws.read(path)
            if a.old_name in text or a.new_name in text:
                sources[path] = text
    return sources


def _plan(sources: dict[str, str], old: str, new: str) -> _Plan:
    renames, clashes, unreadable, found = {}, [], {}, False
    for path, text in sources.items():
        try:
            counts = identifier_counts(text)
            if counts[new] or (new in text and all_entries(text, new)):
                clashes.append(path)
            found = found or counts[old] > 0
            if old in text:  # the file was relevant for its mention of the new name only
                renames[path] = rename_symbol(text, old, new)
        except PARSE_ERRORS as exc:
            unreadable[path] = _reason(exc)
    return _Plan(sources, renames, sorted(clashes), found, unreadable)


def _reason(exc: Exception) -> str:
    """Why a file cannot be read, with its line where the parser knows it."""
    if isinstance(exc, SyntaxError) and exc.lineno is not None:
        return f"{type(exc).__name__}: {exc.msg} (line {exc.lineno})"
    return f"{type(exc).__name__}: {exc}"


def _write_checked(ws: Workspace, renamed: dict[str, str], sources: dict[str, str], old: str) -> None:
    """Write every renamed file, then check them all; any violation puts every file back."""
    for path, text in renamed.items():
        ws.write(path, text)
    broken = _postcondition_violations(renamed, old)
    if broken:
        for path in renamed:
            ws.write(path, sources[path])
        raise Refused("postcondition_failed", f"after renaming, {broken}; rolled back, nothing changed", "old_name")


def _postcondition_violations(renamed: dict[str, str], old: str) -> str | None:
    for path, text in renamed.items():
        try:
            left = identifier_counts(text)[old]
        except PARSE_ERRORS:
            return f"{path} no longer parses"
        if left:
            return f"{old!r} still occurs {left} time(s) as an identifier in {path}"
    return None


def _unrenamed(ws: Workspace, paths: list[str], old: str) -> list[dict[str, Any]]:
    """Mentions of ``old`` left in text after the rename, file by file, line by line."""
    found = []
    for path in paths:
        text = ws.read(path)
        if old in text:
            found += [{"path": path, "line": m.line, "kind": m.kind} for m in mentions(text, old)]
    return found
