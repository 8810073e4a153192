"""BCa and percentile intervals, held against scipy's implementation on scipy's own draws."""

import numpy as np
import pytest
from scipy import stats

from harness.analysis.intervals import (
    bca_interval,
    percentile_interval,
    quantile_sorted,
    sorted_rows,
)


def _skewed(n: int = 40, seed: int = 3) -> np.ndarray:
    # Skewed enough that BCa and percentile intervals differ visibly.
    return np.random.default_rng(seed).lognormal(0.0, 1.0, size=n)


def _jackknife_mean(x: np.ndarray) -> np.ndarray:
    return (x.sum() - x) / (len(x) - 1)


@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_bca_matches_scipy_exactly_on_the_same_draws(confidence):
    x = _skewed()
    res = stats.bootstrap((x,), np.mean, method="BCa", n_resamples=4000, confidence_level=confidence,
                          rng=np.random.default_rng(0))
    low, high, degenerate = bca_interval(res.bootstrap_distribution, x.mean(), _jackknife_mean(x), confidence)
    assert not degenerate[0]
    np.testing.assert_allclose([low[0], high[0]], res.confidence_interval, rtol=1e-12)
    # The comparison has teeth: on skewed data BCa moves the interval away from percentile.
    p_low, p_high = percentile_interval(res.bootstrap_distribution, confidence)
    assert abs(low[0] - p_low[0]) + abs(high[0] - p_high[0]) > 0.02 * (high[0] - low[0])


def test_bca_matches_scipy_exactly_for_a_paired_gap():
    rng = np.random.default_rng(5)
    a = rng.binomial(5, rng.beta(2, 3, size=50)) / 5
    b = np.clip(a + rng.choice([0, 0.2, 0.4, 0.6], size=50), 0, 1)

    def gap(a, b, axis=-1):
        return np.mean(b, axis=axis) - np.mean(a, axis=axis)

    res = stats.bootstrap((a, b), gap, paired=True, method="BCa", n_resamples=4000,
                          rng=np.random.default_rng(1))
    jack = _jackknife_mean(b) - _jackknife_mean(a)
    low, high, _ = bca_interval(res.bootstrap_distribution, gap(a, b), jack, 0.95)
    np.testing.assert_allclose([low[0], high[0]], res.confidence_interval, rtol=1e-12)


def test_percentile_matches_scipy_and_numpy():
    x = _skewed(seed=9)
    res = stats.bootstrap((x,), np.mean, method="percentile", n_resamples=3001, rng=np.random.default_rng(2))
    low, high = percentile_interval(res.bootstrap_distribution, 0.95)
    np.testing.assert_allclose([low[0], high[0]], res.confidence_interval, rtol=1e-12)


def test_quantile_sorted_agrees_with_numpy_per_column():
    boot = np.random.default_rng(4).normal(size=(1001, 3))
    levels = np.array([0.0, 0.0137, 0.999])
    ours = quantile_sorted(sorted_rows(boot), levels)
    expected = [np.quantile(boot[:, j], levels[j]) for j in range(3)]
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-15)


def test_vectorised_columns_equal_one_column_at_a_time():
    rng = np.random.default_rng(6)
    x = rng.exponential(size=(30, 3))
    idx = rng.integers(0, 30, size=(500, 30))
    boot = x[idx].mean(axis=1)
    jack = (x.sum(axis=0) - x) / 29
    low, high, _ = bca_interval(boot, x.mean(axis=0), jack, 0.95)
    for j in range(3):
        lj, hj, _ = bca_interval(boot[:, j], x[:, j].mean(), jack[:, j], 0.95)
        # Reductions over an axis of a 2-d array may round in the last bit differently.
        np.testing.assert_allclose([low[j], high[j]], [lj[0], hj[0]], rtol=1e-13)


def test_constant_draws_fall_back_to_percentile_with_finite_endpoints():
    boot = np.full((200, 2), 0.7)
    boot[:, 1] = 1.0
    low, high, degenerate = bca_interval(boot, np.array([0.7, 1.0]), np.full((10, 2), [0.7, 1.0]), 0.95)
    assert degenerate.tolist() == [True, True]
    np.testing.assert_array_equal(low, [0.7, 1.0])
    np.testing.assert_array_equal(high, [0.7, 1.0])


def test_point_outside_the_draws_is_degenerate_not_nan():
    boot = np.linspace(0.0, 1.0, 100)
    jack = np.linspace(0.4, 0.6, 20)
    low, high, degenerate = bca_interval(boot, np.array([2.0]), jack, 0.95)
    assert degenerate[0]
    assert np.isfinite([low[0], high[0]]).all()
    expected = percentile_interval(boot, 0.95)
    assert (low[0], high[0]) == (expected[0][0], expected[1][0])


def test_mismatched_shapes_and_bad_confidence_raise():
    with pytest.raises(ValueError, match="same number of statistics"):
        bca_interval(np.zeros((10, 2)), np.zeros(3), np.zeros((5, 2)), 0.95)
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="confidence"):
            percentile_interval(np.zeros(10), bad)


def test_ties_with_the_point_count_half_as_in_scipy():
    # Half the draws tie with the point, a quarter on each side: z0 = 0 only if ties count
    # half ("strictly below" would give z0 = Phi^-1(0.25) and shift both endpoints down).
    boot = np.concatenate([np.linspace(0.0, 0.9, 250), np.full(500, 1.0), np.linspace(1.1, 2.0, 250)])
    low, high, degenerate = bca_interval(boot, np.array([1.0]), np.array([-1.0, 0.0, 1.0]), 0.95)
    expected = percentile_interval(boot, 0.95)  # zero acceleration and z0 = 0: BCa is percentile
    assert not degenerate[0]
    np.testing.assert_allclose([low[0], high[0]], [expected[0][0], expected[1][0]], rtol=1e-12)
