"""The skill and sensitivity part of the paper (issue 22), from stored estimates.

The latest ``skill_study`` run gives the skill table (gap and its components per
error_scale, slopes, the structural / error-driven split, each process's share) and
``fig_skill``; the latest ``sensitivity`` run gives ``fig_sensitivity_tornado``, one bar
per unpublished setting from the gap at its low end to the gap at its high end. A store
without such a run: the part is left out and a note says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator

from harness.analysis.bootstrap import OVERALL
from harness.analysis.report import arm_estimates_for, config_of, sensitivity_design
from harness.analysis.sensitivity import sensitivity_table
from harness.analysis.skill import SIDES, SkillTables, skill_tables
from harness.paper.runs import latest_of
from harness.paper.style import NEUTRAL, colour, new_figure, percent_axis, points_axis, save, style
from harness.paper.tables import PaperTable
from harness.store import reader

SKILL_EXPERIMENTS = ("skill_study",)
SENSITIVITY_EXPERIMENTS = ("sensitivity",)


@dataclass
class ArmParts:
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)  # file stem -> run


def build_arms(db: str, out: Path) -> ArmParts:
    parts = ArmParts()
    skill_run = latest_of(db, SKILL_EXPERIMENTS)
    if skill_run is None:
        parts.notes.append("no skill_study run in the store: no skill table or figure "
                           "(`harness run experiment=skill_study`)")
    else:
        tables = skill_tables(arm_estimates_for(db, skill_run))
        made = _skill_parts(tables, out) if tables is not None else []
        parts.files += made
        parts.runs |= {p.stem: skill_run for p in made}
    sens_run = latest_of(db, SENSITIVITY_EXPERIMENTS)
    if sens_run is None:
        parts.notes.append("no sensitivity run in the store: no sensitivity tornado "
                           "(`harness run experiment=sensitivity`)")
    else:
        design = sensitivity_design(config_of(reader.run_info(db, sens_run)))
        frame = sensitivity_table(arm_estimates_for(db, sens_run), design)
        with style():
            fig = sensitivity_tornado_figure(frame) if frame is not None else None
            made = [] if fig is None else save(fig, out / "figures", "fig_sensitivity_tornado")
        parts.files += made
        parts.runs |= {p.stem: sens_run for p in made}
    return parts


def _skill_parts(tables: SkillTables, out: Path) -> list[Path]:
    files = skill_table(tables).write(out / "tables")
    with style():
        fig = skill_figure(tables)
        files += [] if fig is None else save(fig, out / "figures", "fig_skill")
    return files


# -- table -----------------------------------------------------------------------------------
def _ci(r, scale: float = 100.0, digits: int = 1) -> str:
    def num(v: float) -> str:
        return f"{0.0 if abs(v) < 1e-9 else scale * v:.{digits}f}"  # no "-0.0" from rounding noise

    return f"{num(r.estimate)} [{num(r.ci_low)}, {num(r.ci_high)}]"


def skill_table(t: SkillTables) -> PaperTable:
    """Rows: one per error_scale (completion %, gap and components in pp), then the slopes
    (pp per unit of error_scale), the structural / error-driven split and each process."""
    lv = t.levels[t.levels.category == OVERALL].set_index(["level", "quantity"])
    quantities = [*SIDES, "gap", *(f"shapley:{f}" for f in t.factors)]
    rows = [(f"error_scale {x:g}", *(_ci(lv.loc[(x, q)]) for q in quantities))
            for x in sorted({x for x, _ in lv.index})]
    slopes = t.slopes[t.slopes.category == OVERALL].set_index("quantity")
    if not slopes.empty:
        rows.append(("slope (pp per unit)", *(_ci(slopes.loc[q]) for q in quantities)))
    blank = ("",) * (len(quantities) - 1)
    split = t.split[t.split.category == OVERALL]
    for r in split.sort_values("part", key=lambda p: p != "structural", kind="stable").itertuples():
        rows.append((f"{r.part.replace('_', '-')} gap (pp)", _ci(r), *blank))
    proc = t.processes[t.processes.category == OVERALL].set_index(["process", "quantity"])
    for p in dict.fromkeys(t.processes.process):
        share = _ci(proc.loc[(p, "share")], digits=0) + " %" if (p, "share") in proc.index else "—"
        rows.append((f"{p} off: contribution (pp), share", _ci(proc.loc[(p, "contribution")]), share,
                     *blank[1:]))
    caption = ("Skill study, all tasks: completion (%) of I_human and I_opt, the gap and its exact Shapley "
               "components (pp) per error_scale, with 95% task-bootstrap CIs; the OLS slope in error_scale; the "
               "structural gap (perfect agent) and the error-driven rest; each error process switched off alone.")
    if t.denominator_spans_zero():
        caption += " The error-driven gap's CI includes 0, so the shares are not interpretable."
    header = ("", *SIDES, "gap", *t.factors)
    return PaperTable("skill", caption, header, rows)


# -- figures ---------------------------------------------------------------------------------
def skill_figure(t: SkillTables) -> Figure | None:
    """Top: completion of I_human and I_opt against error_scale, 95% CI bands; bottom: the
    gap with its band and each Shapley component as a line (they sum to the gap)."""
    lv = t.levels[t.levels.category == OVERALL]
    if lv.level.nunique() < 2:
        return None
    fig, (top, bottom) = new_figure(4.2, nrows=2, sharex=True, height_ratios=[1, 1])

    def series(q: str) -> pd.DataFrame:
        return lv[lv.quantity == q].sort_values("level")

    for i, q in enumerate(SIDES):
        s = series(q)
        top.plot(s.level, s.estimate, marker="o", markersize=3, color=colour(i), label=q)
        top.fill_between(s.level, s.ci_low, s.ci_high, color=colour(i), alpha=0.2, linewidth=0)
    top.set_ylim(0, 1.02)
    percent_axis(top.yaxis)
    top.set_ylabel("completion (%)")
    top.legend(loc="lower left")
    gap = series("gap")
    bottom.plot(gap.level, gap.estimate, marker="o", markersize=3, color="black", label="gap")
    bottom.fill_between(gap.level, gap.ci_low, gap.ci_high, color="black", alpha=0.12, linewidth=0)
    for j, f in enumerate(t.factors):
        s = series(f"shapley:{f}")
        bottom.plot(s.level, s.estimate, marker="s", markersize=2.5, linewidth=0.9,
                    color=colour((2, 4, 5, 6, 7)[j % 5]), label=f)  # no yellow on white
    bottom.axhline(0, color=NEUTRAL, linewidth=0.5)
    _whole_points(bottom.yaxis, bottom.get_ylim())
    bottom.set_ylabel("gap, components (pp)")
    bottom.set_xlabel("error_scale (0 = a perfect agent)")
    # Square-root x: the levels crowd near 0 (0, 0.25, 0.5) and spread to 4.
    bottom.set_xscale("function", functions=(_signed_sqrt, _signed_square))
    levels = sorted(lv.level.unique())
    # ".25" not "0.25": on the square-root axis 0.25 and 0.5 sit close, and short labels do not touch
    bottom.set_xticks(levels, [f"{x:g}".removeprefix("0") if 0 < x < 1 else f"{x:g}" for x in levels])
    bottom.legend(loc="upper left", ncol=2)
    top.set_title("Gap against agent skill")
    return fig


def _whole_points(axis, limits: tuple[float, float]) -> None:
    """Ticks at whole percentage points (1, 2, 5, 10 or 20 pp apart, at most ~6): the
    signed-points labels round to whole points, so a tick at 17.5 pp would read +18."""
    span = 100 * abs(limits[1] - limits[0])
    step = next((s for s in (1, 2, 5, 10, 20, 50) if span / s <= 6), 100)
    axis.set_major_locator(MultipleLocator(step / 100))
    points_axis(axis)


def _signed_sqrt(x):
    return np.sign(x) * np.sqrt(np.abs(x))  # monotone through 0: the axis margin lies below it


def _signed_square(y):
    return np.sign(y) * np.square(y)


def sensitivity_tornado_figure(frame: pd.DataFrame, top: int = 12) -> Figure | None:
    """One bar per setting from gap(low) to gap(high), largest |swing| at the top, a dotted
    line at the base gap, each end labelled with the setting's value there."""
    rows = frame.head(top).iloc[::-1]
    if rows.empty:
        return None
    fig, ax = new_figure(0.28 * len(rows) + 1.3)
    for y, r in enumerate(rows.itertuples()):
        lo, hi = sorted((r.low, r.high))
        ax.barh(y, max(hi - lo, 1e-4), left=lo, height=0.55, color=colour(4), alpha=0.8)
        left_first = r.low <= r.high
        for value, x, side in ((r.low_value, r.low, "right" if left_first else "left"),
                               (r.high_value, r.high, "left" if left_first else "right")):
            ax.annotate(value, (x, y), xytext=(-3 if side == "right" else 3, 4), textcoords="offset points",
                        ha=side, va="bottom", fontsize=6)
    base = float(rows.base.iloc[0])
    if np.isfinite(base):
        ax.axvline(base, color=NEUTRAL, linewidth=0.8, linestyle=":")
    ax.set_yticks(range(len(rows)), [s.replace("_", " ") for s in rows.setting])
    ax.set_ylim(-0.6, len(rows) - 0.2)
    ends = np.concatenate([rows.low.to_numpy(float), rows.high.to_numpy(float)])
    pad = 0.3 * max(float(ends.max() - ends.min()), 0.05)  # room for the end labels (bars stick to their edge)
    ax.set_xlim(float(ends.min()) - pad, float(ends.max()) + pad)
    _whole_points(ax.xaxis, ax.get_xlim())
    ax.set_xlabel("gap I_opt − I_human (pp)")
    ax.set_title("One unpublished setting at a time")
    return fig
