"""Completion rates and the paired gap between two conditions, by category.

The unit is the task: each task's success rate over its repeats, in each condition.
The gap interval is a seeded percentile bootstrap over tasks, resampled within each
category so the category mix is fixed; every task keeps both of its conditions (paired).
The statistics issue replaces this with BCa, Shapley and pass^k on the same footing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OVERALL = "all"


def task_success(episodes: pd.DataFrame) -> pd.DataFrame:
    """Rows: (category, task_id); columns: condition; values: success rate over repeats."""
    table = episodes.pivot_table(index=["category", "task_id"], columns="condition", values="success", aggfunc="mean")
    return table.sort_index()


def completion_table(episodes: pd.DataFrame) -> pd.DataFrame:
    """Per condition and category (plus 'all'): tasks, episodes, completion rate."""
    rows = []
    for (cond, cat), g in episodes.groupby(["condition", "category"], sort=True):
        rows.append({"condition": cond, "category": cat, "tasks": g.task_id.nunique(), "episodes": len(g),
                     "rate": g.success.mean()})
    for cond, g in episodes.groupby("condition", sort=True):
        rows.append({"condition": cond, "category": OVERALL, "tasks": g.task_id.nunique(), "episodes": len(g),
                     "rate": g.success.mean()})
    return pd.DataFrame(rows)


def paired_gap(
    episodes: pd.DataFrame,
    treatment: str,
    baseline: str,
    *,
    resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Gap = rate(treatment) - rate(baseline) per category and overall (task-weighted)."""
    table = task_success(episodes)
    missing = [c for c in (treatment, baseline) if c not in table.columns]
    if missing:
        raise KeyError(f"conditions not in these episodes: {missing}")
    paired = table[[treatment, baseline]].dropna()
    diffs = (paired[treatment] - paired[baseline]).groupby(level="category")
    rng = np.random.default_rng(seed)
    alpha = (1 - confidence) / 2
    rows, boot_sums, n_total = [], np.zeros(resamples), 0
    for cat, d in diffs:
        values = d.to_numpy()
        idx = rng.integers(0, len(values), size=(resamples, len(values)))
        boot = values[idx].mean(axis=1)
        boot_sums += boot * len(values)
        n_total += len(values)
        sub = paired.loc[cat]
        rows.append(_row(cat, sub, treatment, baseline, values.mean(), boot, alpha))
    if n_total:
        rows.append(_row(OVERALL, paired, treatment, baseline, (paired[treatment] - paired[baseline]).mean(),
                         boot_sums / n_total, alpha))
    return pd.DataFrame(rows)


def _row(cat, sub, treatment, baseline, gap, boot, alpha) -> dict:
    lo, hi = np.quantile(boot, [alpha, 1 - alpha])
    return {"category": cat, "tasks": len(sub), "treatment": sub[treatment].mean(), "baseline": sub[baseline].mean(),
            "gap": gap, "ci_low": lo, "ci_high": hi}
