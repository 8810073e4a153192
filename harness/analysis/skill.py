"""Does a better agent close the gap? The skill study's statistics (issue 22).

A ``skill_study`` run crosses the gap factorial with skill arms (``arms.skill_levels``,
one ``agent.profile.error_scale`` each) and crosses I_human and I_opt with arms that
switch one error process off (``arms.processes_off``). Everything below comes from ONE
task table (a column per stored ``<cell>@<arm>``) and ONE stratified bootstrap:

- per level: I_human (every factor 0), I_opt (every factor 1), the gap and its exact
  Shapley decomposition over the factorial's components;
- slopes in error_scale (OLS over the levels: a fixed linear map of the level values) of
  the gap, each component, I_human and I_opt;
- ``structural`` = the gap at scale 0 (a perfect agent), ``error_driven`` = the gap at
  the profile's own scale minus it;
- per process switched off: ``gap_off``, ``contribution`` = gap(scale) - gap_off, and
  ``share`` = contribution / error_driven (a ratio: percentile interval).

All but the shares are linear in the column means, so components sum to the gap, and
contributions to their differences, in every resample. Arm settings (level, process) are
read from the stored config (``report.skill_design``), never from condition names.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.analysis.arm_stats import LinearStats, estimate, records, task_table, tidy, unit
from harness.analysis.bootstrap import StratifiedBootstrap
from harness.analysis.factorial_effects import shapley_matrix
from harness.core.models import EstimateRecord

ANALYSIS = "skill"
SIDES = ("I_human", "I_opt")


@dataclass(frozen=True)
class SkillDesign:
    """What the stored config says the skill study holds."""

    levels: tuple[float, ...]  # sorted error_scales
    level_arms: dict[float, str]
    cells: tuple[str, ...]  # factorial cells in standard order (first: all 0, last: all 1)
    factors: tuple[str, ...]
    processes: dict[str, str]  # error process -> its arm
    process_cells: tuple[str, str] | None  # (human, opt) cells the process arms cross
    process_scale: float  # error_scale of the process arms (the agent's profile)
    separator: str = "@"  # of stored <condition>@<arm> names (harness.experiment.arms.SEPARATOR)

    def column(self, cell: str, arm: str) -> str:
        return f"{cell}{self.separator}{arm}"

    def columns(self) -> list[str]:
        cols = [self.column(c, self.level_arms[x]) for x in self.levels for c in self.cells]
        if self.process_cells:
            cols += [self.column(c, a) for a in self.processes.values() for c in self.process_cells]
        return cols

    @property
    def label(self) -> str:
        return f"{self.cells[-1]}|{self.cells[0]}"


def level_key(x: float) -> str:
    return f"{x:g}"


def linear_map(design: SkillDesign, columns: list[str]) -> LinearStats:
    """Every linear statistic of the study as rows over ``columns``."""
    stats = LinearStats([], [])
    shap = shapley_matrix(len(design.factors))
    for x in design.levels:
        cells = [design.column(c, design.level_arms[x]) for c in design.cells]
        human, opt = unit(columns, cells[0]), unit(columns, cells[-1])
        stats.add(f"level:{level_key(x)}:I_human", human)
        stats.add(f"level:{level_key(x)}:I_opt", opt)
        stats.add(f"level:{level_key(x)}:gap", opt - human)
        cell_rows = np.vstack([unit(columns, c) for c in cells])
        for f, weights in zip(design.factors, shap, strict=True):
            stats.add(f"level:{level_key(x)}:shapley:{f}", weights @ cell_rows)
    if len(design.levels) >= 2:
        xs = np.asarray(design.levels)
        w = (xs - xs.mean()) / ((xs - xs.mean()) ** 2).sum()  # OLS slope: a fixed weighting of the levels
        for q in (*SIDES, "gap", *(f"shapley:{f}" for f in design.factors)):
            stats.add(f"slope:{q}", sum(wi * stats.row(f"level:{level_key(x)}:{q}") for wi, x in zip(w, xs,
                                                                                                    strict=True)))
        # which component's gap closes fastest: every pair's slope difference, with its own CI
        for a, b in itertools.combinations(design.factors, 2):
            stats.add(f"slope:{a} - {b}", stats.row(f"slope:shapley:{a}") - stats.row(f"slope:shapley:{b}"))
    _split(design, columns, stats)
    return stats


def _split(design: SkillDesign, columns: list[str], stats: LinearStats) -> None:
    """Structural (scale 0), error-driven (scale of the profile minus scale 0) and, per
    process switched off, the gap without it and its contribution."""
    scale = level_key(design.process_scale)
    has_scale = design.process_scale in design.levels
    if 0.0 in design.levels:
        stats.add("structural", stats.row("level:0:gap"))
        if has_scale:
            stats.add("error_driven", stats.row(f"level:{scale}:gap") - stats.row("level:0:gap"))
    if not (design.process_cells and has_scale):
        return
    human, opt = design.process_cells
    for p, arm in design.processes.items():
        gap_off = unit(columns, design.column(opt, arm)) - unit(columns, design.column(human, arm))
        stats.add(f"gap_off:{p}", gap_off)
        stats.add(f"contribution:{p}", stats.row(f"level:{scale}:gap") - gap_off)


def skill_records(run_id: str, design: SkillDesign, episodes: pd.DataFrame, *, resamples: int = 10_000,
                  seed: int = 0) -> list[EstimateRecord]:
    """Every skill statistic of a run, per category and overall, as ``estimates`` rows
    (``design``: ``harness.analysis.report.skill_design`` of the stored config)."""
    columns = design.columns()
    table = task_table(episodes, columns, run_id)
    boot = StratifiedBootstrap(table.strata, resamples, seed)
    stats = linear_map(design, columns)
    matrix = stats.matrix()
    out = records(run_id, ANALYSIS, design.label, estimate(boot, table, lambda m: m @ matrix.T, len(stats.names)),
                  stats.names, resamples, seed)
    shares = [n.split(":", 1)[1] for n in stats.names if n.startswith("contribution:")]
    if shares and "error_driven" in stats.names:
        num = np.vstack([stats.row(f"contribution:{p}") for p in shares])
        den = stats.row("error_driven")

        def ratio(m: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return (m @ num.T) / (m @ den)[..., None]

        with np.errstate(invalid="ignore"):  # a resample with no error-driven gap: an unbounded share
            made = estimate(boot, table, ratio, len(shares), "percentile")
        out += _bounded(records(run_id, ANALYSIS, design.label, made, [f"share:{p}" for p in shares], resamples,
                                seed))
    return out


def _bounded(shares: list[EstimateRecord]) -> list[EstimateRecord]:
    """A share whose point denominator is 0 does not exist (no row); resamples where it is
    0 make the interval unbounded (-inf, inf) and the spread infinite, never NaN."""
    out = []
    for r in shares:
        if math.isnan(r.estimate):
            continue
        fix = {k: v for k, v in (("low", -math.inf), ("high", math.inf), ("se", math.inf))
               if math.isnan(getattr(r, k))}
        out.append(r.model_copy(update=fix) if fix else r)
    return out


# -- tidy views of stored rows -------------------------------------------------------------
@dataclass(frozen=True)
class SkillTables:
    """The stored skill estimates as tidy frames (columns estimate, ci_low, ci_high,
    method, tasks, and what each row is about)."""

    levels: pd.DataFrame  # category, level, quantity (I_human, I_opt, gap, shapley:<f>)
    slopes: pd.DataFrame  # category, quantity
    split: pd.DataFrame  # category, part (structural, error_driven)
    processes: pd.DataFrame  # category, process, quantity (gap_off, contribution, share)

    @property
    def factors(self) -> list[str]:
        qs = self.levels.quantity.unique()
        return [q.split(":", 1)[1] for q in qs if q.startswith("shapley:")]

    def denominator_spans_zero(self, category: str = "all") -> bool:
        """Whether the error-driven part's CI includes 0 (the shares are then unbounded)."""
        row = self.split[(self.split.category == category) & (self.split.part == "error_driven")]
        return bool(len(row)) and bool(row.ci_low.iloc[0] <= 0 <= row.ci_high.iloc[0])


def skill_tables(est: pd.DataFrame) -> SkillTables | None:
    """Tidy frames from a run's stored estimates; None when they hold no skill rows."""
    rows = tidy(est[est.analysis == ANALYSIS])
    if rows.empty:
        return None
    keep = ["category", "estimate", "ci_low", "ci_high", "method", "tasks"]
    parts = rows.statistic.str.split(":", n=1)
    kind, rest = parts.str[0], parts.str[1]
    lv = rows[kind == "level"]
    lv_parts = lv.statistic.str.split(":", n=2)
    levels = lv.assign(level=lv_parts.str[1].astype(float), quantity=lv_parts.str[2])[
        ["level", "quantity", *keep]].sort_values(["category", "level"], kind="stable", ignore_index=True)
    slopes = rows[kind == "slope"].assign(quantity=rest[kind == "slope"])[["quantity", *keep]]
    parts_mask = kind.isin(["structural", "error_driven"])
    split = rows[parts_mask].assign(part=kind[parts_mask])[["part", *keep]]
    proc = kind.isin(["gap_off", "contribution", "share"])
    processes = rows[proc].assign(process=rest[proc], quantity=kind[proc])[["process", "quantity", *keep]]
    return SkillTables(levels, slopes.reset_index(drop=True), split.reset_index(drop=True),
                       processes.reset_index(drop=True))
