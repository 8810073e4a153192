"""The stratified, paired task bootstrap every interval of an analysis comes from.

The unit is the task: a table has one row per task, its stratum (category), and k numeric
columns (e.g. the task's success rate in each condition). A resample draws tasks with
replacement within each stratum, so the stratum sizes (the 200/100/100/100 mix) are fixed
by design, and every drawn task brings all its columns, so comparisons stay paired.

One ``StratifiedBootstrap`` holds one set of resampled indices. Every statistic of an
analysis is computed from the same resampled column means, so rates, gaps and Shapley
values stay jointly consistent (a sum of statistics is the statistic of the sum in every
resample, not just at the point estimate).

Speed: each stratum's (B, n_h) index matrix becomes a counts matrix once; a resample's
column means are then ``counts @ values / n_h``, one BLAS product per stratum instead of
a (B, n_h, k) gather.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.analysis.intervals import bca_interval, check_confidence, percentile_interval

OVERALL = "all"

Statistic = Callable[[np.ndarray], np.ndarray]
"""Maps column means (..., k) to statistics (..., s), vectorised over leading axes."""

METHOD_BCA = "bca"
METHOD_PERCENTILE = "percentile"
METHOD_DEGENERATE = "percentile (bca degenerate)"
METHOD_SINGLE_TASK = "percentile (single task: interval is the point)"


@dataclass(frozen=True)
class TaskTable:
    """One row per task: its id, its stratum, and k paired numeric values."""

    task_ids: tuple[str, ...]
    strata: tuple[str, ...]
    columns: tuple[str, ...]
    values: np.ndarray

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
            raise ValueError(f"a task table needs at least one task and one column, got shape {values.shape}")
        if not len(self.task_ids) == len(self.strata) == values.shape[0]:
            raise ValueError(f"{len(self.task_ids)} task ids, {len(self.strata)} strata and "
                             f"{values.shape[0]} rows of values must agree")
        if len(self.columns) != values.shape[1]:
            raise ValueError(f"{len(self.columns)} column names for {values.shape[1]} columns")
        if len(set(self.task_ids)) != len(self.task_ids):
            raise ValueError("task ids must be unique: the task is the unit of resampling")
        _reject_nan(values, self.task_ids, self.columns)
        values.setflags(write=False)
        object.__setattr__(self, "values", values)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, stratum: str = "category") -> TaskTable:
        """From a frame indexed by (stratum, task_id), or with a ``stratum`` column and a
        task-id index; the remaining columns are the values. Rows are sorted by
        (stratum, task id) so the resamples do not depend on the frame's row order."""
        if stratum in (frame.index.names or []):
            flat = frame.reset_index(level=stratum)
        elif stratum in frame.columns:
            flat = frame
        else:
            raise ValueError(f"stratum {stratum!r} is neither an index level {list(frame.index.names)} "
                             f"nor a column {list(frame.columns)}")
        task_ids = [str(t) if not isinstance(t, tuple) else "/".join(map(str, t)) for t in flat.index]
        flat = flat.assign(_task=task_ids).sort_values([stratum, "_task"], kind="stable")
        value_frame = flat.drop(columns=[stratum, "_task"])
        try:
            values = value_frame.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"task table values must be numeric: {exc}") from exc
        return cls(task_ids=tuple(flat["_task"]), strata=tuple(str(s) for s in flat[stratum]),
                   columns=tuple(str(c) for c in value_frame.columns), values=values)


@dataclass(frozen=True)
class Estimate:
    category: str
    statistic: str
    estimate: float
    low: float
    high: float
    method: str
    se: float
    tasks: int


def estimates_frame(estimates: Sequence[Estimate]) -> pd.DataFrame:
    """Estimates as rows (one column per field), in the given order."""
    fields = list(Estimate.__dataclass_fields__)
    return pd.DataFrame([[getattr(e, f) for f in fields] for e in estimates], columns=fields)


@dataclass(frozen=True)
class _Sample:
    """One category's ingredients for an interval: all (., s) in statistic space."""

    point: np.ndarray
    boot: np.ndarray
    jackknife: np.ndarray | None  # None when one task leaves nothing to leave out
    tasks: int


class StratifiedBootstrap:
    """Resample tasks with replacement within each stratum, B times, seeded; every task
    keeps all its columns (paired). One instance = one set of resampled indices, reused by
    every statistic of an analysis so they stay jointly consistent."""

    def __init__(self, strata: Sequence[str], resamples: int = 10_000, seed: int = 0):
        if int(resamples) < 1:
            raise ValueError(f"resamples must be at least 1, got {resamples}")
        labels = tuple(str(s) for s in strata)
        if not labels:
            raise ValueError("cannot bootstrap an empty table")
        self.resamples, self.seed = int(resamples), int(seed)
        self.strata_names: tuple[str, ...] = tuple(sorted(set(labels)))
        self._labels = labels
        label_array = np.asarray(labels, dtype=object)
        self._rows = {h: np.flatnonzero(label_array == h) for h in self.strata_names}
        rng = np.random.default_rng(self.seed)
        # Strata in sorted order, one draw each: the resamples depend only on the seed and
        # on each stratum's size, never on the order rows happen to arrive in.
        self._counts = {h: _counts(rng, len(self._rows[h]), self.resamples) for h in self.strata_names}
        # The last table's resampled means: an analysis asks for many statistics of one
        # table, and a TaskTable's values are read-only, so identity implies same content.
        self._last: tuple[TaskTable, dict[str, np.ndarray]] | None = None

    @property
    def tasks(self) -> int:
        return len(self._labels)

    def stratum_means(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """{stratum: (B, k) resampled column means}, plus OVERALL: the task-weighted
        combination sum_h (n_h/N) * mean_h (the stratum sizes are fixed by design)."""
        values = self._check_values(values)
        means = {h: self._counts[h] @ values[rows] / len(rows) for h, rows in self._rows.items()}
        means[OVERALL] = sum(len(self._rows[h]) / self.tasks * means[h] for h in self.strata_names)
        return means

    def draws(self, table: TaskTable, stat: Statistic) -> dict[str, np.ndarray]:
        """{category: (B, s) bootstrap values of ``stat``} for every stratum and OVERALL."""
        self._check_table(table)
        if self._last is None or self._last[0] is not table:
            self._last = (table, self.stratum_means(table.values))
        return {c: _statistic(stat, m) for c, m in self._last[1].items()}

    def estimate(self, table: TaskTable, stat: Statistic, *, names: tuple[str, ...] | None = None,
                 confidence: float = 0.95, method: str = "bca") -> list[Estimate]:
        """For every stratum and OVERALL, for every output of ``stat``: point estimate
        (stat of the observed means), interval, method actually used, bootstrap SE."""
        check_confidence(confidence)
        interval = _METHODS.get(method.lower())
        if interval is None:
            raise ValueError(f"unknown interval method {method!r}; known: {sorted(_METHODS)}")
        draws = self.draws(table, stat)
        out: list[Estimate] = []
        for category, sample in self._samples(table.values, stat, draws).items():
            labels = _names(names, sample.point.shape[0])
            low, high, methods = _single_task(sample) if sample.tasks == 1 else interval(sample, confidence)
            se = sample.boot.std(axis=0, ddof=1) if self.resamples > 1 else np.zeros_like(sample.point)
            out += [Estimate(category, labels[j], float(sample.point[j]), float(low[j]), float(high[j]),
                             methods[j], float(se[j]), sample.tasks) for j in range(len(labels))]
        return out

    def _samples(self, values: np.ndarray, stat: Statistic,
                 draws: dict[str, np.ndarray]) -> dict[str, _Sample]:
        samples = {}
        for h in self.strata_names:
            x = values[self._rows[h]]
            samples[h] = _sample(stat, x, draws[h])
        samples[OVERALL] = _sample(stat, values, draws[OVERALL])
        return samples

    def _check_values(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if values.ndim != 2 or values.shape[0] != self.tasks:
            raise ValueError(f"values must be ({self.tasks}, k) to match the strata, got {values.shape}")
        return values

    def _check_table(self, table: TaskTable) -> None:
        if table.strata != self._labels:
            missing = sorted(set(self.strata_names) ^ set(table.strata))
            detail = f"strata present in only one of them: {missing}" if missing else "rows are in another order"
            raise ValueError(f"the table's strata do not match this bootstrap's ({detail})")


def _counts(rng: np.random.Generator, n: int, resamples: int) -> np.ndarray:
    """(B, n) float matrix: how often each task appears in each resample."""
    idx = rng.integers(0, n, size=(resamples, n))
    offsets = (np.arange(resamples) * n)[:, None]
    return np.bincount((idx + offsets).ravel(), minlength=resamples * n).reshape(resamples, n).astype(float)


def _sample(stat: Statistic, x: np.ndarray, boot: np.ndarray) -> _Sample:
    n = x.shape[0]
    point = _statistic(stat, x.mean(axis=0))
    # Leave-one-out means in closed form: (sum - x_i) / (n - 1), for every task at once.
    jackknife = _statistic(stat, (x.sum(axis=0) - x) / (n - 1)) if n > 1 else None
    return _Sample(point=point, boot=boot, jackknife=jackknife, tasks=n)


def _statistic(stat: Statistic, means: np.ndarray) -> np.ndarray:
    result = np.asarray(stat(means), dtype=float)
    if result.ndim != means.ndim or result.shape[:-1] != means.shape[:-1]:
        raise ValueError(f"a statistic must map means {means.shape} to (..., s); got {result.shape}")
    return result


def _names(names: tuple[str, ...] | None, s: int) -> tuple[str, ...]:
    if names is None:
        if s != 1:
            raise ValueError(f"the statistic has {s} outputs: name them with names=(...)")
        return ("value",)
    if len(names) != s:
        raise ValueError(f"{len(names)} names for a statistic with {s} outputs")
    return tuple(names)


def _bca(sample: _Sample, confidence: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    low, high, degenerate = bca_interval(sample.boot, sample.point, sample.jackknife, confidence)
    return low, high, [METHOD_DEGENERATE if d else METHOD_BCA for d in degenerate]


def _percentile(sample: _Sample, confidence: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    low, high = percentile_interval(sample.boot, confidence)
    return low, high, [METHOD_PERCENTILE] * len(low)


def _single_task(sample: _Sample) -> tuple[np.ndarray, np.ndarray, list[str]]:
    # Every resample of one task is that task: the bootstrap has no spread to offer.
    return sample.point, sample.point, [METHOD_SINGLE_TASK] * len(sample.point)


_METHODS = {METHOD_BCA: _bca, METHOD_PERCENTILE: _percentile}


def _reject_nan(values: np.ndarray, task_ids: Sequence[str], columns: Sequence[str]) -> None:
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, col = bad[0]
        raise ValueError(f"task {task_ids[row]!r} has no finite value in column {columns[col]!r}: "
                         "unpaired data is an error, not a smaller sample")
