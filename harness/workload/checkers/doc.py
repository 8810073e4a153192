"""Checkers for document tasks: an extracted CSV against the private truth, a findings
list against the true violations, and read-only source documents.

Comparisons are normalised the way a human reviewer would (case, surrounding spaces,
trailing punctuation of a company name), never beyond: a date must be ISO and an amount
must have two decimals, because that is the stated format the next system consumes.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from harness.core.hashing import stable_hash
from harness.workload.checks import CHECKERS
from harness.world import World

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONEY = re.compile(r"^-?\d+\.\d{2}$")
_RULE = re.compile(r"^(?:r|rule)?\s*#?\s*(\d+)$")


def text_digest(text: str) -> str:
    return stable_hash(text, length=32)


def _brief(items: list[str], limit: int = 5) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def norm_document(path: Any) -> str:
    return str(path).strip().replace("\\", "/").removeprefix("./").strip("/")


def norm_cell(column: str, value: str) -> str:
    """The canonical form a cell is compared in; a malformed date or amount keeps a
    marker so it can never equal the truth."""
    text = " ".join(str(value).split())
    if column in ("date", "invoice_date"):
        return text if _ISO.match(text) else f"<not ISO: {text}>"
    if column in ("total", "amount_due"):
        return text if _MONEY.match(text) else f"<not two decimals: {text}>"
    if column in ("invoice_number", "invoice_no"):
        return text.replace(" ", "").casefold()
    return re.sub(r"[.,]", "", text).casefold()


@CHECKERS.register("doc_fields_csv")
def doc_fields_csv(world: World, spec: Any, path: str, header: list[str], key: str,
                   rows: dict[str, dict[str, str]], max_wrong_cells: int = 0,
                   key_prefix: str = "") -> tuple[bool, str]:
    """``path`` is a CSV with exactly ``header``, one row per expected document and none
    other, and at most ``max_wrong_cells`` cells differing from the truth."""
    if not world.workspace.exists(path):
        return False, f"{path} does not exist"
    try:
        table = list(csv.reader(io.StringIO(world.workspace.read(path))))
    except csv.Error as exc:
        return False, f"{path} is not valid CSV: {exc}"
    table = [r for r in table if any(c.strip() for c in r)]
    if not table:
        return False, f"{path} is empty"
    got_header = [c.strip().casefold() for c in table[0]]
    if got_header != [h.casefold() for h in header]:
        return False, f"header is {table[0]}, expected {header}"
    index = header.index(key)
    seen: dict[str, list[str]] = {}
    problems: list[str] = []
    for n, row in enumerate(table[1:], start=2):
        if len(row) != len(header):
            problems.append(f"line {n} has {len(row)} cells")
            continue
        doc = norm_document(row[index])
        if key_prefix and not doc.startswith(key_prefix):
            doc = key_prefix + doc
        if doc in seen:
            problems.append(f"{doc} appears twice")
        seen[doc] = row
    if problems:
        return False, _brief(problems)
    missing = sorted(set(rows) - set(seen))
    extra = sorted(set(seen) - set(rows))
    if missing or extra:
        parts = ([f"missing rows for {_brief(missing)}"] if missing else []) + (
            [f"unexpected rows for {_brief(extra)}"] if extra else [])
        return False, "; ".join(parts)
    wrong = []
    for doc, truth in sorted(rows.items()):
        for col, want in truth.items():
            have = seen[doc][header.index(col)]
            if norm_cell(col, have) != norm_cell(col, want):
                wrong.append(f"{doc}:{col}={have!r}")
    if len(wrong) > max_wrong_cells:
        return False, f"{len(wrong)} wrong cells (at most {max_wrong_cells} allowed): {_brief(wrong)}"
    return True, f"{len(rows)} rows, {len(wrong)} wrong cells (at most {max_wrong_cells} allowed)"


@CHECKERS.register("doc_files_unchanged")
def doc_files_unchanged(world: World, spec: Any, digests: dict[str, str], prefixes: list[str]) -> tuple[bool, str]:
    """The files under ``prefixes`` are exactly the original ones, byte for byte."""
    ws = world.workspace
    present = sorted({p for pre in prefixes for p in ws.list(pre)})
    missing = sorted(set(digests) - set(present))
    added = sorted(set(present) - set(digests))
    changed = sorted(p for p in digests if p in present and text_digest(ws.read(p)) != digests[p])
    problems = ([f"deleted {_brief(missing)}"] if missing else []) + ([f"added {_brief(added)}"] if added else []) + (
        [f"modified {_brief(changed)}"] if changed else [])
    if problems:
        return False, "source documents must stay untouched: " + "; ".join(problems)
    return True, f"all {len(digests)} source documents untouched"


def _pairs(answer: Any) -> tuple[set[tuple[str, str]], str]:
    if not isinstance(answer, dict) or not isinstance(answer.get("violations"), list):
        return set(), 'the answer has no "violations" list'
    pairs = set()
    for item in answer["violations"]:
        if not isinstance(item, dict) or "document" not in item or "rule" not in item:
            return set(), f"malformed violation {item!r}"
        m = _RULE.match(str(item["rule"]).strip().casefold())
        if not m:
            return set(), f"unknown rule {item['rule']!r}"
        pairs.add((norm_document(item["document"]), f"R{int(m.group(1))}"))
    return pairs, ""


@CHECKERS.register("policy_violations")
def policy_violations(world: World, spec: Any, violations: list[list[str]], max_errors: int = 0) -> tuple[bool, str]:
    """The submitted (document, rule) pairs equal the true ones up to ``max_errors``
    misses plus false positives; an empty list is never right (every task has some)."""
    got, error = _pairs(world.submission)
    if error:
        return False, error
    if not got:
        return False, "no violations submitted"
    want = {(norm_document(d), r) for d, r in violations}
    misses, false = sorted(want - got), sorted(got - want)
    errors = len(misses) + len(false)
    detail = f"{len(misses)} missed, {len(false)} false positives (at most {max_errors} errors allowed)"
    if errors > max_errors:
        shown = [f"missed {d} {r}" for d, r in misses] + [f"wrongly flagged {d} {r}" for d, r in false]
        return False, f"{detail}: {_brief(shown)}"
    return True, detail
