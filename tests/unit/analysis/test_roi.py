"""The roll-out model: known-answer cash flows, payback, the band, bad schedules."""

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.analysis.cost_model import parse_cost_model
from harness.analysis.roi import (
    curves,
    payback_weeks,
    phase_payback_weeks,
    roi_band,
    roi_estimates,
    schedule,
)
from harness.analysis.tco import cost_table
from harness.core.errors import ConfigError
from tests.unit.analysis.test_tco import CHEAP, RAW, RICH, _noisy, model, spec, synthetic

WPM = 52 / 12
# From test_cost's synthetic run (worked out there): success 0.5 vs 0.75; cost per task
# 17.5 + 60 x 0.675 = 58 vs 7.5625 + 60 x 0.25 = 22.5625; infrastructure 11 vs 49 per agent-month.
TASKS_PER_WEEK = 2 * 10 / WPM
GAIN = TASKS_PER_WEEK * (10 * (0.75 - 0.5) + (58 - 22.5625))  # per operating week of native
INFRA = 2 * (49 - 11) / WPM  # extra spend per operating week of native
INVEST = 10 * 60.0  # engineer-hours x rate, spread over the 4 build weeks


def _stat(records, statistic):
    [r] = [r for r in records if r.statistic == statistic]
    return r


def test_known_answer_cash_flows():
    episodes, specs = synthetic()
    m = model()
    cost = cost_table(episodes, specs, m)
    c = curves(cost, m, cost.table.values.mean(axis=0), 2)
    live = c.months * WPM - 4  # weeks native has run by each month end
    assert c.gain == pytest.approx(GAIN * live)
    assert c.spend == pytest.approx(INVEST + INFRA * live)
    assert c.roi[-1] == pytest.approx(GAIN * 48 / (INVEST + INFRA * 48))
    assert c.net == pytest.approx(c.gain - c.spend)


def test_known_answer_payback():
    episodes, specs = synthetic()
    m = model()
    cost = cost_table(episodes, specs, m)
    means = cost.table.values.mean(axis=0)
    # net is -600 at go-live (week 4), then rises by GAIN - INFRA a week
    assert payback_weeks(cost, m, means, 2) == pytest.approx(4 + INVEST / (GAIN - INFRA), abs=1e-6)
    assert phase_payback_weeks(cost, m, means, 2) == pytest.approx([INVEST / (GAIN - INFRA)])


def test_a_roll_out_that_never_pays_back_reports_the_horizon():
    episodes, specs = synthetic()
    m = model(**{"rollout.phases": [{**RAW["rollout"]["phases"][0], "one_off_usd": 1e9}]})
    cost = cost_table(episodes, specs, m)
    means = cost.table.values.mean(axis=0)
    assert payback_weeks(cost, m, means, 2) == pytest.approx(52.0)
    assert phase_payback_weeks(cost, m, means, 2) == pytest.approx([52.0])


def test_phases_run_one_after_another():
    episodes, specs = _three_conditions()
    m = _three_phase_model(weeks=(4, 8))
    sched = schedule(cost_table(episodes, specs, m), m)
    np.testing.assert_allclose(sched.live, [0, 4, 12])
    # at week 10: the baseline ran 4 weeks, phase a 6 (it went live at 4), phase b none yet
    np.testing.assert_allclose(sched.operating(np.array([10.0])), [[4, 6, 0]])
    np.testing.assert_allclose(sched.invested(np.array([2.0, 8.0, 20.0])),
                               [0.5 * 60 * 10, 60 * 10 + 0.5 * 60 * 20, 60 * 30])


def _three_conditions():
    episodes, specs = _noisy(7, tasks=20)
    mid = episodes[episodes.condition == "native"].assign(condition="mid")
    return pd.concat([episodes, mid]), {**specs, "mid": spec({**CHEAP, "observability": "causal"})}


def _three_phase_model(weeks=(4, 8), **changes):
    raw = copy.deepcopy(RAW)
    raw["rollout"]["phases"] = [
        {"name": "a", "condition": "mid", "weeks": weeks[0], "engineer_hours": 10, "one_off_usd": 0},
        {"name": "b", "condition": "native", "weeks": weeks[1], "engineer_hours": 20, "one_off_usd": 0}]
    raw["rollout"].update(changes)
    return parse_cost_model(raw)


def test_estimates_and_band_bracket_their_points():
    episodes, specs = _three_conditions()
    m = _three_phase_model()
    recs = roi_estimates(episodes, specs, m, seed=2, resamples=800)
    assert {r.category for r in recs} == {"all"}
    assert {f"roi@{k}" for k in range(1, 13)} <= {r.statistic for r in recs}
    assert _stat(recs, "roi@12").conditions == "native|base"
    assert _stat(recs, "payback_weeks:b").conditions == "native|mid"
    for r in recs:
        if r.statistic.startswith(("roi@", "net_usd@", "gain_usd")):
            assert r.low - 1e-6 <= r.estimate <= r.high + 1e-6, r
    band = roi_band(episodes, specs, m, seed=2, resamples=800)
    assert list(band.month) == list(range(1, 13))
    assert (band.roi_low <= band.roi + 1e-9).all() and (band.roi <= band.roi_high + 1e-9).all()
    assert band.roi_high.iloc[-1] > band.roi_low.iloc[-1]
    assert band.roi.iloc[-1] == pytest.approx(_stat(recs, "roi@12").estimate)


def test_a_phase_condition_missing_from_the_run_names_the_field():
    episodes, specs = synthetic()
    m = _three_phase_model()
    with pytest.raises(ConfigError, match=r"rollout\.phases\[0\]\.condition: condition 'mid' is not in run r"):
        roi_estimates(episodes, specs, m, resamples=10)


def test_a_phase_must_not_reuse_the_baseline():
    with pytest.raises(ConfigError, match=r"rollout\.phases: .*distinct from the baseline"):
        model(**{"rollout.phases": [{**RAW["rollout"]["phases"][0], "condition": "base"}]})


@settings(max_examples=40, deadline=None)
@given(value=st.floats(0, 200), extra=st.floats(0.1, 200), hours=st.floats(0, 500))
def test_roi_rises_with_the_value_of_completions_and_falls_with_effort(value, extra, hours):
    episodes, specs = synthetic()  # native completes more than base: value only helps
    base = model(**{"rollout.value_per_completed_task_usd": value})
    cost = cost_table(episodes, specs, base)
    means = cost.table.values.mean(axis=0)
    lo = curves(cost, base, means, 2).roi
    hi_model = model(**{"rollout.value_per_completed_task_usd": value + extra})
    assert np.all(curves(cost, hi_model, means, 2).roi >= lo - 1e-12)
    costly = model(**{"rollout.value_per_completed_task_usd": value,
                      "rollout.phases": [{**RAW["rollout"]["phases"][0], "engineer_hours": 10 + hours}]})
    assert np.all(curves(cost, costly, means, 2).roi <= lo + 1e-12)
    assert payback_weeks(cost, costly, means, 2) >= payback_weeks(cost, base, means, 2) - 1e-9


def test_unused_rich_layers_keep_names_out_of_it():
    # the phase condition is found by its configured name; its price by its layers only
    episodes, specs = synthetic()
    m = model()
    a = curves(cost_table(episodes, specs, m), m, cost_table(episodes, specs, m).table.values.mean(axis=0), 2)
    renamed = episodes.assign(condition=episodes.condition.map({"base": "b0", "native": "n1"}))
    m2 = model(**{"rollout.baseline": "b0", "rollout.phases": [{**RAW["rollout"]["phases"][0], "condition": "n1"}]})
    cost2 = cost_table(renamed, {"b0": spec(CHEAP), "n1": spec(RICH)}, m2)
    b = curves(cost2, m2, cost2.table.values.mean(axis=0), 2)
    np.testing.assert_allclose(a.roi, b.roi)


def test_known_answer_estimates():
    episodes, specs = synthetic()
    recs = roi_estimates(episodes, specs, model(), resamples=200)
    assert _stat(recs, "steady_multiple").estimate == pytest.approx(GAIN / INFRA)
    infra = _stat(recs, "infra_usd_per_month:all")
    assert (infra.estimate, infra.low, infra.high) == pytest.approx((98.0, 98.0, 98.0))  # fixed by the prices
    assert _stat(recs, "gain_usd_per_month:all").estimate == pytest.approx(GAIN * WPM)
    assert _stat(recs, "payback_weeks").estimate == pytest.approx(4 + INVEST / (GAIN - INFRA), abs=1e-6)
    # month 1 ends 1/3 of a week after go-live
    assert _stat(recs, "net_usd@1").estimate == pytest.approx(-INVEST + (GAIN - INFRA) * (WPM - 4))
