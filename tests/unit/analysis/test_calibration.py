"""The calibration's surrogate, fit and bootstrap on synthetic designs with a known answer."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from harness.analysis.calibration import (
    Cell,
    Design,
    calibrate,
    design_from_frame,
    design_points,
    fit_surrogates,
    optimise,
    starts,
    weights,
)

RATES = ("r1", "r2", "r3", "r4", "r5")
UPPER = 0.5
CATS = ("a", "b", "c", "d")
ROLES = ("i_opt", "i_human")
# True logit of each cell: intercept + slopes on the rates; eight cells, rank-5 slopes, so
# every rate moves some target and no two rates move them alike (identified).
RNG = np.random.default_rng(7)
INTERCEPT = RNG.uniform(0.5, 2.5, 8)
SLOPES = -RNG.uniform(1.0, 8.0, (8, 5))
PLANTED = np.array([0.1, 0.3, 0.05, 0.2, 0.4])


def truth(points: np.ndarray, slopes: np.ndarray = SLOPES) -> np.ndarray:
    """(K, 8) completion of every cell at every point."""
    return expit(INTERCEPT + np.atleast_2d(points) @ slopes.T)


def cells(slopes: np.ndarray = SLOPES) -> list[Cell]:
    t = truth(PLANTED, slopes)[0]
    return [Cell(f"{cat}.{role}", cat, role, float(t[2 * i + j]))
            for i, cat in enumerate(CATS) for j, role in enumerate(ROLES)]


def exact_design(k: int = 32) -> Design:
    pts = design_points(k, RATES, UPPER, seed=1)
    p = truth(pts)
    comp = {(cat, role): p[:, 2 * i + j] for i, cat in enumerate(CATS) for j, role in enumerate(ROLES)}
    return Design(RATES, UPPER, pts, comp, {key: 10_000.0 for key in comp})


def test_design_points_are_seeded_and_inside_the_bounds():
    a, b = design_points(16, RATES, UPPER, 3), design_points(16, RATES, UPPER, 3)
    assert np.array_equal(a, b) and a.shape == (16, 5)
    assert a.min() >= 0 and a.max() <= UPPER
    assert not np.array_equal(a, design_points(16, RATES, UPPER, 4))


def test_the_fit_recovers_planted_rates_from_an_exact_design():
    design, target = exact_design(), cells()
    fit = optimise(fit_surrogates(design, target), target, weights(target, design.trials), RATES, UPPER,
                   starts(RATES, UPPER, seed=0))
    assert np.allclose([fit.rates[r] for r in RATES], PLANTED, atol=0.02)
    assert all(abs(fit.predicted[c.key] - c.target) < 0.005 for c in target)


def test_a_surrogate_predicts_held_out_points_of_a_smooth_truth():
    design, target = exact_design(), cells()
    fitted = fit_surrogates(design, target)
    fresh = design_points(8, RATES, UPPER, seed=99)
    for i, c in enumerate(target):
        assert np.max(np.abs(fitted[(c.category, c.role)].predict(fresh) - truth(fresh)[:, i])) < 0.05


def sampled_frame(tasks_per_cat: int, pts: np.ndarray, slopes: np.ndarray = SLOPES, seed: int = 0) -> pd.DataFrame:
    """One Bernoulli episode per (task, point, role), a task effect shared across points."""
    rng, rows = np.random.default_rng(seed), []
    p = truth(pts, slopes)
    for i, cat in enumerate(CATS):
        for t in range(tasks_per_cat):
            shift = rng.normal(0, 0.5)
            for j, role in enumerate(ROLES):
                for k in range(len(pts)):
                    q = expit(np.log(p[k, 2 * i + j] / (1 - p[k, 2 * i + j])) + shift)
                    rows.append((f"{cat}{t}", cat, k, role, float(rng.random() < q)))
    return pd.DataFrame(rows, columns=["task_id", "category", "point", "role", "success"])


def run(seed: int, slopes: np.ndarray = SLOPES, resamples: int = 30):
    pts = design_points(24, RATES, UPPER, seed=1)
    design, resample = design_from_frame(sampled_frame(60, pts, slopes), pts, RATES, UPPER, 1, resamples, seed)
    return calibrate(design, cells(slopes), resample, resamples, seed)


def test_the_bootstrap_is_seeded():
    a, b, c = run(3, resamples=10), run(3, resamples=10), run(4, resamples=10)
    assert a.intervals == b.intervals and np.array_equal(a.draws, b.draws)
    assert not np.array_equal(a.draws, c.draws)


def test_sampled_design_covers_the_planted_rates_and_flags_an_inert_one():
    slopes = SLOPES.copy()
    slopes[:, 4] = 0.0  # r5 moves no target: the targets cannot identify it
    cal = run(0, slopes, resamples=40)
    inside = [cal.intervals[r].low - 0.05 <= PLANTED[i] <= cal.intervals[r].high + 0.05 for i, r in enumerate(RATES[:4])]
    assert sum(inside) >= 3  # 95% intervals of four rates, from 60 tasks per category
    assert not cal.intervals["r5"].identified
    rmse, noise = np.array(list(cal.holdout.rmse.values())), np.array(list(cal.holdout.noise.values()))
    assert rmse.mean() < 2.5 * noise.mean() and rmse.max() < 0.15  # held-out noise plus the fit's own error


def test_design_from_frame_needs_every_point_of_a_task():
    pts = design_points(4, RATES, UPPER, seed=1)
    frame = sampled_frame(3, pts)
    dropped = frame[~((frame.task_id == "a0") & (frame.point == 2))]
    design, _ = design_from_frame(dropped, pts, RATES, UPPER, 1, 5, 0)
    assert design.trials[("a", "i_opt")] == 2  # a0 left out: it lacks a point (unpaired)


@pytest.mark.parametrize("target", [0.0, 1.0])
def test_weights_stay_finite_at_a_target_of_zero_or_one(target):
    w = weights([Cell("k", "a", "i_opt", target)], {("a", "i_opt"): 100.0})
    assert np.isfinite(w).all() and w[0] > 0
