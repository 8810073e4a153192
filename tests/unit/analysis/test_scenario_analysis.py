"""Table 1 / Table 4 analysis on synthetic episode frames with known answers."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.analysis.bootstrap import OVERALL
from harness.analysis.scenario_analysis import (
    KEY_THRESHOLD,
    LAYER_PRINCIPLES,
    ScenarioAnalysis,
    ScenarioPlan,
    key_principles,
    scenario_plan,
)
from harness.analysis.scenario_intervals import interval
from harness.analysis.scenario_metrics import derive, divide, task_sums

DIAG = json.dumps([{"checker": "diagnosis", "passed": True, "reason": ""}])
PLAIN = json.dumps([{"checker": "tests_pass", "passed": True, "reason": ""}])


def episode(condition, task_id, success=True, repeat=0, **fields):
    row = {"condition": condition, "task_id": task_id, "repeat": repeat, "success": success,
           "retention_correct": 0, "retention_asked": 0, "tool_calls_accurate": 4, "tool_calls": 5,
           "check_detail": PLAIN, "diagnosis_minutes": None, "termination": "submitted", "crashes": 0,
           "downtime_minutes": 0.0}
    return {**row, **fields}


def frame(rows):
    return pd.DataFrame(rows)


# -- per-episode incident fields -------------------------------------------------------------
def test_incidents_known_answer():
    eps = frame([
        episode("a", "incident-0000", check_detail=DIAG, diagnosis_minutes=6.0),
        episode("a", "incident-0001", check_detail=DIAG, success=False),  # never diagnosed: censored
        episode("a", "fix-0000", crashes=2, downtime_minutes=14.0),
        episode("a", "fix-0001", crashes=3, downtime_minutes=10.0, termination="crash_not_recovered"),
    ])
    d = derive(eps, {"incident-0000": 40.0, "incident-0001": 90.0}, unrecovered_crash_minutes=17.0).set_index("task_id")
    assert d.world_minutes.tolist() == [6.0, 90.0, 0.0, 0.0]
    assert d.world_incidents.tolist() == [1.0, 1.0, 0.0, 0.0]
    assert d.agent_minutes.tolist() == [0.0, 0.0, 14.0, 27.0]
    assert d.incidents.tolist() == [1.0, 1.0, 2.0, 3.0]
    assert d.incidents_censored.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert d.scenario.tolist() == ["incident", "incident", "fix", "fix"]


def test_an_incident_task_without_a_budget_is_an_error():
    eps = frame([episode("a", "incident-0000", check_detail=DIAG)])
    with pytest.raises(ValueError, match="incident-0000"):
        derive(eps, {}, unrecovered_crash_minutes=17.0)


def test_unpaired_tasks_are_an_error():
    eps = frame([episode("a", "s-0000"), episode("b", "s-0000"), episode("a", "s-0001")])
    with pytest.raises(ValueError, match="s-0001"):
        task_sums(derive(eps, {}, 17.0), ["a", "b"])


def test_divide_never_divides_by_zero():
    with np.errstate(all="raise"):
        out = divide(np.array([1.0, 0.0, 3.0]), np.array([0.0, 0.0, 2.0]))
    assert out[0] == np.inf and np.isnan(out[1]) and out[2] == 1.5


# -- roles from specs --------------------------------------------------------------------------
LAYERS = {"execution": {"variant": "durable"}, "tools": {"variant": "typed"}, "memory": {"variant": "tiered"}}


def spec(loop="autonomous", **swap):
    return {"loop": loop, "loop_options": {}, "faults": {}, "layers": {**LAYERS, **swap}}


def test_plan_reads_roles_from_specs_not_names():
    specs = {"x": spec(), "y": spec(loop="chatbot"), "z": spec(tools={"variant": "shell"}),
             "w": spec(tools={"variant": "shell"}, memory={"variant": "context"})}
    plan = scenario_plan(specs, "x", ["y", "w", "x", "z"])
    assert plan == ScenarioPlan("x", ("y", "w"), (("tools", "z"),))
    renamed = {f"copy_{k}": v for k, v in specs.items()}
    again = scenario_plan(renamed, "copy_x", ["copy_y", "copy_w", "copy_x", "copy_z"])
    assert again.ablations == (("tools", "copy_z"),) and again.baselines == ("copy_y", "copy_w")


def test_plan_rejects_two_ablations_of_one_layer_and_no_baseline():
    specs = {"x": spec(), "z1": spec(tools={"variant": "shell"}), "z2": spec(tools={"variant": "other"})}
    with pytest.raises(ValueError, match="tools"):
        scenario_plan(specs, "x", ["x", "z1", "z2"])
    with pytest.raises(ValueError, match="no baseline"):
        scenario_plan({"x": spec(), "z": spec(tools={"variant": "shell"})}, "x", ["x", "z"])


# -- the analysis ------------------------------------------------------------------------------
PLAN = ScenarioPlan("native", ("chat", "script"), (("tools", "no_tools"),))


def synthetic(outcomes: dict[str, list[int]], scenarios=("alpha", "beta")) -> pd.DataFrame:
    """outcomes[condition][i]: success of task i; tasks alternate between the scenarios."""
    rows = []
    for cond, wins in outcomes.items():
        for i, win in enumerate(wins):
            rows.append(episode(cond, f"{scenarios[i % len(scenarios)]}-{i:04d}", success=bool(win)))
    return frame(rows)


def analyse(eps, plan=PLAN, resamples=400):
    recs = ScenarioAnalysis("run", eps, plan, budgets={}, unrecovered_crash_minutes=17.0,
                            resamples=resamples, seed=1).records()
    return pd.DataFrame([r.model_dump() for r in recs])


def get(est, analysis, statistic, category=OVERALL, conditions=None):
    rows = est[(est.analysis == analysis) & (est.statistic == statistic) & (est.category == category)]
    if conditions is not None:
        rows = rows[rows.conditions == conditions]
    assert len(rows) == 1, (analysis, statistic, category, conditions, rows)
    return rows.iloc[0]


def test_known_answer_rates_ratios_and_losses():
    eps = synthetic({"chat": [1, 0, 0, 0, 1, 0, 0, 0], "script": [1, 1, 0, 0, 1, 1, 0, 0],
                     "native": [1, 1, 1, 1, 1, 1, 1, 0], "no_tools": [1, 1, 1, 0, 1, 0, 1, 0]})
    est = analyse(eps)
    assert get(est, "table1", "completion", conditions="chat").estimate == pytest.approx(0.25)
    assert get(est, "table1", "completion", conditions="native").estimate == pytest.approx(7 / 8)
    assert get(est, "table1", "tool_call_accuracy", conditions="native").estimate == pytest.approx(0.8)
    assert get(est, "table1_ratio", "completion_ratio", conditions="native|chat").estimate == pytest.approx(3.5)
    # alpha = even task indices: chat 2/4, script 2/4 -> the first listed baseline wins the tie
    assert get(est, "table4", "baseline", "alpha").conditions == "chat"
    best = get(est, "table4", "baseline")
    assert best.conditions == "script" and best.estimate == pytest.approx(0.5)
    assert get(est, "table4", "improvement").estimate == pytest.approx(7 / 4)
    assert get(est, "table4", "loss:tools").estimate == pytest.approx(2 / 8)
    assert get(est, "table4", "loss:tools").conditions == "native|no_tools"
    assert set(est.category) == {"alpha", "beta", OVERALL}
    assert "retention" not in set(est.statistic)  # no probes anywhere: no data, no row


def test_zero_baseline_is_reported_unbounded_not_divided():
    eps = synthetic({"chat": [0] * 8, "script": [0] * 8, "native": [1, 1, 0, 1, 1, 0, 1, 1],
                     "no_tools": [0] * 8})
    est = analyse(eps)
    r = get(est, "table1_ratio", "completion_ratio", conditions="native|chat")
    assert r.estimate == np.inf and r.high == np.inf and "unbounded" in r.method
    assert np.isfinite(r.low) or r.low == np.inf


def test_zero_over_zero_is_left_out_not_stored_as_nan():
    eps = synthetic({"chat": [0] * 8, "script": [0] * 8, "native": [0] * 8, "no_tools": [0] * 8})
    est = analyse(eps)
    assert est[(est.analysis == "table1_ratio") & (est.statistic == "completion_ratio")].empty
    assert get(est, "table1", "completion", conditions="native").estimate == 0.0
    assert not est[["estimate", "low", "high"]].isna().any().any()


@given(st.lists(st.tuples(*[st.integers(0, 1)] * 4), min_size=4, max_size=12))
def test_estimates_are_jointly_consistent(rows):
    outcomes = {c: [r[i] for r in rows] for i, c in enumerate(("chat", "script", "native", "no_tools"))}
    est = analyse(synthetic(outcomes), resamples=50)
    rate = {c: np.mean(v) for c, v in outcomes.items()}
    for cond in ("chat", "script", "native"):
        assert get(est, "table1", "completion", conditions=cond).estimate == pytest.approx(rate[cond])
    assert get(est, "table4", "loss:tools").estimate == pytest.approx(rate["native"] - rate["no_tools"])
    best = get(est, "table4", "baseline")
    assert best.estimate == pytest.approx(max(rate["chat"], rate["script"]))
    assert not est[["estimate", "low", "high"]].isna().any().any()


# -- intervals ---------------------------------------------------------------------------------
def test_interval_drops_undefined_resamples_and_says_so():
    boot = np.array([np.nan, 1.0, 2.0, 3.0, np.nan])
    iv = interval(2.0, boot, np.array([1.5, 2.5, 2.0]), 0.9)
    assert "2/5 resamples undefined" in iv.method and 1.0 <= iv.low <= iv.high <= 3.0


def test_interval_single_task_and_undefined_point():
    assert interval(0.5, np.full(10, 0.5), None, 0.95).method.startswith("percentile (single task")
    assert "undefined" in interval(float("nan"), np.full(10, np.nan), None, 0.95).method


def test_interval_bca_when_everything_is_finite():
    rng = np.random.default_rng(0)
    iv = interval(0.5, rng.normal(0.5, 0.1, 2000), rng.normal(0.5, 0.01, 30), 0.95)
    assert iv.method == "bca" and iv.low < 0.5 < iv.high


# -- key principles ----------------------------------------------------------------------------
def losses(**by_layer):
    return pd.DataFrame([{"analysis": "table4", "statistic": f"loss:{layer}", "category": "s",
                          "estimate": e, "low": lo, "high": hi} for layer, (e, lo, hi) in by_layer.items()])


def test_key_principles_need_a_loss_above_threshold_with_ci_above_zero():
    big = KEY_THRESHOLD + 0.2
    est = losses(security=(big, 0.1, 0.5), observability=(big + 0.1, 0.05, 0.6), tools=(big, -0.01, 0.4),
                 memory=(KEY_THRESHOLD / 2, 0.01, 0.05), execution=(0.0, 0.0, 0.0))
    assert key_principles(est, "s") == (*LAYER_PRINCIPLES["observability"], *LAYER_PRINCIPLES["security"])
    assert key_principles(est, "other") == ()


def test_every_layer_maps_to_principles_and_every_principle_is_covered():
    assert sorted(p for ps in LAYER_PRINCIPLES.values() for p in ps) == [f"P{i}" for i in range(1, 8)]


def test_same_inputs_in_any_row_order_give_identical_records():
    eps = synthetic({"chat": [1, 0, 0, 1, 1, 0], "script": [1, 1, 0, 0, 1, 1], "native": [1, 1, 1, 1, 0, 1],
                     "no_tools": [1, 0, 1, 1, 0, 1]})
    shuffled = eps.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert analyse(eps).equals(analyse(shuffled))


def test_principles_are_not_measured_without_ablation_cells():
    from harness.analysis.scenario_analysis import principles_text

    est = losses(tools=(0.0, 0.0, 0.0))
    assert principles_text(est, "s") == "none"
    assert principles_text(est.iloc[0:0], "s") == "not measured"
