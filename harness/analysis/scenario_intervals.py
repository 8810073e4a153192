"""Intervals for statistics that can be undefined or unbounded in some resamples.

Table 1's metrics and ratios are ratios of resampled means, so a resample can draw only
tasks without probes (0/0: undefined) or a baseline with no success at all (x/0: the
ratio is unbounded). Rather than divide by zero or silently drop resamples, each case is
handled one documented way and named in the ``method`` string stored with the estimate:

- point estimate NaN (0/0 in the data itself): no interval; method says "undefined" (the
  store holds no NaN, so ``scenario_analysis`` leaves such a statistic out and the tables say
  "undefined" where its rates are both 0).
- some resamples NaN: the interval is the percentile interval of the defined resamples,
  and the method says how many of B were undefined and left out (none defined: the
  interval is (-inf, +inf), no information).
- some resamples (or the point) +inf: the percentile interval by order statistics
  (``inverted_cdf``: no interpolation towards infinity), so the upper end may be +inf,
  meaning "unbounded above"; the method says how many resamples had a zero baseline.
- everything finite: BCa as elsewhere (``intervals.bca_interval``), falling back to the
  percentile interval where it degenerates, and saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.analysis.bootstrap import (
    METHOD_BCA,
    METHOD_DEGENERATE,
    METHOD_PERCENTILE,
    METHOD_SINGLE_TASK,
)
from harness.analysis.intervals import bca_interval, check_confidence, percentile_interval

METHOD_UNDEFINED = "undefined (0/0 in the sample: nothing to compare)"


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    method: str
    se: float


def interval(point: float, boot: np.ndarray, jackknife: np.ndarray | None, confidence: float) -> Interval:
    """``boot`` (B,) the statistic in each resample; ``jackknife`` (n,) with each task left
    out in turn (None for a single task)."""
    check_confidence(confidence)
    boot = np.asarray(boot, dtype=float)
    if np.isnan(point):
        return Interval(float("nan"), float("nan"), float("nan"), METHOD_UNDEFINED, float("nan"))
    if jackknife is None:
        return Interval(point, point, point, METHOD_SINGLE_TASK, 0.0)
    undefined = np.isnan(boot)
    if undefined.any():
        return _without_undefined(point, boot[~undefined], int(undefined.sum()), len(boot), confidence)
    unbounded = np.isinf(boot) | np.isinf(point)
    if unbounded.any():
        low, high = _order_statistics(boot, confidence)
        method = f"{METHOD_PERCENTILE} ({int(np.isinf(boot).sum())}/{len(boot)} resamples unbounded: baseline 0)"
        return Interval(point, low, high, method, _se(boot))
    if len(boot) < 2 or not np.isfinite(jackknife).all():
        low, high = percentile_interval(boot[:, None], confidence)
        return Interval(point, float(low[0]), float(high[0]), METHOD_PERCENTILE, _se(boot))
    low, high, degenerate = bca_interval(boot[:, None], np.array([point]), jackknife[:, None], confidence)
    return Interval(point, float(low[0]), float(high[0]), METHOD_DEGENERATE if degenerate[0] else METHOD_BCA,
                    _se(boot))


def _without_undefined(point: float, defined: np.ndarray, dropped: int, total: int, confidence: float) -> Interval:
    note = f"{dropped}/{total} resamples undefined (0/0), left out"
    if defined.size == 0:
        return Interval(point, -np.inf, np.inf, f"no interval ({note})", float("nan"))
    low, high = _order_statistics(defined, confidence)
    return Interval(point, low, high, f"{METHOD_PERCENTILE} ({note})", _se(defined))


def _order_statistics(values: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha], method="inverted_cdf")
    return float(low), float(high)


def _se(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.std(ddof=1)) if finite.size > 1 else 0.0
