"""Strategy for checking documents against numbered rules: read the rules and the notes,
read every document (in rounds of ``capacity``), judge each rule, look again for a
document the listing missed, submit the violations.

The compliance lead's notes change how rules read ("'contractor' includes agencies").
When they come in an earlier session, the agent keeps them in memory; in the checking
session it recalls them, and without them it can only read the rules literally.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from harness.agents.reference.doc_policy_read import (
    Document,
    Rule,
    notes_in,
    parse_notes,
    parse_rules,
    read_document,
)
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.knowledge import keep, recall_fact
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think

NOTES_KEY = "policy check interpretation notes"


@STRATEGIES.register("document_processing/policy_check")
def policy_check(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    rules_path, docs = brief.public["rules"], brief.public["docs"].rstrip("/")
    notes = notes_in(brief.instructions)
    if brief.sessions > 1 and brief.session == 0:
        yield from _learn(brief, kit, errors, rules_path, notes)
        return
    if brief.sessions > 1:
        recalled = yield from recall_fact(kit, brief, NOTES_KEY, parse_notes)
        notes = recalled or frozenset()
        if recalled is None:
            yield Think(step="the interpretation notes are gone; read the rules literally", confidence=0.3)
    text = yield from _read(kit, errors, rules_path)
    rules = parse_rules(text or "")
    if not rules:
        yield GiveUp(reason=f"could not read the rules in {rules_path}")
        return
    yield Think(step=f"{len(rules)} rules, notes {sorted(notes)}", evidence=tuple(r.rid + " " + r.kind for r in rules))
    checked = yield from _check_all(kit, errors, docs, rules, notes)
    if checked is None:
        yield GiveUp(reason=f"could not list {docs}/")
        return
    found, seen = checked
    if errors.shortcut():  # the tempting shortcut: flag every rule for every document
        found = {(d, r.rid) for d in seen for r in rules}
    yield Submit(answer={"violations": [{"document": d, "rule": r} for d, r in sorted(found)]})


def _learn(brief: Brief, kit: Toolkit, errors: ErrorProcesses, rules_path: str, notes: frozenset[str]) -> Steps:
    """Session 1: keep the notes (in the words they were given) and look at the rules."""
    said = brief.instructions.split("This session:", 1)[-1]
    sentences = [s for s in re.split(r"(?<=\.)\s+", said) if notes_in(s)]
    yield from keep(kit, errors, NOTES_KEY, " ".join(sentences) or said)
    yield Think(step="kept the interpretation notes for the check", evidence=tuple(sorted(notes)))
    yield from _read(kit, errors, rules_path)
    yield Submit(answer={})


def _read(kit: Toolkit, errors: ErrorProcesses, path: str) -> Steps:
    for _ in range(1 + errors.retries):
        text = yield from kit.read(path)
        if text is not None:
            return text
    return None


def _listing(kit: Toolkit, errors: ErrorProcesses, folder: str) -> Steps:
    for _ in range(1 + errors.retries):
        files = yield from kit.list_files(folder + "/")
        if files is not None:
            return sorted(f.removeprefix("./").strip() for f in files if f.strip())
    return None


def _check_all(kit: Toolkit, errors: ErrorProcesses, docs: str, rules: list[Rule], notes: frozenset[str]) -> Steps:
    paths = yield from _listing(kit, errors, docs)
    if paths is None:
        return None
    found: set[tuple[str, str]] = set()
    seen: set[str] = set()
    for _ in range(1 + errors.retries):
        todo = [p for p in paths if p not in seen]
        for start in range(0, len(todo), errors.capacity):
            for path in todo[start:start + errors.capacity]:
                slipped = errors.slip()  # drawn first, whatever the tools
                text = yield from _read(kit, errors, path)
                if text is None:
                    continue
                seen.add(path)
                doc = read_document(path, text)
                found |= {(path, r.rid) for r in rules if _breaks(doc, r, notes, slipped)}
            yield Think(step=f"checked {len(seen)} documents", evidence=(f"{len(found)} violations so far",))
        again = yield from _listing(kit, errors, docs)  # a second look for a document the first missed
        missed = sorted(set(again or ()) - set(paths))
        if not missed:
            break
        paths = sorted(set(paths) | set(missed))
    return found, seen


# -- judging one rule --------------------------------------------------------------------------
def _applies(doc: Document, rule: Rule, notes: frozenset[str]) -> bool:
    if rule.kind == "policy_owner":
        return doc.kind == "policy"
    if rule.kind == "confidentiality":
        return doc.kind == "contractor" or (doc.kind == "agency" and "contractor" in notes)
    return rule.kind == "forbidden" or doc.agreement


def _retention(doc: Document, rule: Rule, notes: frozenset[str], edge: bool) -> bool:
    need = 12 * int(rule.value)  # type: ignore[call-overload]
    return doc.retention_months < need or (edge and doc.retention_months == need)


def _approval(doc: Document, rule: Rule, notes: frozenset[str], edge: bool) -> bool:
    threshold, approver = rule.value  # type: ignore[misc]
    annual = doc.fee * (12 if doc.monthly and "annual" in notes else 1)
    limit = int(re.sub(r"\D", "", threshold))
    over = annual > limit or (edge and annual == limit)
    return over and doc.approver.lower() != approver.lower()


def _confidentiality(doc: Document, rule: Rule, notes: frozenset[str], edge: bool) -> bool:
    return "confidentiality" not in doc.headings and not ("non-disclosure" in doc.headings and "nda" in notes)


def _forbidden(doc: Document, rule: Rule, notes: frozenset[str], edge: bool) -> bool:
    terms = [t.lower() for t in rule.value]  # type: ignore[union-attr]
    reworded = "auto-renew" in terms and "autorenew" in notes and re.search(r"renews? automatically", doc.text)
    return any(t in doc.text for t in terms) or bool(reworded)


def _notice(doc: Document, rule: Rule, notes: frozenset[str], edge: bool) -> bool:
    need = int(rule.value)  # type: ignore[call-overload]
    return doc.notice < need or (edge and doc.notice == need)


JUDGES: dict[str, Callable[[Document, Rule, frozenset[str], bool], bool]] = {
    "retention": _retention,
    "approval": _approval,
    "confidentiality": _confidentiality,
    "forbidden": _forbidden,
    "notice": _notice,
    "governing_law": lambda doc, rule, notes, edge: "governing law" not in doc.headings,
    "data_protection": lambda doc, rule, notes, edge: doc.processes_data and "data protection" not in doc.headings,
    "policy_owner": lambda doc, rule, notes, edge: not doc.owner,
}


def _breaks(doc: Document, rule: Rule, notes: frozenset[str], slipped: bool) -> bool:
    """A slip reads a boundary value the wrong way ("at least 60" against exactly 60)."""
    return _applies(doc, rule, notes) and JUDGES[rule.kind](doc, rule, notes, slipped)
