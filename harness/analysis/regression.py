"""Comparing two runs of the same design: the paired difference and the regression verdict.

Episodes pair on (condition, task, repeat). Two runs are comparable only when they hold
exactly the same episode keys and were generated from the same workload (hash); anything
else is refused with what differs, never analysed on a silently smaller sample. The
difference B - A is computed per task (mean over its repeats) and resampled by task
within category, per condition and over all conditions together. B regresses when the
whole interval lies below -margin: significantly worse, and by more than the margin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from harness.analysis.bootstrap import OVERALL, StratifiedBootstrap, TaskTable

KEY = ["condition", "task_id", "repeat"]
ALL_CONDITIONS = "(all conditions)"


def _success(episodes: pd.DataFrame) -> pd.Series:
    return episodes.success.astype(float)


def _accuracy(episodes: pd.DataFrame) -> pd.Series:
    # An episode without calls made no inaccurate call: it counts as 1, in both runs alike.
    calls = episodes.tool_calls.where(episodes.tool_calls > 0)
    return (episodes.tool_calls_accurate / calls).fillna(1.0)


METRICS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {"completion": _success, "accuracy": _accuracy}


class NotComparable(ValueError):
    """The two runs do not hold the same design."""


@dataclass(frozen=True)
class Row:
    condition: str
    category: str
    tasks: int
    a: float
    b: float
    diff: float
    low: float
    high: float
    method: str
    regression: bool


def _keys(episodes: pd.DataFrame) -> set[tuple]:
    return set(map(tuple, episodes[KEY].itertuples(index=False, name=None)))


def check_comparable(a: pd.DataFrame, b: pd.DataFrame, hash_a: str | None, hash_b: str | None) -> None:
    if hash_a != hash_b:
        raise NotComparable(f"the runs used different workloads (hash {hash_a} vs {hash_b})")
    ka, kb = _keys(a), _keys(b)
    if ka != kb:
        only_a, only_b = sorted(ka - kb), sorted(kb - ka)
        parts = []
        if only_a:
            parts.append(f"{len(only_a)} episode(s) only in A, e.g. {only_a[0]}")
        if only_b:
            parts.append(f"{len(only_b)} episode(s) only in B, e.g. {only_b[0]}")
        raise NotComparable("the runs do not pair on (condition, task, repeat): " + "; ".join(parts))


def compare(a: pd.DataFrame, b: pd.DataFrame, *, metric: str = "completion", margin: float = 0.02,
            resamples: int = 10_000, seed: int = 0, confidence: float = 0.95) -> list[Row]:
    """Per condition and over all conditions: A, B, B - A with its interval, verdict."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    value = METRICS[metric]
    merged = a.assign(_a=value(a))[[*KEY, "category", "_a"]].merge(
        b.assign(_b=value(b))[[*KEY, "_b"]], on=KEY, validate="one_to_one")
    rows = []
    groups = [(c, g) for c, g in merged.groupby("condition", sort=True)] + [(ALL_CONDITIONS, merged)]
    for condition, g in groups:
        per_task = g.groupby(["category", "task_id"])[["_a", "_b"]].mean().sort_index()
        table = TaskTable.from_frame(per_task)
        boot = StratifiedBootstrap(list(per_task.index.get_level_values("category")), resamples, seed)
        diffs = boot.estimate(table, lambda m: m[..., [1]] - m[..., [0]], names=("diff",), confidence=confidence)
        means = per_task.groupby(level="category").mean()
        means.loc[OVERALL] = per_task.mean()
        for e in diffs:
            rows.append(Row(condition, e.category, e.tasks, float(means.loc[e.category, "_a"]),
                            float(means.loc[e.category, "_b"]), float(e.estimate), float(e.low), float(e.high),
                            e.method, bool(e.high < -margin)))
    return rows


def regressed(rows: list[Row]) -> list[Row]:
    """The rows that fail the gate: each condition's overall row and the all-conditions row
    (categories are shown but not gated: four more tests would inflate false alarms)."""
    return [r for r in rows if r.category == OVERALL and r.regression]
