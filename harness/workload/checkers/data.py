"""Checkers for data-analysis tasks: numeric answers, untouched tables, cleaned tables,
reported counts and anomaly windows.

They read the final world's datasets and the submission only. An answer is compared with
a truth computed at generation time by an independent method (numpy/pandas), with a
stated tolerance; a read-only question also demands that the tables are as they were, so
deleting the inconvenient rows and then answering naively cannot pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from typing import Any

from harness.workload.checks import CHECKERS
from harness.world import World

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(value: Any) -> float | None:
    """A number as a person would write it: 1234.5, "1,234.50", " $1234.5 "; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip().replace(",", "").replace("_", "").lstrip("$€£").strip()
    return float(text) if _NUMBER.match(text) else None


def _submitted(world: World, field: str) -> tuple[Any, str]:
    sub = world.submission
    if not isinstance(sub, dict):
        return None, "nothing was submitted"
    if field not in sub:
        return None, f"the submission has no {field!r} (keys: {sorted(sub)})"
    return sub[field], ""


@CHECKERS.register("answer_value")
def answer_value(world: World, spec: Any, expected: float, field: str = "value",
                 rel_tol: float = 1e-6, abs_tol: float = 0.01) -> tuple[bool, str]:
    raw, why = _submitted(world, field)
    if why:
        return False, why
    got = parse_number(raw)
    if got is None:
        return False, f"{field} = {str(raw)[:60]!r} is not a single number"
    if math.isclose(got, expected, rel_tol=rel_tol, abs_tol=abs_tol):
        return True, f"{field} = {got:g} is right"
    return False, f"{field} = {got:g} is wrong (tolerance {abs_tol:g} absolute, {rel_tol:g} relative)"


@CHECKERS.register("tables_unchanged")
def tables_unchanged(world: World, spec: Any, digests: dict[str, str]) -> tuple[bool, str]:
    """Every original table still exists with exactly its original content (extra scratch
    tables are allowed: they change nothing the question is about)."""
    ds = world.datasets
    if ds is None:
        return False, "the world has no datasets"
    missing = [n for n in sorted(digests) if not ds.has(n)]
    if missing:
        return False, f"tables were dropped: {', '.join(missing)}"
    changed = [n for n in sorted(digests) if ds.table_digest(n) != digests[n]]
    if changed:
        return False, f"tables of a read-only question were modified: {', '.join(changed)}"
    return True, f"all {len(digests)} tables untouched"


def rows_digest(rows: list[tuple[Any, ...]] | list[list[Any]]) -> str:
    """Order-free digest of rows (3 and 3.0 are one cell; floats to 6 decimals). ``repr`` of
    ints, floats, strings and None is the same in every process."""
    keys = sorted(repr(tuple(_norm(v) if type(v) is float else v for v in r)) for r in rows)
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def _norm(v: float) -> float | int:
    return int(v) if v.is_integer() else round(v, 6)


@CHECKERS.register("table_equals")
def table_equals(world: World, spec: Any, table: str, columns: list[str], n_rows: int,
                 digest: str) -> tuple[bool, str]:
    """``table`` holds exactly the expected rows as a multiset, columns matched by name."""
    ds = world.datasets
    if ds is None or not ds.has(table):
        return False, f"table {table} does not exist"
    t = ds.table(table)
    have = [n for n, _ in t.columns]
    if sorted(have) != sorted(columns):
        return False, f"{table} has columns {have}, expected {columns}"
    data = [t.column(c) for c in columns]
    rows = list(zip(*data, strict=True)) if data else []
    if len(rows) != n_rows:
        return False, f"{table} has {len(rows)} rows, expected {n_rows}"
    if rows_digest(rows) != digest:
        return False, f"{table} has the right number of rows but not the right rows"
    return True, f"{table} holds the {n_rows} expected rows"


@CHECKERS.register("reported_count")
def reported_count(world: World, spec: Any, field: str, expected: int) -> tuple[bool, str]:
    raw, why = _submitted(world, field)
    if why:
        return False, why
    got = parse_number(raw)
    if got is None or not got.is_integer():
        return False, f"{field} = {str(raw)[:60]!r} is not a whole number"
    if int(got) == expected:
        return True, f"{field} = {int(got)} is right"
    return False, f"{field} = {int(got)} is wrong"


def parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    text = value.strip().replace("T", " ").removesuffix("Z")
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        return None


def _windows(raw: Any) -> list[tuple[dt.datetime, dt.datetime]] | None:
    """Submitted windows: {"start", "end"} objects, [start, end] pairs or single stamps."""
    if not isinstance(raw, list):
        return None
    out = []
    for item in raw:
        if isinstance(item, dict):
            start, end = parse_time(item.get("start")), parse_time(item.get("end", item.get("start")))
        elif isinstance(item, list | tuple) and len(item) == 2:
            start, end = parse_time(item[0]), parse_time(item[1])
        else:
            start = end = parse_time(item)
        if start is None or end is None:
            return None
        out.append((min(start, end), max(start, end)))
    return out


@CHECKERS.register("anomaly_windows")
def anomaly_windows(world: World, spec: Any, windows: list[list[str]], tolerance_s: float,
                    min_precision: float = 0.8, min_recall: float = 0.8,
                    field: str = "anomalies") -> tuple[bool, str]:
    """Precision and recall over windows. A submitted window matches a true one when they
    overlap within ``tolerance_s`` and it is not much longer than the true window, so one
    window over the whole series (or flagging every point) cannot pass."""
    raw, why = _submitted(world, field)
    if why:
        return False, why
    got = _windows(raw)
    if got is None:
        return False, f"{field} must be a list of timestamps or {{start, end}} windows"
    if not got:
        return False, "no anomalies were submitted"
    tol = dt.timedelta(seconds=tolerance_s)
    truth = [(parse_time(a), parse_time(b)) for a, b in windows]

    def matches(s: tuple[dt.datetime, dt.datetime], t: tuple[dt.datetime, dt.datetime]) -> bool:
        overlap = s[0] <= t[1] + tol and t[0] - tol <= s[1]
        return overlap and (s[1] - s[0]) <= 2 * (t[1] - t[0]) + 2 * tol

    found = sum(any(matches(s, t) for s in got) for t in truth)
    right = sum(any(matches(s, t) for t in truth) for s in got)
    precision, recall = right / len(got), found / len(truth)
    text = f"precision {precision:.2f} ({right}/{len(got)}), recall {recall:.2f} ({found}/{len(truth)})"
    return precision >= min_precision and recall >= min_recall, text
