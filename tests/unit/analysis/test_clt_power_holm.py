"""Analytic standard errors, minimum detectable effects, Holm and the z-test."""

import numpy as np
import pytest
from scipy.stats import norm

from harness.analysis.bootstrap import OVERALL, StratifiedBootstrap
from harness.analysis.clt import clustered_se, naive_se, paired_clustered_se, stratified_se
from harness.analysis.multiple import holm, z_test_p
from harness.analysis.power import minimum_detectable_effect, paired_mde


def test_clustered_se_by_hand():
    # mean 2/3; cluster residual totals: a: 1/3 - 2/3 + 1/3 = 0, b: 2/3, c: -2/3.
    scores = np.array([1, 0, 1, 1, 1, 0], dtype=float)
    clusters = np.array(["a", "a", "a", "b", "b", "c"])
    assert clustered_se(scores, clusters) == pytest.approx(np.sqrt(8 / 9) / 6, rel=1e-12)


def test_clustered_se_with_singleton_clusters_is_the_population_form_of_naive():
    x = np.random.default_rng(0).random(25)
    assert clustered_se(x, np.arange(25)) == pytest.approx(naive_se(x) * np.sqrt(24 / 25), rel=1e-12)
    assert naive_se(x) == pytest.approx(x.std(ddof=1) / 5, rel=1e-12)


def test_clustering_widens_the_se_when_repeats_agree():
    # Each task's repeats are identical: 10 repeats carry the information of one.
    task_rate = np.random.default_rng(1).random(40) > 0.5
    scores = np.repeat(task_rate.astype(float), 10)
    clusters = np.repeat(np.arange(40), 10)
    assert clustered_se(scores, clusters) > 2.5 * naive_se(scores)


def test_paired_clustered_se_is_the_clustered_se_of_differences():
    rng = np.random.default_rng(2)
    a, b = rng.random(60) > 0.4, rng.random(60) > 0.3
    clusters = np.repeat(np.arange(12), 5)
    expected = clustered_se(b.astype(float) - a.astype(float), clusters)
    assert paired_clustered_se(a, b, clusters) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        paired_clustered_se(a, b[:-1], clusters)


def test_stratified_se_one_stratum_and_by_hand():
    x = np.random.default_rng(3).random(30)
    assert stratified_se(x, np.zeros(30)) == pytest.approx(x.std(ddof=1) / np.sqrt(30), rel=1e-12)
    # a: [0, 1] (s^2 = 1/2, w = 1/3); b: [1, 1, 1, 0] (s^2 = 1/4, w = 2/3).
    values = np.array([0, 1, 1, 1, 1, 0], dtype=float)
    strata = np.array(["a", "a", "b", "b", "b", "b"])
    assert stratified_se(values, strata) == pytest.approx(np.sqrt((1 / 9) * 0.5 / 2 + (4 / 9) * 0.25 / 4))


def test_stratified_se_agrees_with_the_bootstrap_se():
    rng = np.random.default_rng(4)
    strata = np.array(["a"] * 200 + ["b"] * 100 + ["c"] * 100)
    values = rng.beta(2, 2, size=400) + (strata == "b") * 0.5
    boot = StratifiedBootstrap(strata.tolist(), resamples=10_000, seed=0).stratum_means(values[:, None])
    assert boot[OVERALL][:, 0].std(ddof=1) == pytest.approx(stratified_se(values, strata), rel=0.03)


def test_se_inputs_are_checked():
    with pytest.raises(ValueError, match="finite"):
        clustered_se(np.array([1.0, np.nan]), np.array([0, 1]))
    with pytest.raises(ValueError, match="matching"):
        stratified_se(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="two scores"):
        naive_se(np.array([1.0]))


def test_minimum_detectable_effect_constants():
    assert minimum_detectable_effect(1.0) == pytest.approx(1.96 + 0.8416, abs=1e-3)
    assert minimum_detectable_effect(0.5, alpha=0.01, power=0.9) == pytest.approx(
        0.5 * (norm.ppf(0.995) + norm.ppf(0.9)), rel=1e-12)
    with pytest.raises(ValueError):
        minimum_detectable_effect(1.0, alpha=1.5)


def test_paired_mde_uses_the_repeat_noise_floor_when_nothing_differed():
    strata = np.array(["a"] * 200 + ["b"] * 100)
    mde = paired_mde(np.zeros(300), strata, repeats=5, base_rate=0.5)
    floor = 2 * 0.5 * 0.5 / 5
    k = norm.ppf(0.975) + norm.ppf(0.8)
    assert mde["a"] == pytest.approx(k * np.sqrt(floor / 200))
    assert mde["b"] == pytest.approx(k * np.sqrt(floor / 100))
    assert mde[OVERALL] == pytest.approx(k * np.sqrt(floor / 300))  # equal variances: pooled n
    assert mde[OVERALL] < mde["a"] < mde["b"]


def test_paired_mde_uses_the_observed_variance_above_the_floor():
    diffs = np.tile([-1.0, 1.0], 50)  # s^2 ~ 1.01, far above any repeat floor
    mde = paired_mde(diffs, np.array(["x"] * 100), repeats=10, base_rate=0.5)
    k = norm.ppf(0.975) + norm.ppf(0.8)
    assert mde["x"] == pytest.approx(k * diffs.std(ddof=1) / 10)
    assert mde[OVERALL] == pytest.approx(mde["x"])


def test_holm_by_hand():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> max(0.06, 0.04).
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])
    assert holm([]).shape == (0,)
    with pytest.raises(ValueError):
        holm([0.1, 1.2])


def test_z_test_p():
    assert z_test_p(1.959963984540054, 1.0) == pytest.approx(0.05)
    assert z_test_p(-2.0, 1.0) == z_test_p(2.0, 1.0)
    assert z_test_p(0.0, 0.0) == 1.0 and z_test_p(0.1, 0.0) == 0.0
