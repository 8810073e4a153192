"""Analytic standard errors: clustered CLT (Miller 2024), stratified, and the naive one.

Miller, "Adding Error Bars to Evals" (2024): episodes of the same task are correlated, so
the standard error of a mean over episodes must be clustered by task (eq. 4), and a paired
comparison is the clustered SE of the per-episode differences (eq. 7). The naive SE treats
every episode as independent; it is here only to show how much too narrow it is.

ddof conventions (tested):
* ``clustered_se`` uses the paper's population form: SE^2 = (1/n^2) sum_c (sum_{i in c}
  (s_i - mean))^2, i.e. eq. 4 with SE_CLT^2 = (1/n^2) sum_i (s_i - mean)^2. With one
  episode per cluster it equals ``naive_se * sqrt((n - 1) / n)``.
* ``naive_se`` is the textbook sd/sqrt(n) with the sample sd (ddof=1).
* ``stratified_se`` uses each stratum's sample variance (ddof=1), Cochran's s_h^2; a
  stratum with one task has no variance estimate and contributes 0 (say so when reporting).
"""

from __future__ import annotations

import numpy as np


def clustered_se(scores: np.ndarray, clusters: np.ndarray) -> float:
    """SE of the mean of episode scores with clusters = tasks (eq. 4)."""
    scores, clusters = _paired_arrays(scores, clusters)
    residual = scores - scores.mean()
    _, cluster_index = np.unique(clusters, return_inverse=True)
    cluster_totals = np.bincount(cluster_index, weights=residual)
    return float(np.sqrt(np.sum(cluster_totals ** 2)) / len(scores))


def paired_clustered_se(a: np.ndarray, b: np.ndarray, clusters: np.ndarray) -> float:
    """SE of mean(b - a) over paired episodes, clustered by task (eq. 7 applied to the
    per-episode differences)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired scores must have the same shape, got {a.shape} and {b.shape}")
    return clustered_se(b - a, clusters)


def stratified_se(task_values: np.ndarray, strata: np.ndarray) -> float:
    """SE of the task-weighted mean of task-level values with fixed strata sizes:
    sqrt(sum_h w_h^2 s_h^2 / n_h), w_h = n_h / N, s_h^2 with ddof=1."""
    values, strata = _paired_arrays(task_values, strata)
    total = len(values)
    variance = 0.0
    for h in np.unique(strata):
        x = values[strata == h]
        if len(x) > 1:
            variance += (len(x) / total) ** 2 * x.var(ddof=1) / len(x)
    return float(np.sqrt(variance))


def naive_se(scores: np.ndarray) -> float:
    """Episodes as independent: sd / sqrt(n), sample sd (the wrong interval, for contrast)."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 1 or len(scores) < 2:
        raise ValueError(f"naive_se needs at least two scores, got shape {scores.shape}")
    _reject_nan(scores)
    return float(scores.std(ddof=1) / np.sqrt(len(scores)))


def _paired_arrays(values: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, labels = np.asarray(values, dtype=float), np.asarray(labels)
    if values.ndim != 1 or values.shape != labels.shape or len(values) == 0:
        raise ValueError(f"need matching non-empty 1-d values and labels, got {values.shape} and {labels.shape}")
    _reject_nan(values)
    return values, labels


def _reject_nan(values: np.ndarray) -> None:
    if not np.all(np.isfinite(values)):
        raise ValueError("scores must be finite: a missing episode is an error, not a smaller sample")
