"""data_analysis/cleaning: clean a table in place by stated rules and report what changed.

Table ``signups(id, email, signup_date, age, country)`` has dirty rows, one defect each:
exact duplicate rows and out-of-range ages (always), US-style dates (d2+), country codes
with stray case or spaces (d3+), dotted European dates (d4+) and e-mails without '@'
(d5). Fixable rows must be fixed, not dropped. The checkers compare the table with the
expected clean one as a multiset and the reported counts with the true ones, so dropping
by a too-broad rule, not counting, or dropping the table all fail.
"""

from __future__ import annotations

import datetime as dt
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
    multiset_digest,
    rng_for,
    submit,
    write,
)
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, TaskSpec
from harness.world import World

INPUT_KEYS = ("difficulty", "n_rows")
N_ROWS = {1: (100, 300), 2: (300, 600), 3: (600, 1200), 4: (1200, 2500), 5: (2500, 4000)}
COUNTRIES = ("DE", "FR", "US", "GB", "ES", "IT", "NL", "SE")
COLUMNS = [("id", "int"), ("email", "text"), ("signup_date", "text"), ("age", "int"), ("country", "text")]
# defect -> (first difficulty, is it fixed (True) or removed (False))
DEFECTS = {"duplicate": (1, False), "age": (1, False), "us_date": (2, True), "country": (3, True),
           "dot_date": (4, True), "email": (5, False)}
RULES = {
    "us_date": "Dates written MM/DD/YYYY must be rewritten as YYYY-MM-DD.",
    "dot_date": "Dates written DD.MM.YYYY must be rewritten as YYYY-MM-DD.",
    "country": "Country codes must be two upper-case letters without spaces ('de ' becomes 'DE').",
    "age": "Rows whose age is below 0 or above 120 are removed.",
    "email": "Rows whose e-mail has no '@' are removed.",
    "duplicate": "Rows that exactly duplicate an earlier row are removed (the first copy stays).",
}
GOLD_SQL = {
    "us_date": "UPDATE signups SET signup_date = strftime(strptime(signup_date, '%m/%d/%Y'), '%Y-%m-%d') "
               "WHERE signup_date LIKE '%/%/%'",
    "dot_date": "UPDATE signups SET signup_date = strftime(strptime(signup_date, '%d.%m.%Y'), '%Y-%m-%d') "
                "WHERE signup_date LIKE '%.%.%'",
    "country": "UPDATE signups SET country = UPPER(TRIM(country)) WHERE country <> UPPER(TRIM(country))",
    "age": "DELETE FROM signups WHERE age < 0 OR age > 120",
    "email": "DELETE FROM signups WHERE email NOT LIKE '%@%'",
    "duplicate": "CREATE OR REPLACE TABLE signups AS SELECT DISTINCT * FROM signups",
}


def active_defects(d: int) -> list[str]:
    return [k for k, (first, _) in DEFECTS.items() if d >= first]


@lru_cache(maxsize=32)
def _render(inputs_json: str, seed: int) -> tuple[Tables, dict[str, Any]]:
    p = json.loads(inputs_json)
    rng, n = rng_for(seed, "cleaning"), int(p["n_rows"])
    ids = np.arange(1, n + 1)
    days = rng.integers(0, 730, size=n)
    iso = np.datetime_as_string(np.datetime64("2023-01-01") + days.astype("timedelta64[D]"), unit="D").tolist()
    clean = {
        "id": ids.tolist(),
        "email": [f"user{i}@mail{int(j)}.example" for i, j in zip(ids, rng.integers(1, 9, size=n), strict=True)],
        "signup_date": iso,
        "age": rng.integers(16, 90, size=n).tolist(),
        "country": rng.choice(np.array(COUNTRIES), size=n).tolist(),
    }
    dirty = {k: list(v) for k, v in clean.items()}
    defects = active_defects(p["difficulty"])
    # every dirty row gets one defect: the counts are then unambiguous
    per = max(2, n // 40)
    chosen = rng.choice(n, per * len(defects), replace=False)
    removed_ids: set[int] = set()
    fixed = 0
    duplicates: list[int] = []
    for k, defect in enumerate(defects):
        for i in (int(x) for x in chosen[k * per:(k + 1) * per]):
            if defect == "duplicate":
                duplicates.append(i)
            elif defect == "age":
                dirty["age"][i] = int(rng.choice([-1 * int(rng.integers(1, 9)), int(rng.integers(121, 400))]))
                removed_ids.add(i)
            elif defect == "email":
                dirty["email"][i] = dirty["email"][i].replace("@", " at ")
                removed_ids.add(i)
            elif defect == "us_date":
                dirty["signup_date"][i] = dt.date.fromisoformat(iso[i]).strftime("%m/%d/%Y")
                fixed += 1
            elif defect == "dot_date":
                dirty["signup_date"][i] = dt.date.fromisoformat(iso[i]).strftime("%d.%m.%Y")
                fixed += 1
            else:
                c = clean["country"][i]
                dirty["country"][i] = [c.lower(), f" {c}", f"{c.lower()} ", c.capitalize()][int(rng.integers(0, 4))]
                fixed += 1
    names = [c for c, _ in COLUMNS]
    rows = list(zip(*(dirty[c] for c in names), strict=True))
    # copies of clean rows land later in the table, as a re-run of an import would put them
    for i in sorted(duplicates, reverse=True):  # from the end: earlier indices stay valid
        rows.insert(min(len(rows), i + 1 + int(rng.integers(1, 50))), rows[i])
    expected = [r for i, r in enumerate(zip(*(clean[c] for c in names), strict=True)) if i not in removed_ids]
    tables: Tables = {"signups": (list(COLUMNS), [list(col) for col in zip(*rows, strict=True)])}
    truth = {"removed": len(removed_ids) + len(duplicates), "fixed": fixed,
             "n_rows": len(expected), "digest": multiset_digest(expected)}
    return tables, truth


def _inputs(params: dict[str, Any]) -> dict[str, Any]:
    try:
        inputs = {k: params[k] for k in INPUT_KEYS}
    except KeyError as exc:
        raise TaskGenerationError(f"cleaning params lack {exc.args[0]!r}", "build params with sample_params") from None
    if inputs["difficulty"] not in N_ROWS or not 100 <= int(inputs["n_rows"]) <= 10_000:
        raise TaskGenerationError("difficulty must be 1..5 and n_rows in 100..10000")
    return inputs


@family
class Cleaning:
    name = "data_analysis/cleaning"
    category = "data_analysis"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        if difficulty not in N_ROWS:
            raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")
        return {"difficulty": difficulty, "n_rows": between(rng, N_ROWS[difficulty])}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        p = _inputs(params)
        tables, truth = _render(canonical_json(p), int(seed))
        defects = active_defects(p["difficulty"])
        # rules in the order they are applied: fixes first, then removals
        order = [d for d in defects if DEFECTS[d][1]] + [d for d in defects if not DEFECTS[d][1]]
        rules = [RULES[d] for d in order]
        text = (
            "Clean the table `signups` in place, by these rules and no others:\n"
            + "\n".join(f"- {r}" for r in rules)
            + "\nKeep every other row, with all its columns. Then submit {\"removed\": <rows removed>, "
              "\"fixed\": <rows changed and kept>}."
        )
        answer = {"removed": truth["removed"], "fixed": truth["fixed"]}
        broad = ("DELETE FROM signups WHERE NOT regexp_matches(signup_date, '^\\d{4}-\\d{2}-\\d{2}$') "
                 "OR age < 0 OR age > 120 OR country <> UPPER(TRIM(country)) OR email NOT LIKE '%@%'; "
                 + GOLD_SQL["duplicate"])
        return TaskSpec(
            id=task_id, category="data_analysis", family=self.name, difficulty=p["difficulty"], seed=int(seed),
            params={**p, **answer, "clean_rows": truth["n_rows"], "defects": defects},
            public={"tables": ["signups"], "rules": rules, "answer_format": {"removed": "int", "fixed": "int"}},
            instructions=text,
            budget=budget(p["difficulty"], 1 + len(rules) // 2),  # each rule is about one query to find, one to fix
            checkers=(
                CheckerRef(name="table_equals", args={"table": "signups", "columns": [c for c, _ in COLUMNS],
                                                      "n_rows": truth["n_rows"], "digest": truth["digest"]}),
                CheckerRef(name="reported_count", args={"field": "removed", "expected": truth["removed"]}),
                CheckerRef(name="reported_count", args={"field": "fixed", "expected": truth["fixed"]}),
            ),
            gold=(*(write(GOLD_SQL[d]) for d in order), submit(answer)),
            traps={
                "drop_without_counting": (write(broad), submit({})),
                "drop_table": (write("DROP TABLE signups"), submit(answer)),
            },
        )

    def build_world(self, spec: TaskSpec) -> World:
        tables, _ = _render(canonical_json(_inputs(spec.params)), int(spec.seed))
        return make_world(tables)
