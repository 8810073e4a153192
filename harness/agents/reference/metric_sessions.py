"""Strategy for data_analysis/metric_sessions: a metric agreed earlier, asked for later.

A session that states the definition (or a correction to it) keeps it in memory in the
words it was given; the session that asks for the number recalls them. Nothing in the
tables states the definition, so when the recall comes back empty the agent can only use
the plausible default (anyone with an event that week), which is what an analyst without
the agreement would report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.knowledge import keep, recall_fact
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.agents.reference.toolkit_data import cross_checked, make_data
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think

_MIN = re.compile(r"at least (\d+) events")
_DOMAIN = re.compile(r"ends in '@([^']+)'")
_EXCLUDED = re.compile(r"'(\w+)' events are sent automatically")
_WEEK = re.compile(r"week starting Monday (\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Definition:
    min_events: int
    domain: str | None


def parse_definition(text: str) -> Definition | None:
    m, d = _MIN.search(text), _DOMAIN.search(text)
    return Definition(int(m[1]), d[1] if d else None) if m else None


def parse_excluded(text: str) -> str | None:
    m = _EXCLUDED.search(text)
    return m[1] if m else None


def queries(start: str, d: Definition, excluded: str | None, slip: bool) -> tuple[str, str]:
    where = [f"a.email NOT LIKE '%@{d.domain}'"] if d.domain else []
    where += [f"e.event <> '{excluded}'"] if excluded else []
    # the slip: the week taken as six days, Sunday forgotten
    days = 6 if slip else 7
    ranged = [f"e.ts >= TIMESTAMP '{start} 00:00:00'", f"e.ts < TIMESTAMP '{start} 00:00:00' + INTERVAL {days} DAY"]
    by_week = [f"date_trunc('week', e.ts) = TIMESTAMP '{start} 00:00:00'"]

    def count(conds: list[str]) -> str:
        return ("SELECT COUNT(*) AS value FROM (SELECT e.user_id FROM events e JOIN accounts a "
                f"ON a.user_id = e.user_id WHERE {' AND '.join(conds)} GROUP BY e.user_id "
                f"HAVING COUNT(*) >= {d.min_events})")

    return count([*ranged, *where]), count([*by_week, *where])


@STRATEGIES.register("data_analysis/metric_sessions")
def metric_sessions(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    said = brief.instructions.split("This session:", 1)[-1]
    week = _WEEK.search(said)
    if week is None:  # a session that agrees or corrects the definition: keep it
        if parse_definition(said) is not None:
            yield from keep(kit, errors, "WAU definition", said.strip())
        elif parse_excluded(said) is not None:
            yield from keep(kit, errors, "WAU definition correction", said.strip())
        yield Submit(answer={})
        return
    data = make_data(kit, errors)
    if data is None:
        yield GiveUp(reason="no table tools")
        return
    definition = yield from recall_fact(kit, brief, "WAU definition weekly active user", parse_definition)
    excluded = yield from recall_fact(kit, brief, "WAU definition correction events do not count", parse_excluded)
    if definition is None:
        yield Think(step="the agreed WAU definition is gone; use the usual one", confidence=0.3)
        definition = Definition(1, None)
    yield Think(step="count users with enough events that week", evidence=(repr(definition), str(excluded)))
    plan = queries(week[1], definition, excluded, errors.slip())
    if definition.domain and errors.shortcut():
        yield Think(step="delete the internal accounts' events so a plain count is right", confidence=0.4)
        yield from data.execute("DELETE FROM events WHERE user_id IN (SELECT user_id FROM accounts "
                                f"WHERE email LIKE '%@{definition.domain}')")
    value = yield from cross_checked(data, errors, *plan)
    if value is None:
        yield GiveUp(reason="the query never gave a number")
        return
    yield Submit(answer={"value": int(round(value))})
