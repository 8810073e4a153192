"""Table 3: the execution layer's measured figures (``exec_perf`` rows) as quantiles.

Each figure is summarised by its median, p95 and p99 over the measured events (numpy's
linear interpolation), with the number of events. No interval is claimed for a quantile:
the events of one session are not independent draws, and a task-clustered bootstrap of a
p99 over a few hundred kills would suggest a precision it does not have.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

QUANTILES = (("median", 50.0), ("p95", 95.0), ("p99", 99.0))


@dataclass(frozen=True)
class Figure:
    """One row of Table 3: an exec_perf metric, how it is shown, and its claim row."""

    metric: str
    label: str
    unit: str  # the unit shown (and the claims' unit where the report uses it)
    scale: float  # shown value = stored value * scale
    claim_row: str | None  # Table 3 claim ids: table3.<claim_row>.<median|p95|p99>


FIGURES = (
    Figure("checkpoint_write_ms", "Checkpoint latency", "ms", 1.0, "checkpoint_latency"),
    Figure("recovery_ms", "Recovery time", "ms", 1.0, "recovery_time"),
    Figure("detection_ms", "Failure detection", "ms", 1.0, "failure_detection"),
    Figure("checkpoint_bytes", "Checkpoint size", "MB", 1e-6, "checkpoint_size"),
    Figure("reexecuted_actions", "Actions re-executed per recovery", "actions", 1.0, None),
    Figure("effects_applied_twice", "Effects applied twice", "effects", 1.0, None),
)


def quantiles(perf: pd.DataFrame) -> pd.DataFrame:
    """One row per Table 3 figure present: n, median, p95, p99 in the shown unit."""
    rows = []
    for fig in FIGURES:
        values = perf.loc[perf.metric == fig.metric, "value"].to_numpy(dtype=float) * fig.scale
        if values.size == 0:
            continue
        q = {name: float(np.percentile(values, p)) for name, p in QUANTILES}
        rows.append({"metric": fig.metric, "label": fig.label, "unit": fig.unit, "n": int(values.size),
                     **q, "total": float(values.sum())})
    return pd.DataFrame(rows)


def setting(perf: pd.DataFrame, metric: str) -> float | None:
    """A configuration value the run stored beside its measurements (event "config")."""
    rows = perf[(perf.event == "config") & (perf.metric == metric)]
    return float(rows.value.iloc[0]) if len(rows) else None
