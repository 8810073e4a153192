"""``harness report``'s tables for a run with arms (skill or sensitivity study).

Such a run stores one condition per ``<condition>@<arm>`` (58 on a skill study), so the
per-condition tables of ``report_tables`` would be hundreds of rows; these show what the
study asks instead, from the stored ``skill`` / ``sensitivity`` estimates.
"""

from __future__ import annotations

import pandas as pd

from harness.analysis.bootstrap import OVERALL
from harness.analysis.report_tables import CI_NOTE, Display, drivers, pp, table2, table3
from harness.analysis.sensitivity import SensitivityDesign, sensitivity_table
from harness.analysis.skill import SIDES, SkillTables, skill_tables


def arm_report_tables(est: pd.DataFrame, episodes: pd.DataFrame, perf: pd.DataFrame,
                      sensitivity: SensitivityDesign | None, run_id: str, repeats: int) -> list[Display]:
    tables: list[Display | None] = []
    if not est.empty:
        tables.append(table2(est, drivers(est)))
        skill = skill_tables(est)
        if skill is not None:
            tables += skill_displays(skill, run_id, repeats)
        if sensitivity is not None:
            tables.append(sensitivity_display(est, sensitivity, run_id))
    if not perf.empty:
        tables.append(table3(perf))
    return [t for t in tables if t is not None]


def _ci(r, fmt=pp) -> str:
    """A tidy row (ci_low, ci_high) as "estimate [low, high]"."""
    return f"{fmt(r.estimate)} [{fmt(r.ci_low)}, {fmt(r.ci_high)}]"


def _cats(frame: pd.DataFrame) -> list[str]:
    return sorted(frame.category.unique(), key=lambda c: (c == OVERALL, c))


def skill_displays(t: SkillTables, run_id: str, repeats: int) -> list[Display]:
    lv = t.levels[t.levels.category == OVERALL].set_index(["level", "quantity"])
    comps = [f"shapley:{f}" for f in t.factors]
    levels = sorted({x for x, _ in lv.index})
    rows = [(f"{x:g}", *(_ci(lv.loc[(x, q)], lambda v: f"{100 * v:.1f}%") for q in SIDES), _ci(lv.loc[(x, "gap")]),
             *(_ci(lv.loc[(x, c)]) for c in comps)) for x in levels]
    out = [Display(f"Skill study — run {run_id} ({repeats} repeats): gap by error_scale (all tasks)",
                   ("error_scale", *SIDES, "gap (pp)", *t.factors), rows,
                   "Gap = I_opt - I_human; components: exact Shapley values over the factorial, summing to the gap "
                   "in every resample. " + CI_NOTE)]
    gaps = t.levels[t.levels.quantity == "gap"].set_index(["level", "category"])
    cats = _cats(t.levels)
    out.append(Display("Gap by error_scale and category (pp)", ("error_scale", *cats),
                       [(f"{x:g}", *(_ci(gaps.loc[(x, c)]) for c in cats)) for x in levels]))
    if not t.slopes.empty:
        sl = t.slopes.set_index(["quantity", "category"])
        qs = list(dict.fromkeys(t.slopes.quantity))
        out.append(Display("Slope in error_scale (OLS over the levels; pp per unit of error_scale)",
                           ("quantity", *cats), [(q, *(_ci(sl.loc[(q, c)]) for c in cats)) for q in qs],
                           "A positive gap slope: the gap widens as the agent gets worse (closes as it improves)."))
    out += _split_displays(t, cats)
    return out


def _split_displays(t: SkillTables, cats: list[str]) -> list[Display]:
    out = []
    if t.split.empty:
        out.append(Display("Structural and error-driven gap", ("part",), [],
                           "none: error_scale 0 is not among the levels, so no structural part is measured"))
    else:
        sp = t.split.set_index(["part", "category"])
        parts = list(dict.fromkeys(t.split.part))
        out.append(Display("Structural (perfect agent, scale 0) and error-driven gap (pp)", ("part", *cats),
                           [(p, *(_ci(sp.loc[(p, c)]) for c in cats)) for p in parts],
                           "error_driven = gap at the profile's scale minus the gap at scale 0."))
    if not t.processes.empty:
        pr = t.processes[t.processes.category == OVERALL].set_index(["process", "quantity"])
        procs = list(dict.fromkeys(t.processes.process))
        shares = t.processes[(t.processes.category == OVERALL) & (t.processes.quantity == "share")].estimate
        note = (f"share = contribution / error-driven gap (percentile CI); the shares sum to {100 * shares.sum():.0f}% "
                "(100% if the processes' effects on the gap add up, otherwise they interact). ")
        if t.denominator_spans_zero():
            note += "The error-driven gap's CI includes 0: the shares are unbounded and not interpretable."
        rows = [(p, _ci(pr.loc[(p, "gap_off")]), _ci(pr.loc[(p, "contribution")]),
                 _ci(pr.loc[(p, "share")], lambda v: f"{100 * v:.0f}%") if (p, "share") in pr.index else "—")
                for p in procs]
        out.append(Display("Each error process switched off alone (all tasks, pp)",
                           ("process", "gap without it", "contribution", "share of error-driven"), rows, note))
    return out


def sensitivity_display(est: pd.DataFrame, design: SensitivityDesign, run_id: str) -> Display | None:
    table = sensitivity_table(est, design)
    if table is None:
        return None

    def ci(r, part: str) -> str:
        return f"{pp(r[part])} [{pp(r[f'{part}_ci_low'])}, {pp(r[f'{part}_ci_high'])}]"

    rows = [(r.setting, f"{r.low_value} → {r.high_value}", ci(r, "low"), ci(r, "high"), ci(r, "swing"))
            for _, r in table.iterrows()]
    base = table.iloc[0]
    note = (f"Gap at base (no setting moved): {pp(base.base)} [{pp(base.base_ci_low)}, {pp(base.base_ci_high)}] pp. "
            "One setting at a time; swing = gap(high) - gap(low), paired. Sorted by |swing|. " + CI_NOTE)
    return Display(f"Sensitivity of the gap to unpublished settings — run {run_id} (pp, all tasks)",
                   ("setting", "range", "gap at low", "gap at high", "swing"), rows, note)
