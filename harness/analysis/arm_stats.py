"""Shared plumbing of the analyses of a run with arms (``skill``, ``sensitivity``).

Both build one task table (one column per stored ``<condition>@<arm>``, each task's mean
success over its repeats, strata = category) and one ``StratifiedBootstrap`` over it, and
express every statistic as a fixed linear map of the column means (so sums hold in every
resample); ratios are computed from the same resampled means. The results are
``EstimateRecord`` rows under the analysis' own name, stored like ``harness report``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.analysis.bootstrap import Estimate, StratifiedBootstrap, TaskTable
from harness.core.errors import UserInputError
from harness.core.models import EstimateRecord

TIDY = ["category", "estimate", "ci_low", "ci_high", "method", "tasks"]


def task_table(episodes: pd.DataFrame, columns: list[str], run_id: str) -> TaskTable:
    """Per task, mean success over repeats, one column per condition in ``columns``;
    a task without episodes in one of them is an error (unpaired), never left out."""
    missing = sorted(set(columns) - set(episodes.condition))
    if missing:
        raise UserInputError(f"run {run_id} has no analysable episodes under {', '.join(missing[:3])}"
                             f"{' ...' if len(missing) > 3 else ''}",
                             hint="finish the run (`harness run` with the same config resumes it)")
    rates = episodes[episodes.condition.isin(columns)].pivot_table(
        index=["category", "task_id"], columns="condition", values="success", aggfunc="mean")[columns]
    lacking = rates[rates.isna().any(axis=1)]
    if len(lacking):
        (_, task), row = next(iter(lacking.iterrows()))
        raise UserInputError(f"run {run_id}: {len(lacking)} task(s) lack episodes in some arm, e.g. {task} "
                             f"under {row[row.isna()].index[0]}", hint="resume the run to complete it")
    return TaskTable.from_frame(rates.astype(float))


@dataclass(frozen=True)
class LinearStats:
    """Named rows of one matrix over the table's columns: statistic j = rows[j] @ means."""

    names: list[str]
    rows: list[np.ndarray]

    def add(self, name: str, row: np.ndarray) -> None:
        self.names.append(name)
        self.rows.append(np.asarray(row, dtype=float))

    def matrix(self) -> np.ndarray:
        return np.vstack(self.rows)

    def row(self, name: str) -> np.ndarray:
        return self.rows[self.names.index(name)]


def unit(columns: list[str], name: str) -> np.ndarray:
    row = np.zeros(len(columns))
    row[columns.index(name)] = 1.0
    return row


def records(run_id: str, analysis: str, conditions: str, estimates: list[Estimate], names: list[str],
            resamples: int, seed: int) -> list[EstimateRecord]:
    return [EstimateRecord(run_id=run_id, analysis=analysis, statistic=names[int(e.statistic)],
                           conditions=conditions, category=e.category, estimate=float(e.estimate),
                           low=float(e.low), high=float(e.high), method=e.method, se=float(e.se),
                           tasks=int(e.tasks), resamples=resamples, seed=seed) for e in estimates]


def estimate(boot: StratifiedBootstrap, table: TaskTable, stat, n: int, method: str = "bca") -> list[Estimate]:
    return boot.estimate(table, stat, names=tuple(str(i) for i in range(n)), method=method)


def tidy(rows: pd.DataFrame) -> pd.DataFrame:
    """Stored estimate rows in the tidy column names (estimate, ci_low, ci_high, ...)."""
    return rows.rename(columns={"low": "ci_low", "high": "ci_high"})
