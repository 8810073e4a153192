"""Multiple comparisons: Holm's step-down adjustment and the normal test feeding it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import norm


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm step-down adjusted p-values (monotone, capped at 1), same order as input.

    The i-th smallest of m p-values is multiplied by (m - i + 1); a running maximum keeps
    the adjusted values in the order of the raw ones, so a hypothesis is never rejected
    while a smaller-p one is not.
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p-values must be a flat sequence, got shape {p.shape}")
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p_values}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def z_test_p(estimate: float, se: float) -> float:
    """Two-sided normal p-value of estimate / se. With se == 0 there is no noise: an
    estimate of exactly 0 is no evidence (1.0), any other value is certain (0.0)."""
    if se < 0 or not (np.isfinite(se) and np.isfinite(estimate)):
        raise ValueError(f"need a finite estimate and a finite non-negative se, got {estimate}, {se}")
    if se == 0:
        return 1.0 if estimate == 0 else 0.0
    return float(2.0 * norm.sf(abs(estimate) / se))
