"""Two runs' episodes, compared: checked to hold the same design, errors left out, paired.

``harness compare`` and the Python API (``Run.compare``) both come here with the episodes
and workload hashes they read from the store, so the checks, their messages and the
numbers are one. The statistics are ``regression.compare``'s.
"""

from __future__ import annotations

import pandas as pd

from harness.analysis.regression import METRICS, NotComparable, Row, check_comparable, compare
from harness.analysis.validity import analysable
from harness.core.errors import UserInputError


def check_options(metric: str, margin: float, resamples: int) -> None:
    """The comparison's options, checked before any store is read."""
    if metric not in METRICS:
        raise UserInputError(f"unknown metric {metric!r}", hint=f"choose one of: {', '.join(METRICS)}")
    if not 0 <= margin < 1 or resamples < 1:
        raise UserInputError("--margin must be in [0, 1) and --resamples at least 1")


def compare_episodes(a: pd.DataFrame, b: pd.DataFrame, workloads: tuple[str | None, str | None],
                 names: tuple[str, str], *, metric: str = "completion", margin: float = 0.02,
                 resamples: int = 10_000, seed: int = 0) -> list[Row]:
    """B - A per condition and category, from each run's stored episodes and workload hash;
    ``names`` are how the user named the runs (for the refusal's message)."""
    check_options(metric, margin, resamples)
    # agent and harness errors are not failures: left out, so their pairs drop from the comparison
    (ep_a, _), (ep_b, _) = analysable(a), analysable(b)
    try:
        check_comparable(ep_a, ep_b, *workloads)
    except NotComparable as exc:
        raise UserInputError(f"cannot compare {names[0]} with {names[1]}: {exc}",
                             hint="compare runs of the same experiment and workload") from None
    return compare(ep_a, ep_b, metric=metric, margin=margin, resamples=resamples, seed=seed)
