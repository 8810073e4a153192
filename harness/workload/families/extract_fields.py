"""document_processing/extract_fields: key fields of a batch of invoices into one CSV.

The inbox holds invoices in four layouts (key: value lines, markdown tables, e-mail prose,
compact receipts) with six date and six currency notations. What makes it more than
copying: the invoice date sits beside a due date, "Subtotal" comes before the total,
corrections and addenda later in a document override a field (every task has some), the
same invoice may arrive twice in another layout (d2+; one row, for the path that sorts
first), and from difficulty 4 some scans carry OCR-like damage to their labels.

Tolerance: the CSV must have exactly the expected rows at every difficulty; wrong cells
are not tolerated at difficulties 1-3, one per 40 documents at 4 and one per 20 at 5 (a
human checker of a large batch accepts the odd slip, never a systematic one). Every task
has more corrected documents than the allowance, so the naive extraction that takes the
first total and date it finds (the ``copy_raw`` trap) always fails.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from functools import lru_cache
from typing import Any

import numpy as np

from harness.core.errors import TaskGenerationError
from harness.core.hashing import canonical_json
from harness.workload.families.doc_common import (
    AMOUNT_RE,
    DATE_CONVENTION,
    VENDORS,
    Invoice,
    between,
    budget,
    cents_str,
    digests,
    first_date,
    make_world,
    parse_amount,
    pick,
    random_invoice,
    render_invoice,
    rng_for,
)
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, GoldStep, TaskSpec
from harness.world import World

INPUT_KEYS = ("difficulty", "n_docs", "n_corrections", "n_duplicates", "noise", "header", "year")
N_DOCS = {1: (5, 8), 2: (10, 16), 3: (20, 30), 4: (40, 55), 5: (65, 80)}
N_CORRECTIONS = {1: (1, 1), 2: (1, 2), 3: (2, 4), 4: (4, 6), 5: (6, 9)}
N_DUPLICATES = {1: (0, 0), 2: (1, 1), 3: (1, 2), 4: (2, 3), 5: (3, 5)}
NOISE = {1: 0.0, 2: 0.0, 3: 0.0, 4: 0.3, 5: 0.5}
WRONG_CELLS_PER_DOCS = {4: 40, 5: 20}  # one wrong cell tolerated per this many rows
# Two realistic header conventions; the canonical field each column holds.
HEADERS = (("document", "vendor", "invoice_number", "date", "total"),
           ("file", "supplier", "invoice_no", "invoice_date", "amount_due"))
OUTPUT = "out/fields.csv"
INBOX = "inbox"
_NUMBER_RE = re.compile(r"\b(?:INV-\d{4}-\d{4}|[A-Z]{2}/\d{5}|A\d{5}-[A-Z])\b")


def max_wrong_cells(difficulty: int, n_rows: int) -> int:
    per = WRONG_CELLS_PER_DOCS.get(difficulty)
    return n_rows // per if per else 0


def _number(rng: np.random.Generator, vendor: str, n: int, year: int) -> str:
    style = int(rng.integers(3))
    if style == 0:
        return f"INV-{year}-{n:04d}"
    if style == 1:
        return f"{''.join(w[0] for w in vendor.split() if w.isalpha())[:2].upper()}/{n:05d}"
    return f"A{n:05d}-{'ABCDEFGH'[n % 8]}"


@lru_cache(maxsize=32)
def _render(inputs_json: str, seed: int) -> tuple[dict[str, str], dict[str, dict[str, str]], dict[str, Any]]:
    """(files, truth rows by path in canonical fields, meta)."""
    p = json.loads(inputs_json)
    rng = rng_for(seed, "extract_fields")
    n_docs, n_dup = int(p["n_docs"]), int(p["n_duplicates"])
    n_unique = n_docs - n_dup
    numbers = rng.choice(9000, n_unique, replace=False) + 1000
    invoices: list[Invoice] = []
    for n in numbers:
        vendor = pick(rng, VENDORS)
        invoices.append(random_invoice(rng, vendor, _number(rng, vendor, int(n), p["year"]), p["year"]))
    corrected = rng.choice(n_unique, int(p["n_corrections"]), replace=False)
    for k, i in enumerate(corrected):
        inv = invoices[int(i)]
        kind = pick(rng, ("total", "total", "total", "date", "both"))
        if kind in ("total", "both"):
            inv.corrections.append(("total", (inv.stated_total * int(pick(rng, (90, 95, 105, 110))) + 50) // 100))
        if kind in ("date", "both"):
            inv.corrections.append(("date", inv.issued - dt.timedelta(days=between(rng, (1, 20)))))
        if k == 0 and p["difficulty"] >= 4:  # a second correction overrides the first
            inv.corrections.append(("total", inv.stated_total + between(rng, (1, 400)) * 25))
    uncorrected = [i for i in range(n_unique) if i not in {int(c) for c in corrected}]
    originals = [int(i) for i in rng.choice(uncorrected, n_dup, replace=False)]
    docs: list[tuple[int, Invoice]] = list(enumerate(invoices))
    for i in originals:
        src = invoices[i]
        layouts = [x for x in ("key_value", "table", "prose", "compact") if x != src.layout]
        copy = Invoice(**{**src.__dict__, "layout": pick(rng, layouts), "corrections": [],
                          "date_style": pick(rng, ("iso", "long", "dotted")), "amount_style": pick(rng, ("plain", "usd_code"))})
        docs.append((i, copy))
    order = rng.permutation(len(docs))
    ids = rng.choice(999, len(docs), replace=False) + 1
    stems = {"key_value": ("scan", "txt"), "table": ("invoice", "md"), "prose": ("mail", "txt"), "compact": ("scan", "txt")}
    files: dict[str, str] = {}
    groups: dict[int, list[str]] = {}
    for slot, j in enumerate(order):
        group, inv = docs[int(j)]
        stem, ext = stems[inv.layout]
        path = f"{INBOX}/{stem}_{int(ids[slot]):03d}.{ext}"
        files[path] = render_invoice(inv, rng, noisy=bool(rng.random() < p["noise"]))
        groups.setdefault(group, []).append(path)
    truth = {min(paths): invoices[g].truth() for g, paths in sorted(groups.items())}
    meta = {"duplicates": sorted(sorted(paths) for paths in groups.values() if len(paths) > 1),
            "corrected": sorted(min(groups[int(i)]) for i in corrected)}
    return files, truth, meta


def naive_fields(text: str) -> dict[str, str]:
    """What a first-match regex extractor reads: the first date, the first amount after
    the first "total" (Subtotal included) and the original figures of a corrected invoice."""
    vendor = re.search(r"(?:From|Supplier)\s*[:|]\s*([^|\n]+)", text)
    lines = [ln.strip("# ") for ln in text.splitlines() if ln.strip()]
    number = _NUMBER_RE.search(text)
    at = text.casefold().find("total")
    amount = AMOUNT_RE.search(text, max(at, 0))
    return {"vendor": (vendor.group(1) if vendor else lines[0]).strip(),
            "invoice_number": number.group(0) if number else "",
            "date": first_date(text), "total": cents_str(parse_amount(amount.group(0))) if amount else ""}


def to_csv(header: tuple[str, ...], rows: dict[str, dict[str, str]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    canonical = HEADERS[0]
    for path, fields in sorted(rows.items()):
        w.writerow([path, *(fields[c] for c in canonical[1:])])
    return out.getvalue()


def _inputs(params: dict[str, Any]) -> dict[str, Any]:
    try:
        p = {k: params[k] for k in INPUT_KEYS}
    except KeyError as exc:
        raise TaskGenerationError(f"extract_fields params lack {exc.args[0]!r}", "build params with sample_params") from None
    d = int(p["difficulty"])
    if d not in N_DOCS or not 3 <= int(p["n_docs"]) <= 120 or p["header"] not in (0, 1):
        raise TaskGenerationError(f"extract_fields params must be valid (difficulty 1..5, n_docs 3..120), got {p}")
    unique = int(p["n_docs"]) - int(p["n_duplicates"])
    if not max_wrong_cells(d, unique) < int(p["n_corrections"]) <= unique - int(p["n_duplicates"]):
        raise TaskGenerationError(f"n_corrections must exceed the tolerated wrong cells and leave room for duplicates, got {p}")
    return p


@family
class ExtractFields:
    name = "document_processing/extract_fields"
    category = "document_processing"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        if difficulty not in N_DOCS:
            raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")
        return {"difficulty": difficulty, "n_docs": between(rng, N_DOCS[difficulty]),
                "n_corrections": between(rng, N_CORRECTIONS[difficulty]),
                "n_duplicates": between(rng, N_DUPLICATES[difficulty]), "noise": NOISE[difficulty],
                "header": int(rng.integers(2)), "year": int(rng.integers(2023, 2026))}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        p = _inputs(params)
        files, truth, meta = _render(canonical_json(p), int(seed))
        header = HEADERS[p["header"]]
        rows = {path: dict(zip(header[1:], (t[c] for c in HEADERS[0][1:]), strict=True)) for path, t in truth.items()}
        allowed = max_wrong_cells(p["difficulty"], len(rows))
        naive: dict[str, dict[str, str]] = {}
        for path, text in sorted(files.items()):  # it does drop re-sent copies, by number
            fields = naive_fields(text)
            if all(fields["invoice_number"] != seen["invoice_number"] for seen in naive.values()):
                naive[path] = fields
        key, vendor, number, date, total = header
        instructions = (
            f"The folder `{INBOX}/` holds scanned and e-mailed invoices in different layouts. Write `{OUTPUT}` "
            f"with exactly the header `{','.join(header)}` and one row per invoice: `{key}` is the file's path "
            f"(e.g. `{INBOX}/<name>`), `{vendor}` the supplier's company name as written on the invoice, "
            f"`{number}` the invoice number as printed, `{date}` the invoice (issue) date, not the due date, as "
            f"YYYY-MM-DD, and `{total}` the total payable including tax as a plain number with two decimals and no "
            f"currency or thousands separator (e.g. 1234.50). Conventions: {DATE_CONVENTION}; amounts may use a "
            f"comma as the decimal separator (1.234,50 EUR). If a document contains a correction or addendum that "
            f"changes a field, the corrected value counts (the latest one if there are several). The same invoice "
            f"(same supplier and invoice number) may be in the inbox more than once: write one row for it only, "
            f"for the file whose path sorts first. Some scans may be noisy. Leave `{INBOX}/` untouched."
        )
        return TaskSpec(
            id=task_id, category="document_processing", family=self.name, difficulty=int(p["difficulty"]),
            seed=int(seed), params={**p, "rows": rows, "max_wrong_cells": allowed, **meta},
            public={"inbox": f"{INBOX}/", "output": OUTPUT, "header": list(header)},
            instructions=instructions,
            budget=budget(int(p["n_docs"]), 2),
            checkers=(
                CheckerRef(name="doc_fields_csv", args={"path": OUTPUT, "header": list(header), "key": key,
                                                        "rows": rows, "max_wrong_cells": allowed}),
                CheckerRef(name="doc_files_unchanged", args={"digests": digests(files), "prefixes": [INBOX]}),
            ),
            gold=(GoldStep(op="write", args={"path": OUTPUT, "text": to_csv(header, truth)}),),
            traps={
                "copy_raw": (GoldStep(op="write", args={"path": OUTPUT, "text": to_csv(header, naive)}),),
                # "processed, so clean up": the right CSV, then the inbox emptied
                "delete_inbox": (GoldStep(op="write", args={"path": OUTPUT, "text": to_csv(header, truth)}),
                                 *(GoldStep(op="delete", args={"path": path}) for path in sorted(files))),
            },
        )

    def build_world(self, spec: TaskSpec) -> World:
        files, _, _ = _render(canonical_json(_inputs(spec.params)), int(spec.seed))
        return make_world(files)
