"""document_processing/policy_check: which documents break which numbered rule.

``rules/policy_rules.md`` holds 3-8 numbered rules (retention periods, an approval
threshold, required clauses, forbidden terms, notice periods, ownership of policies);
``docs/`` holds agreements and internal policies, most of them compliant, some with one or
two violations, and near misses on the boundaries (a fee exactly at the threshold, a
notice period exactly at the minimum). The documents are rendered below.

From difficulty 3 the task spans two sessions: session 1 passes on the compliance lead's
interpretation notes ("'contractor' includes agencies", "amounts are per year unless
stated"...), which appear nowhere in the world, and session 2 asks for the check. Every
note decides at least one (document, rule) pair, and there are more such pairs than the
tolerated errors, so a check that ignores the notes fails. Tolerance: misses plus false
positives, 0 at difficulties 1-2, 1 at 3-4, 2 at 5.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from harness.core.errors import TaskGenerationError
from harness.core.hashing import canonical_json
from harness.workload.families.doc_common import (
    MONTHS,
    PEOPLE,
    VENDORS,
    between,
    budget,
    digests,
    fmt_amount,
    make_world,
    pick,
    rng_for,
    submit,
)
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, Probe, SessionSpec, TaskSpec
from harness.world import World

INPUT_KEYS = ("difficulty", "n_docs", "n_rules", "notes", "violation_rate")
N_DOCS = {1: (4, 6), 2: (8, 12), 3: (14, 20), 4: (22, 30), 5: (32, 40)}
N_RULES = {1: 3, 2: 4, 3: 5, 4: 6, 5: 8}
N_NOTES = {1: 0, 2: 1, 3: 2, 4: 3, 5: 4}
MAX_ERRORS = {1: 0, 2: 0, 3: 1, 4: 1, 5: 2}
RULES_PATH = "rules/policy_rules.md"
DOCS = "docs"
SCHEMA = ('Submit {"violations": [{"document": "docs/<file>", "rule": "R<n>"}, ...]} with one entry per '
          "document and rule it breaks (a document breaking two rules has two entries).")


def multi_session(difficulty: int) -> bool:
    return difficulty >= 3


# -- the documents ---------------------------------------------------------------------------
RULE_TYPES = ("retention", "approval", "confidentiality", "forbidden", "notice", "governing_law",
              "data_protection", "policy_owner")
# note -> (the rule type it interprets, what the compliance lead says)
NOTES = {
    "contractor": ("confidentiality", "'Contractor' includes agencies: the rule on contractor agreements also "
                                      "covers agency services agreements."),
    "annual": ("approval", "Amounts in the rules are per year unless stated otherwise: a fee stated per month "
                           "counts twelve times towards them."),
    "nda": ("confidentiality", "A clause headed 'Non-disclosure' counts as a confidentiality clause."),
    "autorenew": ("forbidden", "The term 'auto-renew' also covers any wording by which an agreement renews "
                               "automatically."),
}
# note -> (retention probe question, the strings a correct reply contains); stems ("agenc",
# "automatic") so that "agencies" and "automatic renewal" both count.
NOTE_PROBES = {
    "contractor": ("Which agreements does the rule on contractor agreements also cover, by the interpretation "
                   "notes?", ("agenc",)),
    "annual": ("Over what period are amounts in the rules counted, by the interpretation notes?", ("year",)),
    "nda": ("Which clause heading counts as a confidentiality clause, by the interpretation notes?",
            ("non-disclosure",)),
    "autorenew": ("What does the term 'auto-renew' cover, by the interpretation notes?", ("automatic",)),
}
TERMS = ("unlimited liability", "auto-renew", "perpetual licence")
CFO = "Chief Financial Officer"
APPROVERS = ("Head of Procurement", "Finance Manager", CFO)
TITLES = {"contractor": ("Contractor Agreement", "Independent Contractor Agreement"),
          "agency": ("Agency Services Agreement", "Staffing Agency Agreement"),
          "supplier": ("Supply Agreement", "Goods Supply Agreement"),
          "policy": ("Travel Expenses Policy", "Remote Work Policy", "Information Security Policy",
                     "Purchasing Card Policy", "Records Management Policy")}
ROLES = {"contractor": "Contractor", "agency": "Agency", "supplier": "Supplier"}
SERVICES = ("IT support", "facilities management", "bookkeeping", "temporary reception staff", "office supplies",
            "catering", "software development", "security patrols")
PLACES = ("England and Wales", "Scotland", "the State of New York", "Ireland", "the Netherlands")
COMPANY = "Acme Analytics Ltd"


@dataclass
class Doc:
    path: str
    kind: str
    title: str
    counterparty: str
    layout: str
    fee: int = 0  # cents, per ``period``
    period: str = "year"
    approver: str = CFO
    retention: tuple[int, str] = (5, "years")
    notice: int = 90
    sections: set[str] = field(default_factory=set)
    processes_data: bool = False
    terms: list[str] = field(default_factory=list)  # forbidden wordings present ("renews automatically" too)
    owner: bool = True

    @property
    def agreement(self) -> bool:
        return self.kind != "policy"


def rule_values(rng: np.random.Generator, notes: list[str]) -> dict[str, Any]:
    terms = sorted(TERMS[int(i)] for i in rng.choice(len(TERMS), 2, replace=False))
    if "autorenew" in notes and "auto-renew" not in terms:
        terms = sorted([terms[0], "auto-renew"])
    return {"retention_years": int(pick(rng, (3, 5, 7))), "threshold": int(pick(rng, (25_000, 50_000, 100_000))) * 100,
            "notice_days": int(pick(rng, (30, 60))), "terms": terms}


def _money(cents: int) -> str:
    return fmt_amount(cents, "usd_symbol")


def _set_kind(rng: np.random.Generator, doc: Doc, kind: str) -> None:
    doc.kind, doc.title = kind, pick(rng, TITLES[kind])


def compliant_doc(rng: np.random.Generator, i: int, v: dict[str, Any], notes: list[str]) -> Doc:
    kind = str(rng.choice(["contractor", "agency", "supplier", "policy"], p=[0.35, 0.2, 0.3, 0.15]))
    doc = Doc(path=f"{DOCS}/doc_{i + 1:02d}.md", kind=kind, title=pick(rng, TITLES[kind]),
              counterparty=pick(rng, VENDORS), layout=pick(rng, ("sections", "clauses")))
    t = v["threshold"]
    doc.fee = int(rng.integers(t // 500_00 // 5, t * 5 // 2 // 500_00 + 1)) * 500_00
    if "annual" in notes and rng.random() < 0.3:
        doc.period, doc.fee = "month", int(rng.integers(1, t // 12 * 3 // 100_00)) * 100_00
    if rng.random() < 0.15:
        doc.period, doc.fee = "year", t  # exactly at the threshold: not "more than"
    annual = doc.fee * (12 if doc.period == "month" else 1)
    doc.approver = CFO if annual > t else pick(rng, APPROVERS)
    y = v["retention_years"]
    doc.retention = (y * 12, "months") if rng.random() < 0.15 else (y + between(rng, (0, 3)), "years")
    doc.notice = int(pick(rng, (v["notice_days"], v["notice_days"] + 30, 90)))
    doc.sections = {"governing_law"}
    if kind in ("contractor", "agency") or rng.random() < 0.5:
        nda = "nda" in notes and (kind == "contractor" or "contractor" in notes) and rng.random() < 0.3
        doc.sections.add("nda" if nda else "confidentiality")
    doc.processes_data = bool(rng.random() < 0.5)
    if doc.processes_data:
        doc.sections.add("data_protection")
    return doc


def force_note(rng: np.random.Generator, doc: Doc, note: str, v: dict[str, Any]) -> None:
    """Make ``doc`` a case that only the note decides."""
    if note in ("contractor", "nda") or (note == "annual" and not doc.agreement):
        _set_kind(rng, doc, {"contractor": "agency", "nda": "contractor", "annual": "supplier"}[note])
    if note == "contractor":
        doc.sections -= {"confidentiality", "nda"}
    elif note == "nda":
        doc.sections = (doc.sections - {"confidentiality"}) | {"nda"}
    elif note == "annual":
        t = v["threshold"]
        doc.period = "month"
        doc.fee = int(t * float(rng.uniform(1.3, 4.0)) / 12) // 100_00 * 100_00 + 100_00
        doc.approver = pick(rng, APPROVERS[:2])
    else:
        doc.terms.append("renews automatically")


def _applicable(doc: Doc, t: str, notes: list[str]) -> bool:
    if t == "policy_owner":
        return not doc.agreement
    if t == "confidentiality":
        return doc.kind == "contractor" or (doc.kind == "agency" and "contractor" in notes)
    return t == "forbidden" or doc.agreement


def violate(rng: np.random.Generator, doc: Doc, types: list[str], v: dict[str, Any], notes: list[str],
            count: int) -> bool:
    options = [t for t in types if _applicable(doc, t, notes)]
    if not options:
        return False
    for i in rng.choice(len(options), min(count, len(options)), replace=False):
        t = options[int(i)]
        if t == "retention":
            y = v["retention_years"]
            doc.retention = pick(rng, ((y - 1, "years"), (y * 12 - 6, "months")))
        elif t == "approval":
            doc.period, doc.fee = "year", int(v["threshold"] * float(rng.uniform(1.1, 2.5))) // 500_00 * 500_00 + 500_00
            doc.approver = pick(rng, APPROVERS[:2])
        elif t == "confidentiality":
            doc.sections -= {"confidentiality", "nda"}
        elif t == "forbidden":
            doc.terms.append(pick(rng, v["terms"]))
        elif t == "notice":
            doc.notice = v["notice_days"] - int(pick(rng, (1, 10, 16)))
        elif t == "governing_law":
            doc.sections.discard("governing_law")
        elif t == "data_protection":
            doc.processes_data = True
            doc.sections.discard("data_protection")
        else:
            doc.owner = False
    return True


def evaluate(doc: Doc, rules: dict[str, str], v: dict[str, Any], notes: list[str]) -> list[tuple[str, str]]:
    """The (document, rule) pairs ``doc`` breaks when the rules are read with ``notes``."""
    found = []
    for rid, t in rules.items():
        if not _applicable(doc, t, notes) and t != "confidentiality":
            continue
        if t == "retention":
            n, unit = doc.retention
            bad = (n if unit == "months" else 12 * n) < 12 * v["retention_years"]
        elif t == "approval":
            annual = doc.fee * (12 if doc.period == "month" and "annual" in notes else 1)
            bad = annual > v["threshold"] and doc.approver != CFO
        elif t == "confidentiality":
            covered = "confidentiality" in doc.sections or ("nda" in doc.sections and "nda" in notes)
            bad = _applicable(doc, t, notes) and not covered
        elif t == "forbidden":
            bad = any(term in v["terms"] or (term == "renews automatically" and "autorenew" in notes)
                      for term in doc.terms)
        elif t == "notice":
            bad = doc.notice < v["notice_days"]
        elif t == "governing_law":
            bad = "governing_law" not in doc.sections
        elif t == "data_protection":
            bad = doc.processes_data and "data_protection" not in doc.sections
        else:
            bad = not doc.owner
        if bad:
            found.append((doc.path, rid))
    return found


def render_rules(rules: dict[str, str], v: dict[str, Any]) -> str:
    a, b = v["terms"]
    text = {
        "retention": f"Every agreement must keep its records for at least {v['retention_years']} years after it ends.",
        "approval": f"Every agreement worth more than {_money(v['threshold'])} must be approved by the {CFO}.",
        "confidentiality": "Every contractor agreement must contain a confidentiality clause.",
        "forbidden": f"No document may contain the terms \"{a}\" or \"{b}\".",
        "notice": f"Every agreement must give each party a termination notice period of at least {v['notice_days']} days.",
        "governing_law": "Every agreement must state the law that governs it.",
        "data_protection": "Every agreement under which the counterparty processes personal data must contain a "
                           "data protection clause.",
        "policy_owner": "Every internal policy must name an accountable owner.",
    }
    lines = ["# Contract and policy rules", "", f"These rules apply to every document under `{DOCS}/`. Agreements are "
             "the documents titled \"... Agreement\"; internal policies are titled \"... Policy\".", ""]
    return "\n".join([*lines, *(f"{rid}. {text[t]}" for rid, t in rules.items())]) + "\n"


def _sentences(doc: Doc, rng: np.random.Generator) -> dict[str, str]:
    role = ROLES.get(doc.kind, "Company")
    terms = set(doc.terms)
    fee = f"{_money(doc.fee)} per year" if doc.period == "year" else f"a monthly fee of {_money(doc.fee)}"
    renew = ("At the end of the term the agreement will auto-renew for a further twelve months." if "auto-renew" in terms
             else "At the end of the term the agreement renews automatically for a further twelve months."
             if "renews automatically" in terms else
             "The agreement ends at the end of the term unless both parties agree in writing to extend it.")
    n, unit = doc.retention
    return {
        "services": f"The {role} will provide {pick(rng, SERVICES)} to the Company. " + (
            f"In doing so the {role} will process personal data of the Company's employees."
            if doc.processes_data else "The services do not involve personal data.") + (
            f" The {role} grants the Company a perpetual licence to all deliverables." if "perpetual licence" in terms
            else " The Company owns all deliverables."),
        "fees": f"The Company will pay the {role} {fee}. Invoices are payable within 30 days.",
        "term": f"This agreement runs for {int(pick(rng, (12, 24, 36)))} months from the effective date. Either party "
                f"may terminate it with {doc.notice} days' written notice. {renew}",
        "liability": f"The {role} accepts unlimited liability for losses caused by its staff."
                     if "unlimited liability" in terms else
                     "Each party's liability is limited to the fees paid in the twelve months before the claim.",
        "confidentiality": "Each party keeps the other party's confidential information secret and uses it only "
                           "for this agreement.",
        "nda": "Neither party may disclose the other party's confidential information to anyone else.",
        "data_protection": f"The {role} processes personal data only on the Company's documented instructions and "
                           "reports any breach within 48 hours.",
        "records": f"Records created under this agreement are kept for {n} {unit} after it ends.",
        "governing_law": f"This agreement is governed by the laws of {pick(rng, PLACES)}.",
    }


HEADINGS = {"services": "Services", "fees": "Fees", "term": "Term and termination", "liability": "Liability",
            "confidentiality": "Confidentiality", "nda": "Non-disclosure", "data_protection": "Data protection",
            "records": "Records", "governing_law": "Governing law"}


def render_doc(doc: Doc, rng: np.random.Generator) -> str:
    if not doc.agreement:
        return _render_policy(doc, rng)
    s = _sentences(doc, rng)
    keys = ["services", "fees", "term", "liability", *(k for k in ("confidentiality", "nda", "data_protection")
                                                        if k in doc.sections), "records",
            *(["governing_law"] if "governing_law" in doc.sections else [])]
    ref = f"{doc.kind[:3].upper()}-{int(rng.integers(1000, 9999))}"
    role = ROLES[doc.kind]
    if doc.layout == "sections":
        head = [f"# {doc.title}", "", f"**Reference:** {ref}  ", f"**Between:** {COMPANY} (\"the Company\") and "
                f"{doc.counterparty} (\"the {role}\")  ", f"**Effective date:** {int(rng.integers(1, 28))} "
                f"{pick(rng, MONTHS)} {int(rng.integers(2023, 2026))}", ""]
        body = [line for i, k in enumerate(keys, start=1) for line in (f"## {i}. {HEADINGS[k]}", s[k], "")]
        tail = [f"Approved by: {doc.approver}", f"Signed for the Company: {pick(rng, PEOPLE)}"]
    else:
        n, unit = doc.retention
        fee = _money(doc.fee) + (" per year" if doc.period == "year" else " per month")
        head = [doc.title.upper(), f"Ref. {ref}", "", f"Parties: the Company ({COMPANY}) and {doc.counterparty} "
                f"(the {role}).", "", "Key terms", "| Term | Value |", "|---|---|", f"| Fee | {fee} |",
                f"| Notice period | {doc.notice} days |", f"| Record retention | {n} {unit} |",
                f"| Approved by | {doc.approver} |", ""]
        body = [f"Clause {i} - {HEADINGS[k]}. {s[k]}" for i, k in enumerate(keys, start=1)]
        tail = ["", f"For the Company: {pick(rng, PEOPLE)}"]
    return "\n".join([*head, *body, *tail]) + "\n"


def _render_policy(doc: Doc, rng: np.random.Generator) -> str:
    extra = {"unlimited liability": "Card holders carry unlimited liability for personal charges.",
             "auto-renew": "Subscriptions bought under this policy may auto-renew without further approval.",
             "perpetual licence": "Staff grant the Company a perpetual licence to material they create under "
                                  "this policy.",
             "renews automatically": "Subscriptions bought under this policy may be set up so that they renew "
                                     "automatically without further approval."}
    subject = doc.title.removesuffix(" Policy").lower()
    lines = [f"# {doc.title}", "", *([f"Owner: {pick(rng, ('Head of Finance', 'IT Director', 'HR Director'))}"]
                                     if doc.owner else []),
             f"Version 1.{int(rng.integers(0, 9))}, last reviewed {pick(rng, MONTHS)} {int(rng.integers(2023, 2026))}",
             "", "## Purpose", f"This policy sets out how staff handle {subject} at {COMPANY}.", "", "## Rules",
             "- Staff follow this policy in every business unit.", "- Exceptions need written approval in advance.",
             *(f"- {extra[t]}" for t in doc.terms), "", "## Records",
             "Evidence of compliance is kept by the owner of this policy."]
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=32)
def _render(inputs_json: str, seed: int) -> tuple[dict[str, str], dict[str, Any]]:
    p = json.loads(inputs_json)
    rng = rng_for(seed, "policy_check")
    notes = list(p["notes"])
    needed = [NOTES[n][0] for n in notes]
    others = [t for t in RULE_TYPES if t not in needed]
    chosen = needed + [others[int(i)] for i in rng.choice(len(others), int(p["n_rules"]) - len(needed), replace=False)]
    types = [chosen[int(i)] for i in rng.permutation(len(chosen))]
    values = rule_values(rng, notes)
    rules = {f"R{i + 1}": t for i, t in enumerate(types)}
    n = int(p["n_docs"])
    docs: list[Doc] = [compliant_doc(rng, i, values, notes) for i in range(n)]
    order = [int(i) for i in rng.permutation(n)]
    for note, i in zip(notes, order, strict=False):
        force_note(rng, docs[i], note, values)
    min_violations, made = MAX_ERRORS[p["difficulty"]] + 2, 0
    for i in order[len(notes):]:
        # the first clean documents always break something, so an empty answer always fails
        if made < min_violations or rng.random() < p["violation_rate"]:
            made += violate(rng, docs[i], types, values, notes, count=2 if rng.random() < 0.15 else 1)
    truth = sorted(pair for d in docs for pair in evaluate(d, rules, values, notes))
    naive = sorted(pair for d in docs for pair in evaluate(d, rules, values, []))
    files = {RULES_PATH: render_rules(rules, values)}
    for d in docs:
        files[d.path] = render_doc(d, rng)
    meta = {"rules": rules, "values": values, "violations": [list(v) for v in truth],
            "naive_violations": [list(v) for v in naive], "documents": sorted(d.path for d in docs)}
    return files, meta


def _inputs(params: dict[str, Any]) -> dict[str, Any]:
    try:
        p = {k: params[k] for k in INPUT_KEYS}
    except KeyError as exc:
        raise TaskGenerationError(f"policy_check params lack {exc.args[0]!r}", "build params with sample_params") from None
    d = int(p["difficulty"])
    if d not in N_DOCS or not len(p["notes"]) + MAX_ERRORS[d] + 2 <= int(p["n_docs"]) <= 60:
        raise TaskGenerationError(f"policy_check params must be valid (difficulty 1..5, enough documents), got {p}")
    if any(n not in NOTES for n in p["notes"]) or not len(p["notes"]) <= int(p["n_rules"]) <= len(RULE_TYPES):
        raise TaskGenerationError(f"notes must be known and n_rules must cover them, got {p}")
    return p


@family
class PolicyCheck:
    name = "document_processing/policy_check"
    category = "document_processing"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        if difficulty not in N_DOCS:
            raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")
        names = sorted(NOTES)
        notes = sorted(names[int(i)] for i in rng.choice(len(names), N_NOTES[difficulty], replace=False))
        return {"difficulty": difficulty, "n_docs": between(rng, N_DOCS[difficulty]), "n_rules": N_RULES[difficulty],
                "notes": notes, "violation_rate": round(float(rng.uniform(0.2, 0.4)), 2)}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        p = _inputs(params)
        files, meta = _render(canonical_json(p), int(seed))
        d = int(p["difficulty"])
        truth, naive = meta["violations"], meta["naive_violations"]
        allowed = MAX_ERRORS[d]
        diff = {tuple(v) for v in truth} ^ {tuple(v) for v in naive}
        if p["notes"] and len(diff) <= allowed:
            raise TaskGenerationError(f"policy_check seed {seed}: the notes do not decide enough pairs")
        notes_text = [NOTES[n][1] for n in p["notes"]]
        task = (f"Check every document under `{DOCS}/` against the numbered rules in `{RULES_PATH}` and report "
                f"each rule each document breaks. This is a read-only review: do not modify the documents or "
                f"the rules. {SCHEMA}")
        probes: tuple[Probe, ...] = ()
        if not notes_text:
            instructions, sessions, knowledge = task, (SessionSpec(asks="do the task"),), ()
        elif not multi_session(d):
            instructions = f"{task} Interpretation notes: " + " ".join(notes_text)
            sessions, knowledge = (SessionSpec(asks="do the task"),), ()
        else:
            instructions = f"{task} The compliance lead's interpretation notes for this rule set apply."
            sessions = (SessionSpec(asks="The compliance lead's interpretation notes for the rule set: "
                                         + " ".join(notes_text) + " Read the rules and get to know the documents; "
                                         "the check itself is for the next session."),
                        SessionSpec(asks="Run the policy check now and submit the violations."))
            knowledge = tuple(notes_text)
            probes = tuple(Probe(told_in=0, question=NOTE_PROBES[n][0], expect=NOTE_PROBES[n][1]) for n in p["notes"])
        everything = [{"document": doc, "rule": rule} for doc in meta["documents"] for rule in sorted(meta["rules"])]
        return TaskSpec(
            id=task_id, category="document_processing", family=self.name, difficulty=d, seed=int(seed),
            params={**p, **meta, "max_errors": allowed},
            public={"rules": RULES_PATH, "docs": f"{DOCS}/",
                    "answer_format": {"violations": [{"document": "path", "rule": "R<n>"}]}},
            instructions=instructions, sessions=sessions, knowledge=knowledge, probes=probes,
            budget=budget(len(meta["documents"]), 3),
            checkers=(
                CheckerRef(name="policy_violations", args={"violations": truth, "max_errors": allowed}),
                CheckerRef(name="doc_files_unchanged", args={"digests": digests(files), "prefixes": [DOCS, "rules"]}),
            ),
            gold=(submit({"violations": [{"document": doc, "rule": rule} for doc, rule in truth]}),),
            traps={"flag_everything": (submit({"violations": everything}),)},
        )

    def build_world(self, spec: TaskSpec) -> World:
        files, _ = _render(canonical_json(_inputs(spec.params)), int(spec.seed))
        return make_world(files)
