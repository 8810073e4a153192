"""The skill study's statistics on synthetic task tables whose answers are known."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.analysis.bootstrap import OVERALL, StratifiedBootstrap
from harness.analysis.report import skill_design
from harness.analysis.skill import linear_map, skill_records, skill_tables
from harness.core.errors import UserInputError

FACTORIAL = {"base": "human", "treatment": "agent_native", "components": [
    {"name": "context", "short": "ctx", "layers": ["execution", "memory"]},
    {"name": "agency", "short": "agy", "layers": ["security", "tools"]},
    {"name": "observability", "short": "obs", "layers": ["observability"]}]}
CELLS = ["-".join(f"{s}{b}" for s, b in zip(("ctx", "agy", "obs"), bits, strict=True))
         for bits in itertools.product((0, 1), repeat=3)]
HUMAN, OPT = CELLS[0], CELLS[-1]


def config(levels=(0.0, 1.0, 2.0), processes=("slip_rate", "misread_rate"), scale=1.0) -> dict:
    return {"factorial": FACTORIAL, "agent": {"name": "reference", "profile": {"error_scale": scale}},
            "arms": {"skill_levels": list(levels), "processes_off": list(processes),
                     "process_conditions": [HUMAN, OPT]}}


def episodes(value, tasks: int = 12, seed: int = 0) -> pd.DataFrame:
    """One episode per (task, condition), success = value(cell, arm) + the task's own
    offset (the same in every condition, so paired differences are exact)."""
    rng = np.random.default_rng(seed)
    design = skill_design(config())
    rows = []
    for t in range(tasks):
        offset = rng.uniform(-0.05, 0.05)
        for col in design.columns():
            cell, arm = col.split("@")
            rows.append({"task_id": f"t{t}", "category": ("a", "b")[t % 2], "condition": col,
                         "repeat": 0, "success": value(cell, arm) + offset})
    return pd.DataFrame(rows)


def linear_in_scale(cell: str, arm: str) -> float:
    """I_human = 0.8 - 0.1 s, every other cell 0.9 at every level; slip off removes 0.06
    of the gap, misread off 0.04 (additive: together the whole error-driven 0.1)."""
    scale = {"s0": 0.0, "s1": 1.0, "s2": 2.0, "no_slip": 1.0, "no_misread": 1.0}[arm]
    if cell != HUMAN:
        return 0.9
    back = {"no_slip": 0.06, "no_misread": 0.04}.get(arm, 0.0)
    return 0.8 - 0.1 * scale + back


def frame(records) -> pd.DataFrame:
    return pd.DataFrame([r.model_dump() for r in records])


@pytest.fixture(scope="module")
def linear():
    return skill_tables(frame(skill_records("r", skill_design(config()), episodes(linear_in_scale), resamples=400)))


def _one(df: pd.DataFrame, **match) -> pd.Series:
    for k, v in match.items():
        df = df[df[k] == v]
    assert len(df) == 1, match
    return df.iloc[0]


def test_a_gap_linear_in_the_scale_gives_that_slope_with_a_point_interval(linear):
    slope = _one(linear.slopes, quantity="gap", category=OVERALL)
    assert slope.estimate == pytest.approx(0.1)
    assert slope.ci_low == pytest.approx(0.1) and slope.ci_high == pytest.approx(0.1)
    assert _one(linear.slopes, quantity="I_opt", category=OVERALL).estimate == pytest.approx(0.0, abs=1e-12)


def test_structural_is_the_gap_of_a_perfect_agent_and_error_driven_the_rest(linear):
    assert _one(linear.split, part="structural", category=OVERALL).estimate == pytest.approx(0.1)
    assert _one(linear.split, part="error_driven", category=OVERALL).estimate == pytest.approx(0.1)


def test_additive_processes_have_shares_summing_to_one(linear):
    shares = linear.processes[(linear.processes.quantity == "share") & (linear.processes.category == OVERALL)]
    assert dict(zip(shares.process, shares.estimate, strict=True)) == pytest.approx(
        {"slip_rate": 0.6, "misread_rate": 0.4})
    assert shares.estimate.sum() == pytest.approx(1.0)
    assert set(shares.method) == {"percentile"}


def test_all_of_a_gap_made_by_the_human_cell_is_the_context_free_shapley_split(linear):
    # Only the all-0 cell differs: each of the three factors gets a third of the gap.
    lv = linear.levels[(linear.levels.category == OVERALL) & (linear.levels.level == 2.0)]
    comps = lv[lv.quantity.str.startswith("shapley:")].estimate
    assert list(comps) == pytest.approx([0.3 / 3] * 3)
    assert comps.sum() == pytest.approx(_one(lv, quantity="gap").estimate)


def test_equal_cells_at_scale_zero_give_no_structural_gap():
    def flat_at_zero(cell: str, arm: str) -> float:
        return 0.9 if arm == "s0" else linear_in_scale(cell, arm)

    tables = skill_tables(frame(skill_records("r", skill_design(config()), episodes(flat_at_zero), resamples=200)))
    row = _one(tables.split, part="structural", category=OVERALL)
    assert (row.estimate, row.ci_low, row.ci_high) == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)


def test_every_category_and_all_tasks_are_estimated(linear):
    assert set(linear.levels.category) == {"a", "b", OVERALL}
    assert set(linear.levels.tasks[linear.levels.category == OVERALL]) == {12}


def test_without_scale_zero_there_is_no_structural_part():
    eps = episodes(linear_in_scale)
    eps = eps[~eps.condition.str.endswith("@s0")]
    tables = skill_tables(frame(skill_records("r", skill_design(config(levels=(1.0, 2.0))), eps, resamples=50)))
    assert tables.split.empty and not tables.slopes.empty


def test_a_run_missing_an_arm_is_an_error_not_a_smaller_sample():
    eps = episodes(linear_in_scale)
    with pytest.raises(UserInputError, match="no analysable episodes"):
        skill_records("r", skill_design(config()), eps[eps.condition != f"{OPT}@s2"], resamples=10)


def test_a_run_without_skill_levels_is_refused_in_one_line():
    with pytest.raises(UserInputError, match="not a skill study"):
        skill_design({"factorial": FACTORIAL, "arms": {"processes_off": ["slip_rate"]}})


def test_the_design_reads_levels_and_processes_from_the_stored_arms():
    design = skill_design(config(levels=(2.0, 0.0, 0.5)))
    assert design.levels == (0.0, 0.5, 2.0)
    assert design.level_arms[0.5] == "s0.5"
    assert design.processes == {"slip_rate": "no_slip", "misread_rate": "no_misread"}
    assert design.process_cells == (HUMAN, OPT)


# -- properties over random task tables -------------------------------------------------------
task_values = st.lists(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=12, max_size=12),
                       min_size=4, max_size=10)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(task_values)
def test_components_sum_to_the_gap_and_contributions_to_its_differences_in_every_resample(rows):
    design = skill_design(config())
    columns = design.columns()
    values = np.array([(r * 4)[: len(columns)] for r in rows])
    strata = [("a", "b")[i % 2] for i in range(len(rows))]
    stats = linear_map(design, columns)
    draws = StratifiedBootstrap(strata, 200, seed=1).stratum_means(values)[OVERALL] @ stats.matrix().T
    col = {n: draws[:, i] for i, n in enumerate(stats.names)}
    for x in ("0", "1", "2"):
        parts = sum(col[f"level:{x}:shapley:{f}"] for f in design.factors)
        np.testing.assert_allclose(parts, col[f"level:{x}:gap"], atol=1e-12)
    slope_parts = sum(col[f"slope:shapley:{f}"] for f in design.factors)
    np.testing.assert_allclose(slope_parts, col["slope:gap"], atol=1e-12)
    a, b = design.factors[:2]  # which component closes fastest: the pair's difference, resample by resample
    np.testing.assert_allclose(col[f"slope:{a} - {b}"], col[f"slope:shapley:{a}"] - col[f"slope:shapley:{b}"],
                               atol=1e-12)
    np.testing.assert_allclose(col["structural"] + col["error_driven"], col["level:1:gap"], atol=1e-12)
    for p in design.processes:
        np.testing.assert_allclose(col[f"gap_off:{p}"] + col[f"contribution:{p}"], col["level:1:gap"], atol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_the_slopes_interval_contains_its_point(seed):
    rng = np.random.default_rng(seed)

    def noisy(cell: str, arm: str) -> float:
        return float(rng.integers(0, 3)) / 2

    made = skill_records("r", skill_design(config()), episodes(noisy, tasks=16), resamples=300, seed=seed)
    tables = skill_tables(frame(made))
    for r in tables.slopes.itertuples():
        assert r.ci_low - 1e-12 <= r.estimate <= r.ci_high + 1e-12, (r.quantity, r.category, r.method)
