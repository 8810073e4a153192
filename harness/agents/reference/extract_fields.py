"""Strategy for extracting invoice fields into a CSV: look, read in rounds, write, verify.

The agent holds at most ``capacity`` documents at once, so the CSV itself is its memory:
each round it reads what the file holds, merges the new rows (one row per supplier and
invoice number, for the path that sorts first) and writes the whole file back. At the end
it lists the inbox again (a second look catches a file the first listing missed) and
reads the CSV back to check its shape, repairing within ``retries``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

from harness.agents.reference.doc_invoice import Fields, read_invoice
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONEY = re.compile(r"^\d+\.\d{2}$")
Rows = dict[str, list[str]]  # path -> the row's cells after the path


@STRATEGIES.register("document_processing/extract_fields")
def extract_fields(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    inbox, output = brief.public["inbox"].rstrip("/"), brief.public["output"]
    header = list(brief.public["header"])
    yield Think(step=f"extract fields of every invoice under {inbox}/ into {output}; rounds of {errors.capacity}")
    paths = yield from _listing(kit, errors, inbox)
    if paths is None:
        yield GiveUp(reason=f"could not list {inbox}/")
        return
    done: set[str] = set()
    written = False
    for _ in range(1 + errors.retries):
        todo = [p for p in sorted(paths) if p not in done]
        for start in range(0, len(todo), errors.capacity):
            batch = todo[start:start + errors.capacity]
            ok = yield from _round(kit, errors, output, header, batch, written)
            written = written or ok
            done.update(batch)
        again = yield from _listing(kit, errors, inbox)  # did the first look miss a file?
        missed = sorted(set(again or ()) - set(paths))
        if not missed and (yield from _verified(kit, errors, output, header, done)):
            yield Submit(answer={})
            return
        yield Think(step="second look found work left", evidence=tuple(missed[:5]))
        paths = sorted(set(paths) | set(missed))
    yield GiveUp(reason=f"{output} still incomplete after repairs")


def _listing(kit: Toolkit, errors: ErrorProcesses, folder: str) -> Steps:
    for _ in range(1 + errors.retries):
        files = yield from kit.list_files(folder + "/")
        if files is not None:
            return [f.removeprefix("./") for f in files if f.strip()]
    return None


def _round(kit: Toolkit, errors: ErrorProcesses, output: str, header: list[str], batch: list[str],
           written: bool) -> Steps:
    """Read a batch of documents, merge their rows into the CSV, write it back. True if written."""
    found: dict[str, Fields] = {}
    for path in batch:
        slipped = errors.slip()  # drawn first, whatever the tools
        text = yield from _read(kit, errors, path)
        if text is None:
            continue
        fields = read_invoice(text)
        found[path] = _slip(fields, errors) if slipped else fields
    rows = (yield from _current_rows(kit, errors, output, header)) if written else {}
    merged = _merge(rows, {p: [f.vendor, f.invoice_number, f.date, f.total] for p, f in found.items()})
    outcome = yield from kit.write(output, _to_csv(header, merged))
    return outcome.applied is not False


def _read(kit: Toolkit, errors: ErrorProcesses, path: str) -> Steps:
    for _ in range(1 + errors.retries):
        text = yield from kit.read(path)
        if text is not None:
            return text
    return None


def _slip(fields: Fields, errors: ErrorProcesses) -> Fields:
    """The wrong one of two similar values: the due date for the invoice date, or the
    subtotal for the total."""
    if errors.pick("doc_field", 2) == 0 and fields.due:
        return replace(fields, date=fields.due)
    return replace(fields, total=fields.subtotal) if fields.subtotal else fields


def _current_rows(kit: Toolkit, errors: ErrorProcesses, output: str, header: list[str]) -> Steps:
    text = yield from _read(kit, errors, output)
    return _parse(text or "", header)


def _parse(text: str, header: list[str]) -> Rows:
    """Rows of a CSV as read back: a repeated header or a repeated row (an append where an
    overwrite was meant) collapses, so reading repairs it."""
    rows: Rows = {}
    for cells in csv.reader(io.StringIO(text)):
        if len(cells) == len(header) and [c.strip().lower() for c in cells] != [h.lower() for h in header]:
            rows.setdefault(cells[0].strip(), [c.strip() for c in cells[1:]])
    return rows


def _key(cells: list[str]) -> tuple[str, str]:
    return re.sub(r"[^a-z0-9]", "", cells[0].lower()), cells[1].replace(" ", "").lower()


def _merge(rows: Rows, new: Rows) -> Rows:
    """One row per (supplier, invoice number), kept for the path that sorts first."""
    by_key: dict[tuple[str, str], str] = {}
    for path in sorted({**rows, **new}):
        cells = new.get(path) or rows[path]
        by_key.setdefault(_key(cells), path)
    return {path: new.get(path) or rows[path] for path in sorted(by_key.values())}


def _to_csv(header: list[str], rows: Rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for path, cells in sorted(rows.items()):
        writer.writerow([path, *cells])
    return out.getvalue()


def _verified(kit: Toolkit, errors: ErrorProcesses, output: str, header: list[str], done: set[str]) -> Steps:
    """Read the CSV back: the exact header, well-formed cells, every document accounted
    for (a row, or a duplicate of a row). Rewrites a file whose shape is off; True if good."""
    text = yield from _read(kit, errors, output)
    if text is None:
        return False
    rows = _parse(text, header)
    keys = {_key(cells) for cells in rows.values()}
    lost = [p for p in sorted(done) if p not in rows]
    clean = _to_csv(header, rows)
    bad = [p for p, c in rows.items() if not (_ISO.match(c[2]) and _MONEY.match(c[3]))]
    yield Think(step="read the CSV back", evidence=(f"{len(rows)} rows", f"{len(lost)} without a row",
                                                      f"{len(bad)} malformed"))
    if lost:
        # A document without a row is fine only as a copy of a row already there: check it.
        for path in lost:
            doc = yield from _read(kit, errors, path)
            f = read_invoice(doc or "")
            if _key([f.vendor, f.invoice_number]) not in keys:
                done.discard(path)
    if text != clean and not bad:
        yield from kit.write(output, clean)
        return False
    return not bad and all(p in done for p in lost)
