"""pass@k and pass^k per task, with the unbiased estimators.

For a task attempted n times with c successes:

- pass@k (at least one of k attempts succeeds) = 1 - C(n-c, k) / C(n, k)
- pass^k (all of k attempts succeed)          = C(c, k) / C(n, k)

Both are unbiased for p-based quantities when the n attempts are independent with
success probability p: E[C(c,k)/C(n,k)] = p^k and E[1 - C(n-c,k)/C(n,k)] = 1 - (1-p)^k.
They are task-level values, so their means over tasks get the same task-clustered
bootstrap as completion rates (``harness.analysis.bootstrap``).
"""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd


def pass_hat_k(n: int, c: int, k: int) -> float:
    """pass^k for one task: the chance that k attempts drawn without replacement all passed."""
    _check(n, c, k)
    return comb(c, k) / comb(n, k)


def pass_at_k(n: int, c: int, k: int) -> float:
    """pass@k for one task: the chance that at least one of k attempts passed."""
    _check(n, c, k)
    return 1.0 - comb(n - c, k) / comb(n, k)


def _check(n: int, c: int, k: int) -> None:
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")


def task_pass_k(episodes: pd.DataFrame, ks: list[int] | None = None) -> pd.DataFrame:
    """Per (category, task_id) and condition: pass^k and pass@k columns named
    ``("pass^k", condition, k)`` / ``("pass@k", condition, k)``.

    Every task must have the same number of repeats in every condition (the estimators
    assume n attempts per task); otherwise a ValueError names a task that differs."""
    counts = episodes.groupby(["category", "task_id", "condition"]).success.agg(["size", "sum"])
    sizes = counts["size"].unique()
    if len(sizes) != 1:
        odd = counts[counts["size"] != counts["size"].mode().iloc[0]].index[0]
        raise ValueError(f"pass^k needs the same number of repeats everywhere; {odd} has a different count")
    n = int(sizes[0])
    ks = ks or list(range(1, n + 1))
    if any(not 1 <= k <= n for k in ks):
        raise ValueError(f"k must be within 1..{n} (the repeats per task), got {ks}")
    c = counts["sum"].astype(int).unstack("condition")
    columns = {}
    for cond in c.columns:
        col = c[cond].to_numpy()
        for k in ks:
            columns[("pass^k", cond, k)] = np.array([comb(int(x), k) / comb(n, k) for x in col])
            columns[("pass@k", cond, k)] = np.array([1.0 - comb(n - int(x), k) / comb(n, k) for x in col])
    return pd.DataFrame(columns, index=c.index).sort_index()
