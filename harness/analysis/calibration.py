"""Calibration as a consistency test: which error rates of the reference agent make its
per-category completion under I_opt and I_human come closest to given targets?

Pure functions on arrays (the targets are handed in: this module never reads a claim).
The design is a set of K profiles (points in the space of the profile's error rates),
each run on the same tasks under both conditions (common random numbers). For every
target cell (category, condition) a *surrogate* - a binomial logistic regression of the
cell's completion on the rates, linear and quadratic terms, lightly ridged - interpolates
between the K points. The fit minimises the weighted squared distance of the surrogates'
predictions to the targets, each weighted by the inverse binomial variance at the target
(``n / (t (1 - t))``, n = the cell's tasks x repeats: a deviation of one standard error
costs one unit, whatever the rate). Bounded (TNC) from several seeded starts.

Uncertainty: the task bootstrap of ``harness.analysis.bootstrap`` (tasks resampled within
category, every resampled task bringing its episodes at every design point and in both
conditions), the surrogates refitted to each resample and the fit re-optimised; percentile
intervals. A rate whose interval spans most of its range (three quarters or more) is not
identified by the targets: moving it changes no target by more than sampling noise.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import expit
from scipy.stats import qmc

from harness.analysis.bootstrap import StratifiedBootstrap, TaskTable

RIDGE = 1e-3  # keeps a surrogate finite where a cell is all successes or all failures
NOT_IDENTIFIED_WIDTH = 0.75  # a CI over three quarters of [0, upper] or more: the targets do not pin the rate


@dataclass(frozen=True)
class Cell:
    """One target cell: a category and a condition role, with its target completion."""

    key: str  # the claim id it stands for (a label here)
    category: str
    role: str  # the condition role, e.g. "i_opt" / "i_human"
    target: float  # a share in [0, 1]


@dataclass(frozen=True)
class Design:
    """K design points and, per cell, the completion (share) and trials at each point."""

    rates: tuple[str, ...]
    upper: float
    points: np.ndarray  # (K, R) error rates
    completion: dict[tuple[str, str], np.ndarray]  # (category, role) -> (K,) shares
    trials: dict[tuple[str, str], float]  # (category, role) -> episodes per point

    def subset(self, keep: np.ndarray) -> Design:
        return Design(self.rates, self.upper, self.points[keep],
                      {k: v[keep] for k, v in self.completion.items()}, self.trials)


def design_points(k: int, rates: Sequence[str], upper: float, seed: int) -> np.ndarray:
    """K scrambled Sobol points in [0, upper]^R (seeded: the same K, rates and seed give
    the same profiles, so the design run's config and its id are the same)."""
    sampler = qmc.Sobol(d=len(rates), scramble=True, seed=seed)
    with warnings.catch_warnings():  # K not a power of two: a less balanced design, still a valid one
        warnings.simplefilter("ignore", UserWarning)
        return np.round(upper * sampler.random(k), 6)  # rounded: a stored config, readable


def features(points: np.ndarray, upper: float) -> np.ndarray:
    """[1, z, z^2] with z = rate / upper in [0, 1] (a well-conditioned basis)."""
    z = np.atleast_2d(points) / upper
    return np.hstack([np.ones((z.shape[0], 1)), z, z**2])


@dataclass(frozen=True)
class Surrogate:
    """Completion of one cell as a function of the rates."""

    coef: np.ndarray
    upper: float

    def predict(self, points: np.ndarray) -> np.ndarray:
        return expit(features(points, self.upper) @ self.coef)


def fit_surrogate(points: np.ndarray, completion: np.ndarray, trials: float, upper: float,
                  ridge: float = RIDGE) -> Surrogate:
    """Binomial logistic regression (successes = completion x trials), ridge on every
    coefficient but the intercept."""
    x = features(points, upper)
    s, n = completion * trials, np.full(len(completion), float(trials))
    penalty = np.r_[0.0, np.full(x.shape[1] - 1, ridge * trials)]

    # Newton's method on the penalised log-likelihood (strictly convex: the ridge): a few
    # steps of an 11 x 11 solve. Not L-BFGS-B, whose BLAS threads oversubscribe a busy machine.
    beta = np.zeros(x.shape[1])
    beta[0] = np.log((s.sum() + 0.5) / (n.sum() - s.sum() + 0.5))
    for _ in range(50):
        p = expit(x @ beta)
        grad = x.T @ (n * p - s) + penalty * beta
        hess = (x * (n * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return Surrogate(beta, upper)


def fit_surrogates(design: Design, cells: Sequence[Cell]) -> dict[tuple[str, str], Surrogate]:
    return {(c.category, c.role): fit_surrogate(design.points, design.completion[(c.category, c.role)],
                                                design.trials[(c.category, c.role)], design.upper)
            for c in cells}


def weights(cells: Sequence[Cell], trials: dict[tuple[str, str], float]) -> np.ndarray:
    """Inverse binomial variance of each cell's completion at its target."""
    t = np.clip([c.target for c in cells], 0.01, 0.99)
    n = np.array([trials[(c.category, c.role)] for c in cells])
    return n / (t * (1 - t))


@dataclass(frozen=True)
class Fit:
    rates: dict[str, float]
    objective: float
    predicted: dict[str, float]  # cell key -> surrogate completion at the fitted rates


def optimise(surrogates: dict[tuple[str, str], Surrogate], cells: Sequence[Cell], w: np.ndarray,
             rates: Sequence[str], upper: float, starts: np.ndarray) -> Fit:
    """Minimise sum_j w_j (s_j(x) - t_j)^2 over x in [0, upper]^R from every start
    (analytic gradient: every surrogate is logistic in [1, z, z^2])."""
    coef = np.array([surrogates[(c.category, c.role)].coef for c in cells])  # (J, 1 + 2R)
    t, r = np.array([c.target for c in cells]), len(rates)
    lin, quad = coef[:, 1:1 + r], coef[:, 1 + r:]

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        pred = expit(features(x, upper)[0] @ coef.T)
        resid = w * (pred - t)
        dpred = (pred * (1 - pred))[:, None] * (lin + 2 * quad * (x / upper)) / upper  # (J, R)
        return float(np.sum(resid * (pred - t))), 2 * resid @ dpred

    # TNC (bounded truncated Newton): L-BFGS-B's BLAS threads oversubscribe a busy machine (measured:
    # 20x slower fits on this 2-core machine under load)
    best = min((optimize.minimize(objective, s, jac=True, method="TNC", bounds=[(0.0, upper)] * r)
                for s in starts), key=lambda res: res.fun)
    x = np.clip(best.x, 0.0, upper)
    pred = expit(features(x, upper)[0] @ coef.T)
    return Fit(dict(zip(rates, map(float, x), strict=True)), float(best.fun),
               {c.key: float(p) for c, p in zip(cells, pred, strict=True)})


def starts(rates: Sequence[str], upper: float, seed: int, n: int = 8,
           extra: Sequence[np.ndarray] = ()) -> np.ndarray:
    """Seeded Latin-hypercube starts, plus given points (the reference profile, an
    earlier optimum)."""
    pts = upper * qmc.LatinHypercube(d=len(rates), seed=seed + 1).random(n)
    return np.vstack([*[np.asarray(e, dtype=float) for e in extra], pts]) if extra else pts


@dataclass(frozen=True)
class Holdout:
    """Leave-points-out check of the surrogates: RMSE (shares) of predicted against
    observed completion at held-out design points, beside the binomial noise of the
    observed values themselves (the floor no surrogate can beat)."""

    rmse: dict[str, float]
    noise: dict[str, float]
    folds: int


def holdout(design: Design, cells: Sequence[Cell], folds: int = 4, seed: int = 0) -> Holdout:
    k = len(design.points)
    folds = max(2, min(folds, k))
    order = np.random.default_rng(seed).permutation(k)
    errors: dict[str, list[float]] = {c.key: [] for c in cells}
    for f in range(folds):
        test = order[f::folds]
        train = np.setdiff1d(np.arange(k), test)
        fitted = fit_surrogates(design.subset(train), cells)
        for c in cells:
            pred = fitted[(c.category, c.role)].predict(design.points[test])
            errors[c.key] += list(pred - design.completion[(c.category, c.role)][test])
    noise = {}
    for c in cells:
        p = design.completion[(c.category, c.role)]
        noise[c.key] = float(np.sqrt(np.mean(p * (1 - p)) / design.trials[(c.category, c.role)]))
    return Holdout({key: float(np.sqrt(np.mean(np.square(e)))) for key, e in errors.items()}, noise, folds)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    identified: bool


@dataclass
class Calibration:
    fit: Fit
    holdout: Holdout
    intervals: dict[str, Interval]  # rate -> percentile CI
    predicted_intervals: dict[str, tuple[float, float]]  # cell key -> CI of the surrogate prediction
    resamples: int
    confidence: float
    seed: int
    upper: float
    draws: np.ndarray = field(repr=False)  # (B, R) refitted rates


Resampler = Callable[[int], Design]
"""The b-th bootstrap resample of the design (completion recomputed from resampled tasks)."""


def calibrate(design: Design, cells: Sequence[Cell], resample: Resampler, resamples: int, seed: int,
              reference: Sequence[float] | None = None, confidence: float = 0.95,
              progress: Callable[[int], None] | None = None) -> Calibration:
    """Fit at the design, then refit surrogates and re-optimise on every resample."""
    w = weights(cells, design.trials)
    extra = [np.asarray(reference)] if reference is not None else []
    fit = optimise(fit_surrogates(design, cells), cells, w, design.rates, design.upper,
                   starts(design.rates, design.upper, seed, extra=extra))
    best = np.array([fit.rates[r] for r in design.rates])
    draws, preds = [], []
    for b in range(resamples):
        again = resample(b)
        # Starting at the full-data optimum and a few fresh points keeps each refit cheap
        # and still lets a resample move to another basin.
        refit = optimise(fit_surrogates(again, cells), cells, w, design.rates, design.upper,
                         starts(design.rates, design.upper, seed + 1000 + b, n=3, extra=[best]))
        draws.append([refit.rates[r] for r in design.rates])
        preds.append([refit.predicted[c.key] for c in cells])
        if progress is not None:
            progress(b + 1)
    draws_a, preds_a = np.array(draws), np.array(preds)
    alpha = (1 - confidence) / 2
    return Calibration(fit, holdout(design, cells, seed=seed),
                       {r: _interval(draws_a[:, i], alpha, design.upper) for i, r in enumerate(design.rates)},
                       {c.key: tuple(np.quantile(preds_a[:, j], [alpha, 1 - alpha]).tolist())
                        for j, c in enumerate(cells)},
                       resamples, confidence, seed, design.upper, draws_a)


def _interval(draws: np.ndarray, alpha: float, upper: float) -> Interval:
    low, high = np.quantile(draws, [alpha, 1 - alpha])
    return Interval(float(low), float(high), bool(high - low < NOT_IDENTIFIED_WIDTH * upper))


def design_from_frame(frame: pd.DataFrame, points: np.ndarray, rates: Sequence[str], upper: float,
                      repeats: int, resamples: int, seed: int) -> tuple[Design, Resampler]:
    """The design and its task bootstrap from one row per (task, point, role): columns
    task_id, category, point (row of ``points``), role, success (the task's mean over
    repeats). A task is kept only with a value at every (point, role): paired."""
    wide = frame.pivot_table(index=["category", "task_id"], columns=["role", "point"], values="success",
                             aggfunc="mean").dropna()
    columns = list(wide.columns)
    wide.columns = [f"{role}|{point}" for role, point in columns]
    table = TaskTable.from_frame(wide, stratum="category")
    boot = StratifiedBootstrap(table.strata, resamples=max(1, resamples), seed=seed)
    means = boot.stratum_means(table.values)  # {category: (B, columns)}
    strata = np.asarray(table.strata)
    full = {h: table.values[strata == h].mean(axis=0) for h in boot.strata_names}
    trials = {(h, role): float((strata == h).sum() * repeats) for h in boot.strata_names for role, _ in columns}

    def build(per_category: dict[str, np.ndarray]) -> Design:
        completion = {}
        for h in boot.strata_names:
            for role in sorted({r for r, _ in columns}):
                idx = [i for i, (r, _) in enumerate(columns) if r == role]
                order = [columns[i][1] for i in idx]
                values = np.empty(len(points))
                values[order] = per_category[h][idx]
                completion[(h, role)] = values
        return Design(tuple(rates), upper, points, completion, trials)

    return build(full), lambda b: build({h: means[h][b] for h in boot.strata_names})
