"""Reading a rule set, the compliance lead's notes and one contract or policy document.

Pure functions of text. Each rule is recognised by what it demands (a registry of cues),
each document by its title, headings, key-terms table and clause sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# note -> the words by which a reader recognises it
NOTE_CUES = {"contractor": "includes agencies", "annual": "per year unless stated otherwise",
             "nda": "counts as a confidentiality clause", "autorenew": "also covers any wording"}
_MONEY = r"\$([\d,]+\.\d{2})"


def notes_in(text: str) -> frozenset[str]:
    low = text.lower()
    return frozenset(n for n, cue in NOTE_CUES.items() if cue in low)


def parse_notes(text: str) -> frozenset[str] | None:
    """For recall: the notes a text states, or None when it states none."""
    return notes_in(text) or None


def _cents(text: str) -> int:
    return int(re.sub(r"\D", "", text))


@dataclass(frozen=True)
class Rule:
    rid: str
    kind: str
    value: object = None


# kind -> (cue in the rule's text, how to read its value)
_RULE_CUES: dict[str, tuple[str, Callable[[str], object]]] = {
    "retention": (r"records for at least (\d+) years", lambda m: int(m)),
    "approval": (rf"worth more than {_MONEY} must be approved by the ([A-Z][A-Za-z ]+?)\.", lambda m: m),
    "confidentiality": (r"contractor agreement must contain a (confidentiality) clause", lambda m: m),
    "forbidden": (r"may contain the terms \"([^\"]+)\" or \"([^\"]+)\"", lambda m: m),
    "notice": (r"notice period of at least (\d+) days", lambda m: int(m)),
    "governing_law": (r"state the (law) that governs", lambda m: m),
    "data_protection": (r"must contain a (data protection) clause", lambda m: m),
    "policy_owner": (r"policy must name an accountable (owner)", lambda m: m),
}


def parse_rules(text: str) -> list[Rule]:
    rules = []
    for line in text.splitlines():
        head = re.match(r"^\s*(R\d+)\.\s+(.*)$", line)
        if not head:
            continue
        for kind, (cue, read) in _RULE_CUES.items():
            m = re.search(cue, head.group(2))
            if m:
                groups = m.groups()
                value = read(groups[0]) if len(groups) == 1 else tuple(groups)
                rules.append(Rule(head.group(1), kind, value))
                break
    return rules


@dataclass(frozen=True)
class Document:
    path: str
    title: str
    agreement: bool
    kind: str  # contractor, agency, supplier or policy
    fee: int = 0  # cents per period
    monthly: bool = False
    approver: str = ""
    retention_months: int = 0
    notice: int = 0
    headings: frozenset[str] = field(default_factory=frozenset)
    processes_data: bool = False
    text: str = ""
    owner: bool = False


def read_document(path: str, text: str) -> Document:
    lines = [line for line in text.splitlines() if line.strip()]
    title = lines[0].lstrip("# ").strip() if lines else ""
    low_title = title.lower()
    kind = next((k for k in ("contractor", "agency", "policy") if k in low_title), "supplier")
    monthly = re.search(rf"monthly fee of {_MONEY}|{_MONEY} per month", text)
    yearly = re.search(rf"{_MONEY} per year", text)
    fee = monthly or yearly
    approver = re.search(r"Approved by\s*[:|]\s*([A-Za-z ]+?)\s*(?:\||$)", text, re.MULTILINE)
    kept = re.search(r"kept for (\d+) (years|months) after it ends", text)
    notice = re.search(r"with (\d+) days' written notice", text)
    headings = {h.strip().lower() for h in re.findall(r"^## \d+\. (.+)$|^Clause \d+ - ([^.]+)\.", text, re.MULTILINE)
                for h in h if h}
    return Document(
        path=path, title=title, agreement="agreement" in low_title, kind=kind,
        fee=_cents(next(g for g in fee.groups() if g)) if fee else 0, monthly=bool(monthly),
        approver=approver.group(1).strip() if approver else "",
        retention_months=(int(kept.group(1)) * (1 if kept.group(2) == "months" else 12)) if kept else 0,
        notice=int(notice.group(1)) if notice else 0, headings=frozenset(headings),
        processes_data="will process personal data" in text, text=text.lower(),
        owner=bool(re.search(r"^Owner:", text, re.MULTILINE)),
    )
