"""Confidence intervals from a bootstrap distribution: percentile and BCa.

Pure functions, vectorised over statistics: ``boot`` is (B, s), one column per statistic.
BCa follows scipy's ``_bca_interval`` (Efron & Tibshirani 1993, 14.3 and eq. 15.36), so
``scipy.stats.bootstrap`` is a reference the tests can hold these functions against:

* bias correction z0 = Phi^-1(fraction of bootstrap values below the point estimate),
  counting ties as half (scipy's "mean" percentile-of-score; a tie-blind "strictly below"
  would bias z0 for discrete statistics such as success rates, where ties are common);
* acceleration from the jackknife influence values U_i = (n - 1)(mean(theta_(.)) - theta_(i)):
  a = sum U^3 / (6 (sum U^2)^(3/2));
* endpoints are the bootstrap quantiles at the adjusted levels, with numpy's default
  linear interpolation.

BCa degenerates when the bootstrap values are all equal, when the point estimate lies
outside their range (z0 infinite), when the jackknife values are all equal (acceleration
0/0), or when the adjusted levels are not finite or cross. Those columns fall back to the
percentile interval and are flagged, so the caller can say so; no NaN endpoint comes out
of finite input.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

# Relative spread below which a column counts as constant: resampled means of equal
# values differ only by summation rounding (~1e-16 per task), far below this.
_CONSTANT_RTOL = 1e-10


def check_confidence(confidence: float) -> float:
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return float(confidence)


def percentile_interval(boot: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """The (alpha/2, 1 - alpha/2) quantiles of each column of ``boot`` (B, s)."""
    alpha = (1.0 - check_confidence(confidence)) / 2.0
    ordered = sorted_rows(_as_columns(boot))
    levels = np.full(ordered.shape[0], alpha)
    return quantile_sorted(ordered, levels), quantile_sorted(ordered, 1.0 - levels)


def bca_interval(boot: np.ndarray, point: np.ndarray, jackknife: np.ndarray,
                 confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BCa endpoints per column, and the mask of columns that fell back to percentile.

    ``boot`` (B, s) bootstrap values, ``point`` (s,) the statistic on the observed data,
    ``jackknife`` (n, s) the statistic with each of the n units left out in turn.
    """
    alpha = (1.0 - check_confidence(confidence)) / 2.0
    boot, jackknife = _as_columns(boot), _as_columns(jackknife)
    point = np.atleast_1d(np.asarray(point, dtype=float))
    if not boot.shape[1] == point.shape[0] == jackknife.shape[1]:
        raise ValueError(f"boot {boot.shape}, point {point.shape} and jackknife {jackknife.shape}"
                         " must describe the same number of statistics")
    ordered = sorted_rows(boot)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z0 = ndtri(_fraction_below(ordered, point))
        accel = _acceleration(jackknife)
        level_low = _adjusted_level(z0, accel, float(ndtri(alpha)))
        level_high = _adjusted_level(z0, accel, float(-ndtri(alpha)))
    flat_jackknife = _is_constant(jackknife.min(axis=0), jackknife.max(axis=0))
    degenerate = (_is_constant(ordered[:, 0], ordered[:, -1]) | flat_jackknife | ~np.isfinite(level_low)
                  | ~np.isfinite(level_high) | (level_low > level_high))
    level_low = np.where(degenerate, alpha, level_low)
    level_high = np.where(degenerate, 1.0 - alpha, level_high)
    return quantile_sorted(ordered, level_low), quantile_sorted(ordered, level_high), degenerate


def sorted_rows(boot: np.ndarray) -> np.ndarray:
    """(s, B): each statistic's bootstrap values, sorted, contiguous (fast to sort and scan)."""
    return np.sort(np.ascontiguousarray(boot.T), axis=1)


def quantile_sorted(ordered: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Row j's quantile at levels[j] of a ``sorted_rows`` (s, B) array.

    numpy's default "linear" method (Hyndman & Fan type 7), written out so every column
    can take its own level in one vectorised step; the interpolation mirrors numpy's
    ``_lerp`` so results agree with ``np.quantile`` to the last bit or two.
    """
    s, b = ordered.shape
    position = np.clip(np.asarray(levels, dtype=float), 0.0, 1.0) * (b - 1)
    below = np.minimum(np.floor(position).astype(np.intp), max(b - 2, 0))
    above = np.minimum(below + 1, b - 1)
    rows = np.arange(s)
    lo, hi = ordered[rows, below], ordered[rows, above]
    t = position - below
    diff = hi - lo
    return np.where(t >= 0.5, hi - diff * (1.0 - t), lo + diff * t)


def _as_columns(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim == 1:
        return a[:, None]
    if a.ndim != 2 or a.shape[0] == 0:
        raise ValueError(f"expected a non-empty (n, s) array, got shape {a.shape}")
    return a


def _fraction_below(ordered: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Ties count half (scipy's "mean" percentile of score), by binary search per row."""
    below = np.array([np.searchsorted(row, p, "left") + np.searchsorted(row, p, "right")
                      for row, p in zip(ordered, point, strict=True)])
    return below / (2.0 * ordered.shape[1])


def _acceleration(jackknife: np.ndarray) -> np.ndarray:
    n = jackknife.shape[0]
    influence = (n - 1) * (jackknife.mean(axis=0) - jackknife)
    return np.sum(influence ** 3, axis=0) / (6.0 * np.sum(influence ** 2, axis=0) ** 1.5)


def _adjusted_level(z0: np.ndarray, accel: np.ndarray, z: float) -> np.ndarray:
    shifted = z0 + z
    return ndtr(z0 + shifted / (1.0 - accel * shifted))


def _is_constant(lowest: np.ndarray, highest: np.ndarray) -> np.ndarray:
    scale = np.maximum(np.abs(lowest), np.abs(highest))
    return highest - lowest <= _CONSTANT_RTOL * scale
