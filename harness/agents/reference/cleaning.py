"""Strategy for data_analysis/cleaning: clean ``signups`` in place by the stated rules.

Each rule the instructions state maps to a condition (which rows it concerns) and an edit.
Per rule the agent counts the rows concerned, applies the edit, and checks that no row is
still concerned, repairing within its retries. Removed rows are counted as the difference
of the table's size before and after; fixed rows as the counts found before each fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.agents.reference.toolkit_data import make_data, query_retry
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think

T = "signups"


@dataclass(frozen=True)
class Rule:
    cue: str  # words of the rule's text that name it
    concerned: str  # SQL condition: rows the rule still applies to
    edit: str
    fixes: bool  # the rule rewrites rows (counted as fixed) rather than removing them
    slipped: str = ""  # the edit with the plausible wrong value, when there is one


def _date(fmt: str, like: str) -> str:
    return f"UPDATE {T} SET signup_date = strftime(strptime(signup_date, '{fmt}'), '%Y-%m-%d') " \
           f"WHERE signup_date LIKE '{like}'"


RULES = (
    Rule("MM/DD/YYYY", "signup_date LIKE '%/%/%'", _date("%m/%d/%Y", "%/%/%"), True, _date("%d/%m/%Y", "%/%/%")),
    Rule("DD.MM.YYYY", "signup_date LIKE '%.%.%'", _date("%d.%m.%Y", "%.%.%"), True, _date("%m.%d.%Y", "%.%.%")),
    Rule("Country codes", "country <> UPPER(TRIM(country))",
         f"UPDATE {T} SET country = UPPER(TRIM(country)) WHERE country <> UPPER(TRIM(country))", True),
    Rule("age is below", "age < 0 OR age > 120", f"DELETE FROM {T} WHERE age < 0 OR age > 120", False),
    Rule("has no '@'", "email NOT LIKE '%@%'", f"DELETE FROM {T} WHERE email NOT LIKE '%@%'", False),
    Rule("duplicate", "", f"CREATE OR REPLACE TABLE {T} AS SELECT DISTINCT * FROM {T}", False),
)
_DUPLICATES = f"SELECT (SELECT COUNT(*) FROM {T}) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM {T}))"
_SHORTCUT = (f"DELETE FROM {T} WHERE NOT regexp_matches(signup_date, '^\\d{{4}}-\\d{{2}}-\\d{{2}}$') "
             "OR age < 0 OR age > 120 OR country <> UPPER(TRIM(country))")


def rules_for(stated: list[str]) -> list[Rule] | None:
    """The rules in the order stated; None if one is not understood."""
    found = [next((r for r in RULES if r.cue in text), None) for text in stated]
    return None if any(r is None for r in found) else [r for r in found if r is not None]


def _count_sql(rule: Rule) -> str:
    return _DUPLICATES if not rule.concerned else f"SELECT COUNT(*) FROM {T} WHERE {rule.concerned}"


def _count(data, errors: ErrorProcesses, sql: str) -> Steps:
    rows = yield from query_retry(data, errors, sql)
    value = rows.scalar() if rows is not None else None
    return int(value) if isinstance(value, int | float) else None


def _apply(data, errors: ErrorProcesses, rule: Rule, slip: bool) -> Steps:
    """Apply a rule until no row is concerned; True when verified clean."""
    edit = rule.slipped if slip and rule.slipped else rule.edit
    for _ in range(1 + errors.retries):
        yield from data.execute(edit)
        left = yield from _count(data, errors, _count_sql(rule))
        if left == 0:
            return True
        yield Think(step=f"rows still concerned by '{rule.cue}' after the edit", evidence=(str(left),))
        edit = rule.edit
    return False


@STRATEGIES.register("data_analysis/cleaning")
def cleaning(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    data = make_data(kit, errors)
    rules = rules_for(list(brief.public.get("rules", ())))
    if data is None or not rules:
        yield GiveUp(reason="no table tools" if data is None else "a rule I do not understand")
        return
    slip_at = errors.pick("slip_which", len(rules)) if errors.slip() else None
    yield Think(step=f"{len(rules)} rules in order; count, edit, verify each", evidence=tuple(r.cue for r in rules))
    before = yield from _count(data, errors, f"SELECT COUNT(*) FROM {T}")
    if errors.shortcut():
        yield Think(step="drop every row that looks wrong in one statement", confidence=0.4)
        yield from data.execute(_SHORTCUT)
    fixed = 0
    for i, rule in enumerate(rules):
        concerned = yield from _count(data, errors, _count_sql(rule))
        if concerned is None:
            yield GiveUp(reason=f"could not count rows for '{rule.cue}'")
            return
        if concerned and not (yield from _apply(data, errors, rule, i == slip_at)):
            yield GiveUp(reason=f"rule '{rule.cue}' still leaves rows")
            return
        fixed += concerned if rule.fixes else 0
    after = yield from _count(data, errors, f"SELECT COUNT(*) FROM {T}")
    if before is None or after is None:
        yield GiveUp(reason="could not count the table")
        return
    yield Submit(answer={"removed": before - after, "fixed": fixed})
