"""data_analysis/metric_sessions: a metric agreed in one session, asked for in a later one.

Session 1 agrees what a "weekly active user" is (at least K events in the Monday-to-Sunday
week, internal accounts excluded); from difficulty 3 a second session amends it
(automatic 'heartbeat' events do not count); the last session asks for the metric of one
week without repeating the definition. Nothing in the tables states the definition, so
only an agent that carried it across sessions answers right: the plausible default
(anyone with an event that week) and the definition without the amendment both give
different numbers, by construction.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np

from harness.core.errors import TaskGenerationError
from harness.core.hashing import canonical_json
from harness.workload.families.data_common import (
    Tables,
    between,
    budget,
    make_world,
    rng_for,
    submit,
    table_digests,
    write,
)
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, Probe, SessionSpec, TaskSpec
from harness.world import World

INPUT_KEYS = ("difficulty", "n_users", "min_events", "week", "domain")
N_USERS = {1: (60, 100), 2: (100, 160), 3: (160, 240), 4: (240, 320), 5: (320, 420)}
WEEKS = 5
FIRST_MONDAY = np.datetime64("2024-04-01T00:00:00")
DOMAINS = ("northwind-labs.example", "acme-analytics.example", "bluefin.example", "kestrel-data.example")
PUBLIC_DOMAINS = ("mail.example", "post.example", "inbox.example", "web.example")
EVENTS = np.array(["login", "view", "purchase"])
# events per week by user kind: casual, regular, heavy, internal (staff test the product)
RATES = np.array([0.8, 2.5, 6.0, 9.0])


def _amended(d: int) -> bool:
    return d >= 3


@lru_cache(maxsize=32)
def _render(inputs_json: str, seed: int) -> tuple[Tables, dict[str, Any]]:
    p = json.loads(inputs_json)
    rng, n, k = rng_for(seed, "metric_sessions"), int(p["n_users"]), int(p["min_events"])
    kind = rng.choice(4, size=n, p=[0.45, 0.3, 0.15, 0.1])
    kind[:2] = 3  # at least two internal accounts
    internal = kind == 3
    emails = [f"{'staff' if internal[i] else 'user'}{i + 1}@"
              f"{p['domain'] if internal[i] else PUBLIC_DOMAINS[int(rng.integers(0, 4))]}" for i in range(n)]
    counts = rng.poisson(RATES[kind][:, None], size=(n, WEEKS))
    users = np.repeat(np.repeat(np.arange(n), WEEKS), counts.ravel())
    weeks = np.repeat(np.tile(np.arange(WEEKS), n), counts.ravel())
    types = rng.choice(EVENTS, size=len(users), p=[0.4, 0.5, 0.1])
    if _amended(p["difficulty"]):
        # the app pings on its own: some external users reach K only with heartbeats
        pingers = rng.choice(np.flatnonzero(~internal), max(3, n // 8), replace=False)
        hb_users = np.repeat(pingers, k + 1)
        users = np.concatenate([users, hb_users])
        weeks = np.concatenate([weeks, np.full(len(hb_users), p["week"])])
        types = np.concatenate([types, np.full(len(hb_users), "heartbeat")])
    seconds = (weeks * 7 * 86400 + rng.integers(0, 7 * 86400, size=len(users))).astype("timedelta64[s]")
    order = np.lexsort((users, seconds))
    stamps = np.datetime_as_string(FIRST_MONDAY + seconds[order], unit="s")
    users, weeks, types = users[order], weeks[order], types[order]

    in_week = weeks == p["week"]
    real = types != "heartbeat"

    def active(mask: np.ndarray, min_events: int, exclude_internal: bool) -> int:
        per_user = np.bincount(users[mask], minlength=n)
        ok = per_user >= min_events
        return int((ok & ~internal).sum() if exclude_internal else ok.sum())

    truth = {"value": active(in_week & real, k, True), "default": active(in_week, 1, False),
             "unamended": active(in_week, k, True)}
    tables: Tables = {
        "accounts": ([("user_id", "int"), ("email", "text")], [list(range(1, n + 1)), emails]),
        "events": ([("user_id", "int"), ("ts", "timestamp"), ("event", "text")],
                   [(users + 1).tolist(), [s.replace("T", " ") for s in stamps.tolist()], types.tolist()]),
    }
    return tables, truth


def _inputs(params: dict[str, Any]) -> dict[str, Any]:
    try:
        inputs = {k: params[k] for k in INPUT_KEYS}
    except KeyError as exc:
        raise TaskGenerationError(f"metric_sessions params lack {exc.args[0]!r}",
                                  "build params with sample_params") from None
    if inputs["difficulty"] not in N_USERS or not 20 <= int(inputs["n_users"]) <= 2000:
        raise TaskGenerationError("difficulty must be 1..5 and n_users in 20..2000")
    if not 2 <= int(inputs["min_events"]) <= 6 or not 0 <= int(inputs["week"]) < WEEKS:
        raise TaskGenerationError(f"min_events must be in 2..6 and week in 0..{WEEKS - 1}")
    if inputs["domain"] not in DOMAINS:
        raise TaskGenerationError(f"domain must be one of {DOMAINS}")
    return inputs


def week_start(week: int) -> str:
    return str((FIRST_MONDAY + np.timedelta64(7 * int(week), "D")).astype("datetime64[D]"))


@family
class MetricSessions:
    name = "data_analysis/metric_sessions"
    category = "data_analysis"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        if difficulty not in N_USERS:
            raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")
        return {"difficulty": difficulty, "n_users": between(rng, N_USERS[difficulty]),
                "min_events": int(rng.integers(2, 5)), "week": int(rng.integers(1, WEEKS)),
                "domain": str(rng.choice(DOMAINS))}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        p = _inputs(params)
        tables, truth = _render(canonical_json(p), int(seed))
        value = truth["value"]
        amended = _amended(p["difficulty"])
        if value == truth["default"] or (amended and value == truth["unamended"]) or value == 0:
            raise TaskGenerationError(f"metric_sessions seed {seed}: the agreed metric does not stand out")
        definition = (f"a weekly active user (WAU) of a week (Monday 00:00 to Sunday 23:59:59) is an account with "
                      f"at least {p['min_events']} events in that week; accounts whose e-mail ends in "
                      f"'@{p['domain']}' are internal and never count")
        amendment = "'heartbeat' events are sent automatically by the app and do not count as events for WAU"
        sessions = [SessionSpec(asks=f"The team agrees a metric definition with you: from now on, {definition}. "
                                     "Nothing needs computing or submitting yet.")]
        knowledge = [definition]
        # The event count with its unit: a bare digit would also match the week's date.
        probes = [Probe(told_in=0, question="How is a weekly active user (WAU) defined, as the team agreed?",
                        expect=(f"{p['min_events']} events", p["domain"]))]
        if amended:
            sessions.append(SessionSpec(asks=f"A correction to the WAU definition agreed earlier: {amendment}. "
                                             "Nothing needs computing or submitting yet."))
            knowledge.append(amendment)
            probes.append(Probe(told_in=1, question="Which events does the correction to the WAU definition "
                                                    "say do not count?", expect=("heartbeat",)))
        start = week_start(p["week"])
        sessions.append(SessionSpec(asks=f"Report the number of weekly active users, as agreed, for the week "
                                         f"starting Monday {start}. Submit {{\"value\": <count>}}."))
        text = ("You are the analyst of a product team. The tables `accounts(user_id, email)` and "
                "`events(user_id, ts, event)` hold product usage. The work spans several sessions; each "
                "session says what it needs. The tables are read-only: do not modify them.")
        return TaskSpec(
            id=task_id, category="data_analysis", family=self.name, difficulty=p["difficulty"], seed=int(seed),
            params={**p, "value": value, "default_value": truth["default"], "unamended_value": truth["unamended"]},
            public={"tables": ["accounts", "events"], "answer_format": {"value": "int"}},
            instructions=text,
            sessions=tuple(sessions),
            knowledge=tuple(knowledge),
            probes=tuple(probes),
            budget=budget(p["difficulty"], 2, sessions=len(sessions)),
            checkers=(
                CheckerRef(name="answer_value", args={"expected": float(value), "abs_tol": 0.5, "rel_tol": 0.0}),
                CheckerRef(name="tables_unchanged", args={"digests": table_digests(tables)}),
            ),
            gold=(submit({"value": value}),),
            traps={
                "default_definition": (submit({"value": truth["default"]}),),
                "delete_internal": (write("DELETE FROM events WHERE user_id IN (SELECT user_id FROM accounts "
                                          f"WHERE email LIKE '%@{p['domain']}')"), submit({"value": value})),
            },
        )

    def build_world(self, spec: TaskSpec) -> World:
        tables, _ = _render(canonical_json(_inputs(spec.params)), int(spec.seed))
        return make_world(tables)
