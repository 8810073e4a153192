"""Table operations for the data strategies, one class per tool interface.

Typed tools answer a query with columns and rows as data; the shell answers with psql's
aligned text, which the agent reads line by line (``errors.read_lines``: a row may be
overlooked). Both return ``Rows`` or None when the query itself failed, so a strategy can
tell "unknown" from "empty". Chosen from the tool list, never from a condition.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from harness.agents.reference.errors import ErrorProcesses, Mistake
from harness.agents.reference.toolkit import Decision, Steps, typo_in
from harness.runtime.port import GiveUp, Submit, Think

_FOOTER = re.compile(r"^\((\d+) rows?\)$")
_TAG = re.compile(r"^(?:INSERT 0|UPDATE|DELETE) (\d+)$")
STATEMENTS = Decision(value="sql")  # a change's wrong value: a mistyped name or literal in the SQL


@dataclass(frozen=True)
class Rows:
    columns: list[str]
    rows: list[list[Any]]

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows and self.rows[0] else None


@dataclass(frozen=True)
class Written:
    ok: bool | None  # None: the tool did not say
    count: int | None = None  # rows changed, when the tool says


class TypedData:
    def __init__(self, kit: Any):
        self.kit = kit

    def query(self, sql: str) -> Steps:
        obs = yield from self.kit.call("sql_query", {"sql": sql})
        if not obs.ok or obs.data is None:
            return None
        return Rows(list(obs.data["columns"]), [list(r) for r in obs.data["rows"]])

    def execute(self, sql: str) -> Steps:
        obs = yield from self.kit.call("sql_execute", {"sql": sql}, STATEMENTS)
        if not obs.ok or obs.data is None:
            return Written(ok=False)
        return Written(ok=True, count=int(obs.data["rows_affected"]))


class ShellData:
    def __init__(self, kit: Any, errors: ErrorProcesses):
        self.kit, self.errors = kit, errors

    def _psql(self, sql: str, *, changes: bool) -> Steps:
        def render(kind: Mistake | None) -> str:
            text = typo_in(sql, self.errors) if kind is Mistake.WRONG_VALUE else sql
            # broken syntax: the quotes around the SQL forgotten, so the shell splits it
            return f"psql -c {text if kind is Mistake.BROKEN_SYNTAX else shlex.quote(text)}"
        return (yield from self.kit.decided(render, changes=changes))

    def query(self, sql: str) -> Steps:
        obs = yield from self._psql(sql, changes=False)
        lines = self.errors.read_lines(obs.text or "")
        if not lines or lines[0].startswith(("ERROR", "psql:")):
            return None
        return parse_aligned(lines)

    def execute(self, sql: str) -> Steps:
        obs = yield from self._psql(sql, changes=True)
        lines = self.errors.read_lines(obs.text or "")
        if any(line.startswith("ERROR") for line in lines):
            return Written(ok=False)
        counts = [int(m[1]) for line in lines if (m := _TAG.match(line.strip()))]
        return Written(ok=True if lines else None, count=counts[-1] if counts else None)


def parse_aligned(lines: list[str]) -> Rows | None:
    """psql's aligned table as read: header, dashes, rows, footer. Lines the reader missed
    are simply absent; a missing header or dash line makes the table unreadable."""
    dash = next((i for i, line in enumerate(lines) if set(line.strip()) <= {"-", "+"} and line.strip()), None)
    if dash is None or dash == 0:
        return None
    columns = [c.strip() for c in lines[dash - 1].split("|")]
    rows = []
    for line in lines[dash + 1:]:
        if _FOOTER.match(line.strip()) or line.startswith("--"):
            continue
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == len(columns):
            rows.append([_value(c) for c in cells])
    return Rows(columns, rows)


def _value(cell: str) -> Any:
    if cell == "":
        return None
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    return cell


def make_data(kit: Any, errors: ErrorProcesses) -> TypedData | ShellData | None:
    if {"sql_query", "sql_execute"} <= kit.tool_names:
        return TypedData(kit)
    if "shell" in kit.tool_names:
        return ShellData(kit, errors)
    return None


def query_retry(data: TypedData | ShellData, errors: ErrorProcesses, sql: str, *, want_rows: bool = True) -> Steps:
    """A query asked again when it failed or (if rows are expected) came back empty."""
    for _ in range(1 + errors.retries):
        rows = yield from data.query(sql)
        if rows is not None and (rows.rows or not want_rows):
            return rows
    return None


def _number(rows: Rows | None) -> float | None:
    value = rows.scalar() if rows is not None else None
    return float(value) if isinstance(value, int | float) else None


def cross_checked(data: TypedData | ShellData, errors: ErrorProcesses, first: str, check: str) -> Steps:
    """A number from ``first`` confirmed by ``check``, an independent formulation of the
    same question; when they disagree, the careful ``check`` wins after one more reading.
    None when no reading succeeded."""
    a = _number((yield from query_retry(data, errors, first)))
    b = _number((yield from query_retry(data, errors, check)))
    if a is not None and b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b)):
        return b
    again = _number((yield from query_retry(data, errors, check)))
    return again if again is not None else b if b is not None else a


def answer_number(data: TypedData | ShellData, errors: ErrorProcesses, plan: tuple[str, str],
                  shortcut_sql: str, shortcut_why: str) -> Steps:
    """The shared ending of a one-number question: the tempting destructive shortcut (drawn
    once), then a cross-checked reading, then the answer or a give-up."""
    if errors.shortcut():
        yield Think(step=shortcut_why, confidence=0.4)
        yield from data.execute(shortcut_sql)
    value = yield from cross_checked(data, errors, *plan)
    if value is None:
        yield GiveUp(reason="the query never gave a number")
        return
    yield Submit(answer={"value": round(value, 6)})
