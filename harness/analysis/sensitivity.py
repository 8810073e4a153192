"""How much does the gap move with the world's settings that no publication pins down?

A ``sensitivity`` run crosses the compared pair with an unchanged arm (``base``) and, one
setting at a time, the low and the high end of its documented range (``arms.settings``).
From ONE task table (a column per stored ``<condition>@<arm>``) and ONE stratified
bootstrap: the gap at base, per setting the gap at its low and high end, and the swing
gap(high) - gap(low), all linear in the column means (paired differences: the arms meet
the same random draws). Ranges and sources are read from the stored config
(``harness.analysis.report.sensitivity_design``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harness.analysis.arm_stats import LinearStats, estimate, records, task_table, tidy, unit
from harness.analysis.bootstrap import StratifiedBootstrap
from harness.core.models import EstimateRecord

ANALYSIS = "sensitivity"
ENDS = ("low", "high")


@dataclass(frozen=True)
class SettingRange:
    name: str
    ends: dict[str, tuple[str, str]]  # path -> (low, high) as written in the config
    source: str
    arms: tuple[str, str]  # the (low, high) arms

    def end_text(self, i: int) -> str:
        """The values at one end, as a label ("5, 26.7" for two paths moving together)."""
        return ", ".join(str(v[i]) for v in self.ends.values())


@dataclass(frozen=True)
class SensitivityDesign:
    treatment: str
    baseline: str
    base_arm: str | None
    settings: tuple[SettingRange, ...]
    separator: str = "@"  # of stored <condition>@<arm> names (harness.experiment.arms.SEPARATOR)

    def column(self, condition: str, arm: str) -> str:
        return f"{condition}{self.separator}{arm}"

    def columns(self) -> list[str]:
        arms = ([self.base_arm] if self.base_arm else []) + [a for s in self.settings for a in s.arms]
        return [self.column(c, a) for a in arms for c in (self.treatment, self.baseline)]

    @property
    def label(self) -> str:
        return f"{self.treatment}|{self.baseline}"


def linear_map(design: SensitivityDesign, columns: list[str]) -> LinearStats:
    stats = LinearStats([], [])

    def gap(arm: str):
        return unit(columns, design.column(design.treatment, arm)) - unit(columns, design.column(design.baseline, arm))

    if design.base_arm:
        stats.add("base:gap", gap(design.base_arm))
    for s in design.settings:
        low, high = gap(s.arms[0]), gap(s.arms[1])
        stats.add(f"{s.name}:low", low)
        stats.add(f"{s.name}:high", high)
        stats.add(f"{s.name}:swing", high - low)
    return stats


def sensitivity_records(run_id: str, design: SensitivityDesign, episodes: pd.DataFrame, *, resamples: int = 10_000,
                        seed: int = 0) -> list[EstimateRecord]:
    """(``design``: ``harness.analysis.report.sensitivity_design`` of the stored config.)"""
    columns = design.columns()
    table = task_table(episodes, columns, run_id)
    boot = StratifiedBootstrap(table.strata, resamples, seed)
    stats = linear_map(design, columns)
    matrix = stats.matrix()
    made = estimate(boot, table, lambda m: m @ matrix.T, len(stats.names))
    return records(run_id, ANALYSIS, design.label, made, stats.names, resamples, seed)


def sensitivity_table(est: pd.DataFrame, design: SensitivityDesign, category: str = "all") -> pd.DataFrame | None:
    """One row per setting: its range and source, gap at low / base / high and the swing
    (estimate, ci_low, ci_high each), sorted by |swing|, largest first; None without rows."""
    rows = tidy(est[(est.analysis == ANALYSIS) & (est.category == category)]).set_index("statistic")
    if rows.empty:
        return None
    base = rows.loc["base:gap"] if "base:gap" in rows.index else None
    out = []
    for s in design.settings:
        rec = {"setting": s.name, "low_value": s.end_text(0), "high_value": s.end_text(1), "source": s.source}
        for part in (*ENDS, "swing"):
            r = rows.loc[f"{s.name}:{part}"]
            rec |= {f"{part}": r.estimate, f"{part}_ci_low": r.ci_low, f"{part}_ci_high": r.ci_high}
        rec |= {"base": base.estimate if base is not None else float("nan"),
                "base_ci_low": base.ci_low if base is not None else float("nan"),
                "base_ci_high": base.ci_high if base is not None else float("nan"),
                "method": r.method, "tasks": int(r.tasks)}
        out.append(rec)
    frame = pd.DataFrame(out)
    return frame.assign(_abs=frame.swing.abs()).sort_values(["_abs", "setting"], ascending=[False, True],
                                                             ignore_index=True).drop(columns="_abs")
