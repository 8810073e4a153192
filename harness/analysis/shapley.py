"""Exact Shapley decomposition of a gap over a full 2^n factorial of conditions.

Factor i's Shapley value is the average, over every order of switching factors on, of
the change in completion when i is switched on. Over a full factorial this is a fixed
linear map of the 2^n cell means, so the components sum exactly to the gap (all-on minus
all-off) in the point estimate and in every bootstrap resample, because each resample
applies the same map to its own cell means. Resampling is by task within category
(every task keeps all its cells and repeats), seeded, as in ``completion``.
"""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np
import pandas as pd

from harness.analysis.completion import OVERALL, task_success


def cell_index(levels: tuple[int, ...]) -> int:
    """Standard order: the first factor varies slowest (itertools.product order)."""
    return int("".join(str(b) for b in levels), 2) if levels else 0


def shapley_matrix(n: int) -> np.ndarray:
    """(n, 2^n) weights: phi = M @ cell_means."""
    m = np.zeros((n, 2 ** n))
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for k in range(n):
            weight = factorial(k) * factorial(n - k - 1) / factorial(n)
            for subset in itertools.combinations(others, k):
                on = [1 if j in subset else 0 for j in range(n)]
                with_i = list(on)
                with_i[i] = 1
                m[i, cell_index(tuple(with_i))] += weight
                m[i, cell_index(tuple(on))] -= weight
    return m


def decompose(episodes: pd.DataFrame, cells: dict[str, tuple[int, ...]], factors: list[str], *,
              resamples: int = 2000, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """Per category and overall: the gap and each factor's Shapley value with intervals.

    ``cells`` maps condition name -> levels (one 0/1 per factor). Only tasks observed in
    every cell count (the paired design)."""
    n = len(factors)
    order = sorted(cells, key=lambda c: cell_index(cells[c]))
    if len(order) != 2 ** n or len({cells[c] for c in order}) != 2 ** n:
        raise ValueError(f"a {n}-factor decomposition needs all {2 ** n} cells, got {len(order)}")
    table = task_success(episodes)
    missing = [c for c in order if c not in table.columns]
    if missing:
        raise KeyError(f"factorial cells not in these episodes: {missing}")
    paired = table[order].dropna()
    m = shapley_matrix(n)
    rng = np.random.default_rng(seed)
    alpha = (1 - confidence) / 2
    rows, boot_sum, point_sum, n_total = [], np.zeros((resamples, 2 ** n)), np.zeros(2 ** n), 0
    for cat, sub in paired.groupby(level="category"):
        values = sub.to_numpy()
        idx = rng.integers(0, len(values), size=(resamples, len(values)))
        boot = values[idx].mean(axis=1)  # (resamples, cells)
        point = values.mean(axis=0)
        boot_sum += boot * len(values)
        point_sum += point * len(values)
        n_total += len(values)
        rows += _rows(cat, len(values), point, boot, m, factors, alpha)
    if n_total:
        rows += _rows(OVERALL, n_total, point_sum / n_total, boot_sum / n_total, m, factors, alpha)
    return pd.DataFrame(rows)


def _rows(cat, tasks, point, boot, m, factors, alpha) -> list[dict]:
    out = []
    gap_point, gap_boot = point[-1] - point[0], boot[:, -1] - boot[:, 0]
    lo, hi = np.quantile(gap_boot, [alpha, 1 - alpha])
    out.append({"category": cat, "tasks": tasks, "component": "gap", "value": gap_point, "ci_low": lo, "ci_high": hi})
    phi_point, phi_boot = m @ point, boot @ m.T
    for i, factor in enumerate(factors):
        lo, hi = np.quantile(phi_boot[:, i], [alpha, 1 - alpha])
        out.append({"category": cat, "tasks": tasks, "component": factor, "value": phi_point[i],
                    "ci_low": lo, "ci_high": hi})
    return out


def primary_driver(decomposition: pd.DataFrame, category: str) -> str:
    """The component with the largest Shapley value in ``category``."""
    rows = decomposition[(decomposition.category == category) & (decomposition.component != "gap")]
    return str(rows.loc[rows.value.idxmax(), "component"]) if len(rows) else ""
