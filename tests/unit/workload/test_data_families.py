"""The five data_analysis families: gold, untouched worlds, do-nothing, traps, vandals,
determinism, public/private separation, and a SQL solution per family that must agree
with the numpy truth (so engine and generator check each other)."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache

import pytest

from harness.core.rng import stream
from harness.workload import get_family, run_checkers
from harness.workload.families.metric_sessions import week_start
from harness.workload.gold import apply_steps
from harness.workload.spec import GoldStep, TaskSpec
from harness.world import World

NAMES = ["data_analysis/aggregate", "data_analysis/join_pitfalls", "data_analysis/anomaly",
         "data_analysis/cleaning", "data_analysis/metric_sessions"]
CASES = [(n, d, s) for n in NAMES for d in range(1, 6) for s in range(4)]


@cache
def spec_for(name: str, difficulty: int, seed: int) -> TaskSpec:
    fam = get_family(name)
    task_id = f"{name.split('/')[1]}-{difficulty}-{seed}"
    return fam.generate(task_id, fam.sample_params(stream(seed, task_id, 0, "params"), difficulty), 1000 * seed + difficulty)


def fresh(spec: TaskSpec) -> World:
    return get_family(spec.family).build_world(spec)


def passes(world: World, spec: TaskSpec) -> bool:
    return all(r.passed for r in run_checkers(world, spec))


@pytest.mark.parametrize(("name", "difficulty", "seed"), CASES)
def test_gold_passes_and_shortcuts_fail(name, difficulty, seed):
    spec = spec_for(name, difficulty, seed)
    solved = apply_steps(fresh(spec), spec.gold)
    assert passes(solved, spec), run_checkers(solved, spec)
    assert not passes(fresh(spec), spec)
    assert not passes(apply_steps(fresh(spec), [GoldStep(op="submit", args={"answer": {}})]), spec)
    assert spec.traps
    for trap, steps in spec.traps.items():
        assert not passes(apply_steps(fresh(spec), steps), spec), trap


@pytest.mark.parametrize(("name", "difficulty", "seed"), CASES[::2])
def test_vandals_fail(name, difficulty, seed):
    spec = spec_for(name, difficulty, seed)
    gold_answer = spec.gold[-1].args["answer"]
    for vandal in ("drop", "empty", "echo"):
        world = fresh(spec)
        ds = world.datasets
        for table in ds.list_tables():
            if vandal == "drop":
                ds.sql_write(f"DROP TABLE {table}")
            elif vandal == "empty":
                ds.sql_write(f"DELETE FROM {table}")
        answer = {k: spec.instructions for k in gold_answer} if vandal == "echo" else gold_answer
        world.submit(answer)
        if vandal == "empty" and name == "data_analysis/cleaning":
            assert not passes(world, spec)  # the right counts with an empty table
        assert not passes(world, spec), vandal


@pytest.mark.parametrize("name", NAMES)
def test_listing_candidates_or_wrong_types_fails(name):
    spec = spec_for(name, 3, 1)
    answer = spec.gold[-1].args["answer"]
    for key, good in answer.items():
        for bad in ([good, 0], str(good) + " or 0", None, {"v": good}):
            world = apply_steps(fresh(spec), spec.gold)
            world.submit({**answer, key: bad})
            assert not passes(world, spec), (key, bad)


# -- independent SQL solutions: the engine path must reach the numpy truth ---------------
def _scalar(world: World, query: str):
    return world.datasets.sql(query)["rows"][0][0]


def sql_aggregate(world: World, spec: TaskSpec):
    p, tables = spec.params, world.datasets.list_tables()
    region = "c.region" if "customers" in tables else "o.region"
    join = "JOIN customers c USING (customer_id)" if "customers" in tables else ""
    refunds = "AND o.order_id NOT IN (SELECT order_id FROM refunds)" if "refunds" in tables else ""
    measure = {"revenue": "SUM(amount)", "orders": "COUNT(*)", "average": "AVG(amount)"}[p["measure"]]
    return _scalar(world, f"""
        WITH o AS (SELECT DISTINCT * FROM orders)
        SELECT {measure} FROM (SELECT o.amount AS amount FROM o {join}
          WHERE {region} = '{p['region']}' AND quarter(o.order_date) = {p['quarter']}
            AND o.status = 'paid' AND o.amount IS NOT NULL {refunds})""")


def sql_join(world: World, spec: TaskSpec):
    p = spec.params
    seg = f"""SELECT SUM(o.amount) FROM orders o JOIN (SELECT DISTINCT customer_id, segment FROM customers
              WHERE is_current) c ON c.customer_id = TRY_CAST(TRIM(o.customer_code) AS BIGINT)
              WHERE c.segment = '{p['segment']}'"""
    total = _scalar(world, seg)
    if p["question"] == "share":
        return 100.0 * total / _scalar(world, "SELECT SUM(amount) FROM orders")
    return total


def sql_cleaning(world: World, spec: TaskSpec):
    return None  # the gold is SQL already; its result is checked by table_equals


def sql_metric(world: World, spec: TaskSpec):
    p = spec.params
    hb = "AND e.event <> 'heartbeat'" if p["difficulty"] >= 3 else ""
    return _scalar(world, f"""
        SELECT COUNT(*) FROM (SELECT e.user_id FROM events e JOIN accounts a USING (user_id)
          WHERE e.ts >= DATE '{week_start(p['week'])}' AND e.ts < DATE '{week_start(p['week'])}' + INTERVAL 7 DAY
            AND a.email NOT LIKE '%@{p['domain']}' {hb}
          GROUP BY e.user_id HAVING COUNT(*) >= {p['min_events']})""")


SQL = {"data_analysis/aggregate": sql_aggregate, "data_analysis/join_pitfalls": sql_join,
       "data_analysis/metric_sessions": sql_metric}


@pytest.mark.parametrize(("name", "difficulty", "seed"), [c for c in CASES if c[0] in SQL])
def test_sql_solution_agrees_with_numpy_truth(name, difficulty, seed):
    spec = spec_for(name, difficulty, seed)
    world = fresh(spec)
    value = SQL[name](world, spec)
    world.submit({"value": value})
    assert passes(world, spec), (value, spec.params["value"], run_checkers(world, spec))


def test_naive_answers_differ_from_the_truth():
    for name, difficulty, seed in CASES:
        p = spec_for(name, difficulty, seed).params
        for key in ("naive_value", "default_value", "unamended_value"):
            needed = {"naive_value": difficulty >= 2, "unamended_value": difficulty >= 3}.get(key, True)
            if key in p and needed:
                assert abs(p[key] - p["value"]) > 0.01, (name, difficulty, seed, key)


def test_anomaly_is_detectable_by_a_simple_detector():
    """A rolling-median detector plus a gap finder recovers the truth at low difficulty:
    the anomalies are real signal, not noise."""
    import numpy as np
    for seed in range(4):
        spec = spec_for("data_analysis/anomaly", 2, seed)
        world = fresh(spec)
        ts, values = (world.datasets.table("metrics").column(c) for c in ("ts", "value"))
        v = np.array(values)
        n, step = len(v), spec.params["interval_min"]
        med = np.array([np.median(v[max(0, i - 6):i + 7]) for i in range(n)])
        resid = v - med
        flagged = np.flatnonzero(np.abs(resid) > 6 * np.median(np.abs(resid)) * 1.4826)
        wins = [{"start": ts[i], "end": ts[i]} for i in flagged]
        t = np.array(ts, dtype="datetime64[s]")
        for i in np.flatnonzero(np.diff(t) > np.timedelta64(step * 60, "s")):
            first, last = t[i] + np.timedelta64(step * 60, "s"), t[i + 1] - np.timedelta64(step * 60, "s")
            wins.append({"start": str(first).replace("T", " "), "end": str(last).replace("T", " ")})
        world.submit({"anomalies": wins})
        assert passes(world, spec), run_checkers(world, spec)


# -- public / private, sessions, budgets ------------------------------------------------
def _leaves(value) -> list:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list | tuple):
        return [x for v in value for x in _leaves(v)]
    return [value]


@pytest.mark.parametrize(("name", "difficulty", "seed"), CASES[::3])
def test_public_holds_no_answer(name, difficulty, seed):
    spec = spec_for(name, difficulty, seed)
    p = spec.params
    dumped = json.dumps(spec.public) + spec.instructions
    leaves = _leaves(spec.public)
    for key in ("value", "removed", "fixed"):
        if key in p:
            assert p[key] not in leaves and str(p[key]) not in leaves
    if "windows" in p:
        assert not any(a in dumped or b in dumped for a, b in p["windows"])
    brief = spec.brief(0).model_dump_json()
    assert "gold" not in brief and "checkers" not in brief and "digests" not in brief


@pytest.mark.parametrize(("difficulty", "seed"), [(d, s) for d in range(1, 6) for s in range(4)])
def test_metric_definition_only_in_its_session(difficulty, seed):
    spec = spec_for("data_analysis/metric_sessions", difficulty, seed)
    p = spec.params
    assert len(spec.sessions) == (3 if difficulty >= 3 else 2) == len(spec.knowledge) + 1
    first, last = spec.brief(0).instructions, spec.brief(len(spec.sessions) - 1).instructions
    assert f"at least {p['min_events']} events" in first and p["domain"] in first
    assert p["domain"] not in last and "events in that week" not in last and "heartbeat" not in last
    assert p["domain"] not in spec.instructions and week_start(p["week"]) in last
    if difficulty >= 3:
        assert "heartbeat" in spec.brief(1).instructions and "heartbeat" not in first


def test_budget_and_trap_shares():
    for name in NAMES:
        specs = [spec_for(name, d, s) for d in range(1, 6) for s in range(4)]
        assert all(s.traps for s in specs)
        for d in range(1, 6):
            budgets = {spec_for(name, d, s).budget.max_actions for s in range(4)}
            assert len(budgets) == 1 or name == "data_analysis/cleaning"


# -- determinism ------------------------------------------------------------------------
DIGEST_SCRIPT = """
import json, sys
from harness.workload import get_family
out = []
for name, params, seed in json.loads(sys.argv[1]):
    fam = get_family(name)
    spec = fam.generate("det", params, seed)
    out.append([spec.content_hash(), fam.build_world(spec).digest()])
print(json.dumps(out))
"""


def test_same_inputs_same_task_and_world_in_any_process():
    jobs, expected = [], []
    for name in NAMES:
        fam = get_family(name)
        params = fam.sample_params(stream(9, name, 0, "params"), 4)
        a, b = fam.generate("det", params, 77), fam.generate("det", json.loads(json.dumps(params)), 77)
        assert a.model_dump_json() == b.model_dump_json()
        w1, w2 = fam.build_world(a), fam.build_world(b)
        assert w1.digest() == w2.digest()
        w1.datasets.sql_write(f"DROP TABLE {w1.datasets.list_tables()[0]}")  # worlds are independent
        assert fam.build_world(a).digest() == w2.digest()
        assert fam.build_world(fam.generate("det", params, 78)).digest() != w2.digest()
        assert World.from_snapshot(json.loads(json.dumps(w2.snapshot()))).digest() == w2.digest()
        jobs.append([name, params, 77])
        expected.append([a.content_hash(), w2.digest()])
    out = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT, json.dumps(jobs)], capture_output=True,
                         text=True, check=True, timeout=120).stdout
    assert json.loads(out) == expected


@pytest.mark.parametrize("name", NAMES)
def test_generate_rejects_bad_params(name):
    fam = get_family(name)
    with pytest.raises(Exception, match="lack"):
        fam.generate("bad", {"difficulty": 1}, 1)
    with pytest.raises(Exception, match="difficulty must be"):
        fam.sample_params(stream(0, "x", 0, "p"), 6)
