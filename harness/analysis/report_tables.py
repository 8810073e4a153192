"""The report's tables as data, built from stored estimates (never recomputed here).

Each table is a ``Display``: a title, column names, rows of formatted cells and a note.
``harness report`` renders them (rich, Markdown or LaTeX, ``harness.cli.render``) and the
paper reuses some of them; nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from harness.analysis.bootstrap import OVERALL
from harness.core.models import TERMINATIONS


@dataclass(frozen=True)
class Display:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    note: str = ""  # what the reader must know to read it (method, weighting, correction)


def report_tables(est: pd.DataFrame, episodes: pd.DataFrame, perf: pd.DataFrame, order: list[str],
                  run_id: str, repeats: int) -> list[Display]:
    """Every table ``harness report`` shows, in its order: those of the estimates (when
    there are any), then Table 3 (when the run measured the execution layer)."""
    tables: list[Display | None] = []
    if not est.empty:
        tables += [completion(est, order, run_id, repeats), terminations(episodes, order), table2(est, drivers(est))]
        tables += decomposition(est)
        tables += [pass_k(est), metrics(est), table1(est, order), scenario_completion(est, order)]
        tables += table4(est)
        tables.append(roi(est))
    if not perf.empty:
        tables.append(table3(perf))
    return [t for t in tables if t is not None]

CI_NOTE = ("95% CIs: tasks resampled within category, paired across conditions; "
           "'all' is task-weighted. Method per row: bca, or percentile where BCa degenerates.")


def _cats(frame: pd.DataFrame) -> list[str]:
    return sorted(frame.category.unique(), key=lambda c: (c == OVERALL, c))


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def pp(x: float) -> str:
    return f"{100 * x:+.1f}"


def with_ci(r, fmt=pct) -> str:
    return f"{fmt(r.estimate)} [{fmt(r.low)}, {fmt(r.high)}]"


def _get(est: pd.DataFrame, **match) -> pd.DataFrame:
    mask = pd.Series(True, index=est.index)
    for k, v in match.items():
        mask &= est[k] == v
    return est[mask]


def completion(est: pd.DataFrame, order: list[str], run_id: str, repeats: int) -> Display:
    """Conditions as rows, categories as columns: a factorial's eight cells still fit."""
    rows = _get(est, analysis="completion")
    conds = [c for c in order if c in set(rows.conditions)] or sorted(set(rows.conditions))
    cats = _cats(rows)
    by = rows.set_index(["conditions", "category"])
    tasks = rows.groupby("category").tasks.max()
    out = [(c, *(with_ci(by.loc[(c, cat)]) for cat in cats)) for c in conds]
    return Display(f"Completion rate — run {run_id} ({repeats} repeats)",
                   ("condition", *(f"{cat} ({int(tasks[cat])})" for cat in cats)), out,
                   "Column headers give the number of tasks. " + CI_NOTE)


def termination_counts(episodes: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Episodes per (condition, termination reason), every reason the run produced."""
    if episodes.empty:
        return pd.DataFrame(columns=["condition", "termination", "episodes"])
    counts = episodes.groupby(["condition", "termination"]).size().rename("episodes").reset_index()
    rank = {c: i for i, c in enumerate(order)}
    return counts.sort_values(["condition", "termination"], key=lambda s: s.map(rank).fillna(len(rank))
                              if s.name == "condition" else s).reset_index(drop=True)


def terminations(episodes: pd.DataFrame, order: list[str]) -> Display:
    """How every episode ended, by condition: what a failure was (budgets, approval waits,
    giving up) and how many episodes were errors, left out of every rate."""
    counts = termination_counts(episodes, order)
    reasons = [t for t in TERMINATIONS if t in set(counts.termination)]
    by = counts.set_index(["condition", "termination"]).episodes
    conds = [c for c in order if c in set(counts.condition)] or sorted(set(counts.condition))
    rows = [(c, *(str(int(by.get((c, t), 0))) for t in reasons)) for c in conds]
    return Display("How episodes ended (episodes per condition)", ("condition", *reasons), rows,
                   "agent_error and harness_error episodes are left out of every rate and gap; "
                   "approval_timeout: the task's deadline passed while a request waited for approval, "
                   "or would not have without the waits.")


def table2(est: pd.DataFrame, drivers: dict[str, str]) -> Display | None:
    gap = _get(est, analysis="gap")
    if gap.empty:
        return None
    treatment, baseline = gap.conditions.iloc[0].split("|")
    rates = _get(est, analysis="completion").set_index(["conditions", "category"])
    cols = ("category", "tasks", baseline, treatment, "gap (pp)", "95% CI", "p (Holm)", "MDE 80% (pp)")
    cols += ("primary driver",) if drivers else ()
    out = []
    for cat in _cats(gap):
        r = gap[gap.category == cat].iloc[0]
        p = "—" if pd.isna(r.p_holm) else f"{r.p_holm:.3g}"
        row = (cat, str(int(r.tasks)), pct(rates.loc[(baseline, cat)].estimate),
               pct(rates.loc[(treatment, cat)].estimate), pp(r.estimate), f"[{pp(r.low)}, {pp(r.high)}]", p,
               f"{100 * r.mde:.1f}")
        out.append(row + ((drivers.get(cat, ""),) if drivers else ()))
    note = (CI_NOTE + " p: z-test on the clustered CLT SE, Holm-adjusted across categories. "
            "MDE: the smallest gap this design detects with 80% power (α = 0.05); a CI that "
            "includes 0 is 'no detectable difference' only for gaps above it.")
    return Display(f"Table 2 — paired gap {treatment} − {baseline}", cols, out, note)


NO_DRIVER = "no component differs from zero"


def drivers(est: pd.DataFrame) -> dict[str, str]:
    """Per category, of the factors whose Shapley value's 95% CI excludes 0, the one with the
    largest value; where none does, naming the largest would call noise a driver, so it says
    so instead."""
    shap = est[(est.analysis == "decomposition") & est.statistic.str.startswith("shapley:")]
    out = {}
    for cat, g in shap.groupby("category"):
        real = g[_differs(g)]
        out[cat] = real.loc[real.estimate.idxmax(), "statistic"].split(":", 1)[1] if len(real) else NO_DRIVER
    return out


ZERO = 1e-9  # Shapley sums of equal rates leave ±1e-17 residues: zero, not a tiny effect


def _differs(rows: pd.DataFrame) -> pd.Series:
    """Rows whose CI excludes 0; a row without a CI differs when its estimate is not 0."""
    excludes = (rows.low > ZERO) | (rows.high < -ZERO)
    no_ci = rows.low.isna() | rows.high.isna()
    return excludes.where(~no_ci, rows.estimate.abs() > ZERO)


def decomposition(est: pd.DataFrame) -> list[Display]:
    d = _get(est, analysis="decomposition")
    if d.empty:
        return []
    factors = [s.split(":", 1)[1] for s in d.statistic.unique() if s.startswith("shapley:")]
    lead = drivers(est)
    rows = []
    for cat in _cats(d):
        sub = d[d.category == cat].set_index("statistic")
        rows.append((cat, with_ci(sub.loc["gap:gap"], pp), *(with_ci(sub.loc[f"shapley:{f}"], pp) for f in factors),
                     lead.get(cat, "")))
    shap = Display("Gap decomposition — exact Shapley values over the factorial (pp)",
                   ("category", "gap", *factors, "primary driver"), rows,
                   "Shapley values sum exactly to the gap in the estimate and in every resample. " + CI_NOTE)
    overall = d[d.category == OVERALL].set_index("statistic")
    terms = [s for s in overall.index if s.split(":")[0] in ("alone", "interaction", "main")]
    inter = Display("Effects beside the decomposition (all tasks, pp)", ("term", "kind", "estimate [95% CI]"),
                    [(s.split(":", 1)[1], s.split(":")[0], with_ci(overall.loc[s], pp)) for s in terms],
                    "alone: switching one factor from the baseline; interaction: Harsanyi dividend "
                    "(alone + interactions sum to the gap); main: classical factorial main effect.")
    orders = sorted({s.split(":")[1] for s in overall.index if s.startswith("order:")})
    sens = Display("One-at-a-time attribution by order of switching (all tasks, pp)", ("order", *factors),
                   [(o, *(pp(overall.loc[f"order:{o}:{f}"].estimate) for f in factors)) for o in orders],
                   "Each order attributes interactions to whichever factor comes later; Shapley averages the orders.")
    return [shap, inter, sens]


def pass_k(est: pd.DataFrame) -> Display | None:
    p = _get(est, analysis="pass_k", category=OVERALL)
    if p.empty:
        return None
    ks = sorted({int(s.split("=")[1]) for s in p.statistic})
    rows = []
    for cond, g in p.groupby("conditions", sort=True):
        sub = g.set_index("statistic")
        rows.append((cond, *(with_ci(sub.loc[f"pass^k={k}"]) for k in ks), pct(sub.loc[f"pass@k={ks[-1]}"].estimate)))
    return Display("Reliability — pass^k (all k attempts succeed), all tasks", ("condition", *[f"k={k}" for k in ks],
                   f"pass@{ks[-1]}"), rows, "Unbiased estimators C(c,k)/C(n,k) per task. " + CI_NOTE)


def metrics(est: pd.DataFrame) -> Display | None:
    m = est[est.analysis.isin(["accuracy", "retention"]) & (est.category == OVERALL)]
    if m.empty:
        return None
    rows = [(r.conditions, r.statistic.replace("_", " "), str(int(r.tasks)), with_ci(r)) for r in m.itertuples()]
    return Display("Episode metrics (all tasks that have them)", ("condition", "metric", "tasks", "estimate [95% CI]"),
                   rows, "tool-call accuracy: calls that succeeded and, if they wrote, changed something not later "
                         "undone; retention: probes about earlier sessions answered correctly (multi-session tasks).")


def table3(perf: pd.DataFrame) -> Display:
    """The execution layer's figures as quantiles, with the heartbeat settings used."""
    from harness.analysis.exec_perf import quantiles, setting

    q = quantiles(perf)
    rows = [(r.label, r.unit, str(r.n), f"{r.median:.3g}", f"{r.p95:.3g}", f"{r.p99:.3g}") for r in q.itertuples()]
    interval, timeout = setting(perf, "heartbeat_interval_ms"), setting(perf, "heartbeat_timeout_ms")
    note = "Quantiles over the measured events (no interval: events of one session are not independent)."
    if interval is not None:
        note += f" Heartbeat every {interval:g} ms, declared dead after {timeout:g} ms."
    return Display("Table 3 — execution layer under real process kills", ("figure", "unit", "events", "median",
                   "p95", "p99"), rows, note)


# -- Table 1 and Table 4: the deployment scenarios (harness.analysis.scenario_analysis) ---------------
SCENARIO_NOTE = ("95% CIs: tasks resampled within scenario, paired across conditions; 'all' is task-weighted. "
                 "Each metric is a ratio of task sums (completion per episode, retention per probe, response per "
                 "incident, accuracy per call). Incidents never resolved are censored (at the task's time budget, "
                 "or the fault model's unattended restart for a crash nobody restarted): their means are lower bounds.")


def value_text(x: float, unit: str) -> str:
    if pd.isna(x):
        return "—"
    if x == float("inf"):
        return "∞"
    return pct(x) if unit == "share" else f"{x:.2f}×" if unit == "ratio" else f"{x:.1f}"


def scenario_ci(r, unit: str) -> str:
    if pd.isna(r.estimate):
        return "undefined (0/0)"
    return f"{value_text(r.estimate, unit)} [{value_text(r.low, unit)}, {value_text(r.high, unit)}]"


def table1(est: pd.DataFrame, order: list[str]) -> Display | None:
    """Table 1: every metric (rows) per condition (columns), all scenarios, then the ratios."""
    from harness.analysis.scenario_metrics import METRICS

    rows = _get(est, analysis="table1", category=OVERALL)
    if rows.empty:
        return None
    conds = [c for c in order if c in set(rows.conditions)] or sorted(set(rows.conditions))
    by = rows.set_index(["statistic", "conditions"])
    out = [(m.label, *(scenario_ci(by.loc[(m.name, c)], m.unit) if (m.name, c) in by.index else "—" for c in conds))
           for m in METRICS]
    out += _tco_rows(est, conds)
    native = _get(est, analysis="table4", statistic="native", category=OVERALL)
    if not native.empty:
        out += _ratio_rows(est, native.conditions.iloc[0], conds)
    tasks = int(rows.tasks.max())
    return Display(f"Table 1 — aggregate over all scenarios ({tasks} tasks)", ("metric", *conds), out,
                   SCENARIO_NOTE + " Ratios: native / baseline (incident response: baseline / native); "
                   "∞ where the baseline is 0.")


def money(x: float) -> str:
    return f"${x:,.0f}"


def _tco_rows(est: pd.DataFrame, conds: list[str]) -> list[tuple[str, ...]]:
    """TCO per month (configs/cost/default.yaml prices) per condition, and the native's
    ratio to the cheapest baseline; nothing when the run has no cost estimates."""
    tco = _get(est, analysis="tco", statistic="total", category=OVERALL).set_index("conditions")
    if tco.empty:
        return []
    cell = {c: f"{money(r.estimate)} [{money(r.low)}, {money(r.high)}]" for c, r in tco.iterrows()}
    rows = [("TCO / month", *(cell.get(c, "—") for c in conds))]
    best = _get(est, analysis="tco_ratio", statistic="ratio_best_baseline", category=OVERALL)
    for r in best.itertuples():
        native, base = r.conditions.split("|")
        rows.append((f"TCO {native} ÷ cheapest baseline ({base})", *("" for _ in conds[:-1]),
                     f"{r.estimate:.2f}× [{r.low:.2f}, {r.high:.2f}]"))
    return rows


def roi(est: pd.DataFrame) -> Display | None:
    """The roll-out (report §5): cumulative ROI at the horizon, payback, per-phase payback."""
    rows = _get(est, analysis="roi", category=OVERALL)
    if rows.empty:
        return None
    months = sorted(int(s.split("@")[1]) for s in rows.statistic if s.startswith("roi@"))
    keep = [f"roi@{months[-1]}", f"net_usd@{months[-1]}", "payback_weeks", "steady_multiple"]
    keep += sorted(s for s in rows.statistic if s.startswith("payback_weeks:"))
    by, horizon_weeks = rows.set_index("statistic"), months[-1] * 52 / 12
    out = []
    for stat in (k for k in keep if k in by.index):
        r = by.loc[stat]
        never = stat.startswith("payback") and r.low >= horizon_weeks
        text = "not within the horizon" if never else (f"{_roi_value(stat, r.estimate, horizon_weeks)} "
                                                       f"[{_roi_value(stat, r.low, horizon_weeks)}, "
                                                       f"{_roi_value(stat, r.high, horizon_weeks)}]")
        out.append((stat, r.conditions, text))
    return Display("Roll-out ROI (configs/cost/default.yaml; report §5)", ("statistic", "phase | before", "estimate [95% CI]"),
                   out, "Cumulative ROI multiple and net at the horizon; payback in weeks from the start of the roll-out.")


def _roi_value(stat: str, x: float, horizon_weeks: float) -> str:
    if stat.startswith("net_usd"):
        return money(x)
    if stat.startswith("payback") and x >= horizon_weeks:
        return "not within the horizon"
    return f"{x:.2f}"


def _ratio_rows(est: pd.DataFrame, native: str, conds: list[str]) -> list[tuple[str, ...]]:
    """One row per improvement ratio and baseline; a ratio of two zero rates is not stored
    (0/0) and shows as undefined rather than disappearing."""
    from harness.analysis.scenario_analysis import RATIOS

    ratios = _get(est, analysis="table1_ratio", category=OVERALL).set_index(["statistic", "conditions"])
    out = []
    for name in RATIOS:
        sign = "÷" if name.startswith("incident") else "×"
        for base in (c for c in conds if c != native):
            key = (f"{name}_ratio", f"{native}|{base}")
            text = scenario_ci(ratios.loc[key], "ratio") if key in ratios.index else "undefined (0/0)"
            out.append((f"{name.replace('_', ' ')} {sign} vs {base}", *("" for _ in conds[:-1]), text))
    return out


def table4(est: pd.DataFrame) -> list[Display]:
    """Table 4 (per scenario: the best baseline named, native, improvement, key principles)
    and the leave-one-layer-out losses the principles are derived from."""
    from harness.analysis.scenario_analysis import KEY_THRESHOLD, LAYER_PRINCIPLES, principles_text

    t4 = _get(est, analysis="table4")
    if t4.empty:
        return []
    layers = [s.split(":", 1)[1] for s in sorted(set(t4.statistic)) if s.startswith("loss:")]
    main, losses = [], []
    for cat in _cats(t4):
        sub = t4[t4.category == cat].set_index("statistic")
        base = sub.loc["baseline"]
        gain = scenario_ci(sub.loc["improvement"], "ratio") if "improvement" in sub.index else "undefined (0/0)"
        main.append((cat, base.conditions, scenario_ci(base, "share"), scenario_ci(sub.loc["native"], "share"), gain,
                     principles_text(est, cat)))
        losses.append((cat, *(with_ci(sub.loc[f"loss:{layer}"], pp) for layer in layers)))
    rule = (f"Key principles: those of each layer whose removal costs more than {100 * KEY_THRESHOLD:g} pp of "
            "completion with a CI excluding 0 (" + "; ".join(f"{k} {' '.join(v)}" for k, v in LAYER_PRINCIPLES.items())
            + "), most costly first.")
    out = [Display("Table 4 — per scenario: best baseline, agent-native, improvement, key principles",
                   ("scenario", "baseline", "baseline rate", "native", "improvement", "key principles"), main,
                   SCENARIO_NOTE + " Baseline: the non-native condition with the highest observed completion. " + rule)]
    if layers:
        out.append(Display("Leave-one-layer-out: completion lost when one native layer is replaced (pp)",
                           ("scenario", *layers), losses, rule + " 95% CIs: tasks resampled within scenario, paired across conditions."))
    return out


def scenario_completion(est: pd.DataFrame, order: list[str]) -> Display | None:
    """Completion per scenario (rows) and condition (columns): the report's Figure 3 as a table."""
    rows = _get(est, analysis="table1", statistic="completion")
    if rows.empty:
        return None
    conds = [c for c in order if c in set(rows.conditions)] or sorted(set(rows.conditions))
    by = rows.set_index(["category", "conditions"])
    out = [(f"{cat} ({int(by.loc[(cat, conds[0])].tasks)})", *(with_ci(by.loc[(cat, c)]) for c in conds))
           for cat in _cats(rows)]
    return Display("Completion by scenario (Figure 3)", ("scenario (tasks)", *conds), out, SCENARIO_NOTE)
