"""Exact Shapley decomposition of a gap over a full 2^n factorial of conditions.

Factor i's Shapley value is the average, over every order of switching factors on, of
the change in completion when i is switched on. Over a full factorial this is a fixed
linear map of the 2^n cell means (``harness.analysis.factorial_effects``), so the components sum
exactly to the gap (all-on minus all-off) in the point estimate and in every bootstrap
resample, because each resample applies the same map to its own cell means. Resampling
is by task within category (every task keeps all its cells and repeats), seeded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.analysis.bootstrap import OVERALL, StratifiedBootstrap, TaskTable
from harness.analysis.factorial_effects import cell_index, gap_row, shapley_matrix

__all__ = ["OVERALL", "cell_index", "decompose", "primary_driver", "shapley_matrix"]


def cell_table(episodes: pd.DataFrame, cells: dict[str, tuple[int, ...]]) -> pd.DataFrame:
    """Task success rates, one column per cell in standard order; every task in every cell."""
    n = len(next(iter(cells.values()))) if cells else 0
    order = sorted(cells, key=lambda c: cell_index(cells[c]))
    if len(order) != 2 ** n or len({cells[c] for c in order}) != 2 ** n:
        raise ValueError(f"a {n}-factor decomposition needs all {2 ** n} cells, got {len(order)}")
    missing = sorted(set(order) - set(episodes.condition))
    if missing:
        raise ValueError(f"factorial cells with no episodes: {', '.join(missing)}")
    table = episodes.pivot_table(index=["category", "task_id"], columns="condition", values="success",
                                 aggfunc="mean")[order]
    unpaired = table[table.isna().any(axis=1)]
    if len(unpaired):
        (cat, task), row = next(iter(unpaired.iterrows()))
        raise ValueError(f"{len(unpaired)} task(s) are not in every cell, e.g. {task} ({cat}) lacks "
                         f"{', '.join(row[row.isna()].index)}")
    return table.sort_index()


def decompose(episodes: pd.DataFrame, cells: dict[str, tuple[int, ...]], factors: list[str], *,
              resamples: int = 10_000, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """Per category and overall (task-weighted): the gap and each factor's Shapley value,
    with BCa intervals (percentile where BCa degenerates)."""
    table = cell_table(episodes, cells)
    n = len(factors)
    matrix = np.vstack([gap_row(n), shapley_matrix(n)])
    boot = StratifiedBootstrap(list(table.index.get_level_values("category")), resamples, seed)
    names = ("gap", *factors)
    estimates = boot.estimate(TaskTable.from_frame(table), lambda m: m @ matrix.T, names=names,
                              confidence=confidence)
    return pd.DataFrame([{"category": e.category, "tasks": e.tasks, "component": e.statistic, "value": e.estimate,
                          "ci_low": e.low, "ci_high": e.high, "method": e.method} for e in estimates])


def primary_driver(decomposition: pd.DataFrame, category: str) -> str:
    """The component with the largest Shapley value in ``category``."""
    rows = decomposition[(decomposition.category == category) & (decomposition.component != "gap")]
    return str(rows.loc[rows.value.idxmax(), "component"]) if len(rows) else ""
