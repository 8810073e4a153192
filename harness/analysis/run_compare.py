"""Two stored runs, compared: read, checked to hold the same design, and paired.

``harness compare`` and the Python API (``Run.compare``) both come here, so the checks,
their messages and the numbers are one. The statistics are ``regression.compare``'s.
"""

from __future__ import annotations

from harness.analysis.regression import METRICS, NotComparable, Row, check_comparable, compare
from harness.analysis.validity import analysable
from harness.core.errors import UserInputError
from harness.store import reader


def check_options(metric: str, margin: float, resamples: int) -> None:
    """The comparison's options, checked before any store is read."""
    if metric not in METRICS:
        raise UserInputError(f"unknown metric {metric!r}", hint=f"choose one of: {', '.join(METRICS)}")
    if not 0 <= margin < 1 or resamples < 1:
        raise UserInputError("--margin must be in [0, 1) and --resamples at least 1")


def compare_stored(a: tuple[str, str], b: tuple[str, str], *, metric: str = "completion", margin: float = 0.02,
                   resamples: int = 10_000, seed: int = 0, names: tuple[str, str] | None = None) -> list[Row]:
    """B - A per condition and category for runs ``a`` and ``b``, each (store path, run id);
    ``names`` are how the user named them (for the refusal's message)."""
    check_options(metric, margin, resamples)
    # agent and harness errors are not failures: left out, so their pairs drop from the comparison
    (ep_a, _), (ep_b, _) = analysable(reader.episodes(*a)), analysable(reader.episodes(*b))
    info_a, info_b = reader.run_info(*a), reader.run_info(*b)
    name_a, name_b = names or (f"{a[0]}:{a[1]}", f"{b[0]}:{b[1]}")
    try:
        check_comparable(ep_a, ep_b, info_a.get("workload_hash"), info_b.get("workload_hash"))
    except NotComparable as exc:
        raise UserInputError(f"cannot compare {name_a} with {name_b}: {exc}",
                             hint="compare runs of the same experiment and workload") from None
    return compare(ep_a, ep_b, metric=metric, margin=margin, resamples=resamples, seed=seed)
