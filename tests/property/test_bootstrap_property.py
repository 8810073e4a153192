"""Properties of the task bootstrap and of Holm that must hold for any data.

Not asserted: "the percentile interval contains the point estimate". It is false in
general: a bootstrap distribution of a mean can be so skewed (one large task among many
zeros) that its mean lies above its 97.5% quantile, and BCa may likewise exclude it.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.analysis.bootstrap import OVERALL, StratifiedBootstrap, TaskTable
from harness.analysis.multiple import holm

# Success rates over a few repeats: a coarse grid, so ties (BCa's hard case) are common.
rates = st.integers(0, 5).map(lambda c: c / 5)


@st.composite
def task_tables(draw) -> TaskTable:
    sizes = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3))
    strata = tuple(f"s{h}" for h, n in enumerate(sizes) for _ in range(n))
    values = [[draw(rates), draw(rates)] for _ in strata]
    return TaskTable(tuple(f"t{i}" for i in range(len(strata))), strata, ("a", "b"), np.array(values))


def _stat(m):
    return np.concatenate([m, m[..., [1]] - m[..., [0]]], axis=-1)


NAMES = ("a", "b", "gap")
FAST = settings(max_examples=60, deadline=None)


@FAST
@given(task_tables(), st.sampled_from(["bca", "percentile"]), st.floats(0.5, 0.99), st.integers(0, 2**31))
def test_intervals_are_ordered_finite_and_inside_the_draws(table, method, confidence, seed):
    boot = StratifiedBootstrap(table.strata, resamples=200, seed=seed)
    draws = boot.draws(table, _stat)
    for e in boot.estimate(table, _stat, names=NAMES, confidence=confidence, method=method):
        column = draws[e.category][:, NAMES.index(e.statistic)]
        assert np.isfinite([e.low, e.high, e.se]).all()
        assert e.low <= e.high
        assert column.min() - 1e-12 <= e.low and e.high <= column.max() + 1e-12


@FAST
@given(task_tables(), st.integers(0, 2**31))
def test_overall_point_is_the_task_weighted_mean(table, seed):
    result = StratifiedBootstrap(table.strata, resamples=20, seed=seed).estimate(table, _stat, names=NAMES)
    overall = {e.statistic: e.estimate for e in result if e.category == OVERALL}
    expected = _stat(table.values.mean(axis=0))
    np.testing.assert_allclose([overall[n] for n in NAMES], expected, atol=1e-12)
    for h in set(table.strata):
        rows = np.array(table.strata) == h
        per_stratum = {e.statistic: e.estimate for e in result if e.category == h}
        np.testing.assert_allclose([per_stratum[n] for n in NAMES], _stat(table.values[rows].mean(axis=0)),
                                   atol=1e-12)


@FAST
@given(task_tables(), st.floats(-100, 100), st.integers(0, 2**31))
def test_percentile_interval_of_a_mean_shifts_with_the_data(table, shift, seed):
    moved = TaskTable(table.task_ids, table.strata, table.columns, table.values + shift)
    boot = StratifiedBootstrap(table.strata, resamples=300, seed=seed)
    before = boot.estimate(table, lambda m: m[..., :1], method="percentile")
    after = boot.estimate(moved, lambda m: m[..., :1], method="percentile")
    tolerance = 1e-9 * (1 + abs(shift))
    for e, f in zip(before, after, strict=True):
        assert abs(f.low - (e.low + shift)) <= tolerance and abs(f.high - (e.high + shift)) <= tolerance
        assert abs(f.se - e.se) <= tolerance


@FAST
@given(task_tables(), st.integers(0, 2**31))
def test_linear_statistics_add_up_in_every_resample(table, seed):
    boot = StratifiedBootstrap(table.strata, resamples=100, seed=seed)
    rates_draws = boot.draws(table, lambda m: m)
    gap_draws = boot.draws(table, lambda m: m[..., [1]] - m[..., [0]])
    for category, r in rates_draws.items():
        np.testing.assert_allclose(r[:, [1]] - r[:, [0]], gap_draws[category], atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), max_size=20))
def test_holm_is_monotone_bounded_and_never_below_raw(p):
    adjusted = holm(p)
    raw = np.array(p)
    assert adjusted.shape == raw.shape
    assert np.all(adjusted >= raw - 1e-15) and np.all(adjusted <= 1.0)
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= 0)
    # Holm is never stricter than Bonferroni.
    assert np.all(adjusted <= np.minimum(raw * len(p), 1.0) + 1e-15)
