"""Minimum detectable effect of a paired, stratified task-level design."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from harness.analysis.bootstrap import OVERALL


def minimum_detectable_effect(se: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """(z_{1-alpha/2} + z_{power}) * se: the true effect a two-sided level-alpha test
    detects with probability ``power``."""
    if not (0.0 < alpha < 1.0 and 0.0 < power < 1.0):
        raise ValueError(f"alpha and power must lie in (0, 1), got {alpha} and {power}")
    if se < 0 or not np.isfinite(se):
        raise ValueError(f"se must be finite and non-negative, got {se}")
    return float((norm.ppf(1.0 - alpha / 2.0) + norm.ppf(power)) * se)


def paired_mde(task_diffs: np.ndarray, strata: np.ndarray, repeats: int, base_rate: float,
               alpha: float = 0.05, power: float = 0.8) -> dict[str, float]:
    """MDE per stratum and OVERALL (task-weighted) for this design.

    ``task_diffs`` are the task-level paired differences (a task's rate under B minus under
    A, each over ``repeats`` episodes). The SE is the stratified SE of their mean, with each
    stratum's variance floored by what repeat noise alone would give at ``base_rate``:
    two independent rates over R repeats differ with variance 2 p (1 - p) / R per task.
    Without the floor a run in which nothing happened to differ (observed variance 0)
    would claim it could detect arbitrarily small gaps; with it, the MDE never drops below
    what R repeats can resolve. A single-task stratum uses the floor alone.
    """
    diffs, labels = np.asarray(task_diffs, dtype=float), np.asarray(strata)
    if diffs.ndim != 1 or diffs.shape != labels.shape or len(diffs) == 0:
        raise ValueError(f"need matching non-empty 1-d diffs and strata, got {diffs.shape}, {labels.shape}")
    if not np.all(np.isfinite(diffs)):
        raise ValueError("task differences must be finite")
    if int(repeats) < 1 or not 0.0 <= base_rate <= 1.0:
        raise ValueError(f"need repeats >= 1 and base_rate in [0, 1], got {repeats}, {base_rate}")
    floor = 2.0 * base_rate * (1.0 - base_rate) / int(repeats)
    total = len(diffs)
    out, overall_var = {}, 0.0
    for h in sorted(set(labels.tolist())):
        x = diffs[labels == h]
        var_h = max(x.var(ddof=1) if len(x) > 1 else 0.0, floor)
        out[str(h)] = minimum_detectable_effect(np.sqrt(var_h / len(x)), alpha, power)
        overall_var += (len(x) / total) ** 2 * var_h / len(x)
    out[OVERALL] = minimum_detectable_effect(np.sqrt(overall_var), alpha, power)
    return out
