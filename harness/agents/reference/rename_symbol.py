"""Strategy for renaming a symbol across a package: look, plan, act, verify, repair, submit.

The agent knows what the instructions say (old name, new name, package, test module) and
learns everything else by searching. It keeps a baseline of names that already contain
the new name, so that after renaming it can tell a name it damaged (``JournalEntry``
where ``LedgerEntry`` stood) from one that was always there.
"""

from __future__ import annotations

import ast

from harness.agents.reference import codemod_support as cs
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think


@STRATEGIES.register("code_modification/rename_symbol")
def rename_symbol(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    old, new = brief.public["old_name"], brief.public["new_name"]
    test_module = brief.public["test_module"]
    paths = [brief.public["package"].rstrip("/"), test_module.rsplit("/", 1)[0]]
    yield Think(step=f"rename {old} -> {new} in {paths}; find uses, baseline, rename, verify, test")

    baseline = yield from kit.find_tokens(new, paths)  # None: unknown, so no damage scan later
    renamed = yield from _rename_everywhere(kit, errors, old, new, paths)
    if not renamed:
        yield GiveUp(reason=f"could not remove every use of {old}")
        return
    yield from _repair_damaged(kit, errors, old, new, paths, baseline)

    for _ in range(1 + errors.retries):
        outcome = yield from kit.run_tests(test_module)
        if outcome.ok:
            yield Submit(answer={})
            return
        yield Think(step="tests fail; look for names in the errors", evidence=tuple(sorted(outcome.names_in_errors)))
        if old in outcome.names_in_errors:
            yield from _rename_everywhere(kit, errors, old, new, paths)
        elif new in outcome.names_in_errors:  # something looks the new name up: a string renamed with it?
            yield from _unquote(kit, errors, old, new, paths)
        damaged = {n for n in outcome.names_in_errors if new in n and n != new}
        yield from _restore(kit, errors, damaged, old, new, paths)
    yield GiveUp(reason="tests still fail after repairs")


def _unquote(kit: Toolkit, errors: ErrorProcesses, old: str, new: str, paths: list[str]) -> Steps:
    """Put back string literals a text substitution renamed (``getattr(self, "old")`` names
    another object's attribute, not the symbol); ``__all__`` entries stay renamed, they are
    the symbol's public name."""
    hits = yield from kit.search(f"[\"']{new}[\"']", paths, regex=True)
    for path in sorted({h.path for h in hits or ()}):
        text = yield from kit.read(path)
        tree = cs.tree_of(text)
        if tree is None or text is None:
            continue
        exported = {id(e) for n in ast.walk(tree) if isinstance(n, ast.Assign | ast.AugAssign)
                    for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                    if isinstance(t, ast.Name) and t.id == "__all__" for e in ast.walk(n.value)}
        spans = [cs.span(text, c) for c in ast.walk(tree) if isinstance(c, ast.Constant) and c.value == new
                 and id(c) not in exported]
        if spans:
            yield Think(step=f"{path}: {len(spans)} string(s) '{new}' were renamed with the code; put back")
            fixed = cs.splice(text, [(a, b, text[a:b].replace(new, old)) for a, b in spans])
            yield from cs.write_checked(kit, errors, path, fixed)


def _rename_everywhere(kit: Toolkit, errors: ErrorProcesses, old: str, new: str, paths: list[str]) -> Steps:
    """Rename until a search finds no use of ``old``; bounded rounds. True when clean."""
    files = yield from _find(kit, errors, old, paths)
    rounds = 0
    limit = 2 + errors.retries + (0 if kit.batch_rename or not files else len(files) // errors.capacity)
    while files and rounds < limit:
        yield from _rename_checked(kit, errors, old, new, files, paths)
        files = yield from _find(kit, errors, old, paths)
        rounds += 1
    return files == []


def _find(kit: Toolkit, errors: ErrorProcesses, name: str, paths: list[str]) -> Steps:
    """Files using ``name``, asking again when a lookup fails; None if it never succeeds."""
    for _ in range(1 + errors.retries):
        files = yield from kit.find_files(name, paths)
        if files is not None:
            return files
    return None


def _rename_checked(kit: Toolkit, errors: ErrorProcesses, old: str, new: str, files: list[str], paths: list[str]) -> Steps:
    """Rename; where the tool answers in structure, retry a refusal and undo a revealed slip."""
    source = old
    for _ in range(2 + errors.retries):
        outcome = yield from kit.rename(source, new, files, paths)
        if outcome.refused:
            continue  # the tool said why and changed nothing: the same intent, once more
        if outcome.applied_new_name is None or outcome.applied_new_name == new:
            return
        source = outcome.applied_new_name
        yield Think(step=f"renamed to {source} by mistake; fix", evidence=(source,), confidence=0.9)


def _repair_damaged(
    kit: Toolkit, errors: ErrorProcesses, old: str, new: str, paths: list[str], baseline: set[str] | None
) -> Steps:
    """Longer names that now contain ``new`` but did not before were damaged: restore them."""
    if baseline is None:
        return  # without a baseline, a scan cannot tell damage from what was there: tests decide
    after = yield from kit.find_tokens(new, paths)
    damaged = {t for t in (after or ()) if t != new and t not in baseline}
    if damaged:
        yield Think(step="names I did not mean to change", evidence=tuple(sorted(damaged)))
    yield from _restore(kit, errors, damaged, old, new, paths)


def _restore(kit: Toolkit, errors: ErrorProcesses, damaged: set[str], old: str, new: str, paths: list[str]) -> Steps:
    for name in sorted(damaged):
        original = name.replace(new, old)
        files = yield from _find(kit, errors, name, paths)
        if files:
            yield from _rename_checked(kit, errors, name, original, files, paths)
