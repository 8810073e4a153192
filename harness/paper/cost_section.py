"""The cost part of the paper: the TCO table beside Table 1's TCO row, the sensitivity
figure (TCO ratio treatment / cheapest baseline as the hourly rate and the infrastructure
price vary), the roll-out ROI table beside §5's claims and the ROI figure with its band,
and the cost model's parameters as rows for the methods section.

Claims are looked up by the condition's name only to put the report's number beside the
measurement it is compared with (labelling); nothing is computed from them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.analysis.bootstrap import OVERALL
from harness.analysis.cost_model import WEEKS_PER_MONTH, CostModel, load_cost_model
from harness.analysis.cost_tornado import tornado
from harness.analysis.roi import roi_band, roi_estimates
from harness.analysis.tco import baselines_of, sensitivity, tco_estimates
from harness.analysis.validity import analysable
from harness.paper.claims import Claim, Claims
from harness.paper.runs import pick_run
from harness.paper.style import NEGATIVE, NEUTRAL, POSITIVE, colour, new_figure, save, style
from harness.paper.tables import PaperTable
from harness.paper.tex import tex_escape
from harness.store import reader

TCO_EXPERIMENTS = ("table4", "table1", "phases")  # best first
ROI_EXPERIMENTS = ("phases",)
HOURLY_RATES = tuple(float(r) for r in np.linspace(20, 200, 19))  # USD/h, the sensitivity's x axis
INFRA_SCALES = (0.5, 1.0, 2.0, 4.0)  # multipliers of every infrastructure price


# -- claims beside measurements ---------------------------------------------------------------
def _claim(claims: Claims, claim_id: str) -> Claim | None:
    try:
        return claims.get(claim_id)
    except KeyError:
        return None


def _reported(claim: Claim | None) -> str:
    if claim is None:
        return "—"
    if claim.value is not None:
        return f"{claim.value:g}" if not isinstance(claim.value, str) else claim.value
    return f"{claim.low:g}–{claim.high:g}"


def _inside(claim: Claim | None, low: float, high: float) -> str:
    """A value inside the CI, or a claimed range overlapping it."""
    if claim is None or isinstance(claim.value, str):
        return "—"
    lo = claim.value if claim.value is not None else (claim.low if claim.low is not None else -np.inf)
    hi = claim.value if claim.value is not None else (claim.high if claim.high is not None else np.inf)
    return "yes" if lo <= high and hi >= low else "no"


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _measured(row: pd.Series, fmt=_money) -> str:
    return f"{fmt(row.estimate)} [{fmt(row.low)}, {fmt(row.high)}]"


# -- TCO ------------------------------------------------------------------------------------
def tco_table(est: pd.DataFrame, claims: Claims, n_agents: int) -> PaperTable | None:
    """Per condition: TCO/month for N agents [95% CI] and its parts, beside Table 1's TCO."""
    rows_all = est[(est.analysis == "tco") & (est.category == OVERALL)]
    if rows_all.empty:
        return None
    by = rows_all.set_index(["conditions", "statistic"])
    rows = []
    for cond in sorted(rows_all.conditions.unique()):
        total = by.loc[(cond, "total")]
        claim = _claim(claims, f"table1.tco.{cond}")
        parts = [_money(by.loc[(cond, p)].estimate) for p in ("infrastructure", "compute", "human")]
        rows.append((cond, _measured(total), *parts, _reported(claim), _inside(claim, total.low, total.high)))
    for r in est[(est.analysis == "tco_ratio") & (est.category == OVERALL)].itertuples():
        label = f"ratio {r.conditions.replace('|', ' / ')}" + (" (cheapest baseline)"
                                                             if r.statistic == "ratio_best_baseline" else "")
        rows.append((label, f"{r.estimate:.2f} [{r.low:.2f}, {r.high:.2f}]", "", "", "", "—", "—"))
    header = ("condition", "TCO USD/month [95% CI]", "infrastructure", "compute", "human", "report", "in CI")
    caption = (f"TCO per month for {n_agents} agents (configs/cost/default.yaml prices, measured episodes; "
               "task-bootstrap CI) beside Table 1's TCO row")
    return PaperTable("tco", caption, header, rows)


def sensitivity_figure(grid: pd.DataFrame, treatment: str, base_rate: float) -> Figure | None:
    """TCO ratio treatment / cheapest baseline against the hourly rate, one line per
    infrastructure price multiplier; the band is the 95% interval at the configured prices."""
    if grid.empty:
        return None
    fig, ax = new_figure(2.4)
    for i, (scale, sub) in enumerate(grid.groupby("infra_scale", sort=True)):
        sub, c = sub.sort_values("hourly_rate_usd"), colour(i if i < 3 else i + 1)  # skip yellow on white
        if scale == 1.0:
            ax.fill_between(sub.hourly_rate_usd, sub.low, sub.high, color=c, alpha=0.2, linewidth=0)
        ax.plot(sub.hourly_rate_usd, sub.ratio, color=c, label=f"infra ×{scale:g}")
    ax.axhline(1.0, color=NEUTRAL, linewidth=0.6, linestyle="--")
    ax.axvline(base_rate, color=NEUTRAL, linewidth=0.6, linestyle=":")
    ax.set_xlabel("hourly rate of human time (USD)")
    ax.set_ylabel("TCO ratio")
    ax.set_ylim(bottom=0)
    ax.set_title(f"TCO {treatment} / cheapest baseline")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), handlelength=1.2, columnspacing=0.8)
    return fig


def tornado_figure(frame: pd.DataFrame, treatment: str, top: int = 10) -> Figure | None:
    """The TCO ratio with one price at a time at ×0.5 and ×2 (the ``top`` largest swings),
    around the ratio at the configured prices."""
    rows = frame[frame.swing > 0].head(top).iloc[::-1]
    if rows.empty:
        return None
    fig, ax = new_figure(0.3 * len(rows) + 1.2)
    base = float(frame.base.iloc[0])
    for y, r in enumerate(rows.itertuples()):
        ax.plot([r.ratio_low, r.ratio_high], [y, y], color=NEUTRAL, linewidth=0.8, zorder=1)
        ax.scatter([r.ratio_low], [y], color=colour(0), s=14, zorder=2, label="price ×0.5" if y == 0 else None)
        ax.scatter([r.ratio_high], [y], color=colour(1), s=14, zorder=2, label="price ×2" if y == 0 else None)
    ax.axvline(base, color=NEUTRAL, linewidth=0.6, linestyle=":")
    ax.axvline(1.0, color=NEUTRAL, linewidth=0.6, linestyle="--")
    ax.set_yticks(range(len(rows)), [_short(p) for p in rows.parameter])
    ax.set_xlabel("TCO ratio")
    ax.set_xlim(left=0)
    ax.set_title("One price at a time")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), handlelength=1.2)
    return fig


def _short(path: str) -> str:
    """``infrastructure.layers.memory.tiered`` -> ``memory.tiered``; ``human.hourly_rate_usd``
    -> ``hourly_rate_usd``: the name a reader finds in configs/cost/default.yaml."""
    parts = path.split(".")
    return ".".join(parts[2:]) if parts[:2] == ["infrastructure", "layers"] else parts[-1]


# -- ROI ------------------------------------------------------------------------------------
def roi_table(est: pd.DataFrame, claims: Claims, model: CostModel) -> PaperTable | None:
    roi = est[(est.analysis == "roi") & (est.category == OVERALL)].set_index("statistic")
    if roi.empty:
        return None
    h = model.rollout.horizon_months
    last = model.rollout.phases[-1]
    rows = []
    specs = [
        (f"roi@{h}", f"ROI multiple at month {h} (savings / spend)", "section5.roi.median", lambda x: f"{x:.2f}"),
        ("payback_weeks", "payback of the whole roll-out (weeks)", None, lambda x: f"{x:.1f}"),
        ("steady_multiple", "monthly savings / extra infrastructure once all is live", None, lambda x: f"{x:.1f}"),
        (f"gain_usd_per_month:{last.name}", f"savings per month once {last.condition} is live (USD, {model.n_agents} agents)",
         "section5.cost.savings", _money),
        (f"infra_usd_per_month:{last.name}", f"infrastructure per month under {last.condition} (USD, {model.n_agents} agents)",
         "section5.cost.spend", _money),
    ]
    specs += [(f"payback_weeks:{p.name}", f"payback of phase {i + 1} ({p.name}) after go-live (weeks)",
               "section5.payback.phase1" if i == 0 else None, lambda x: f"{x:.1f}")
              for i, p in enumerate(model.rollout.phases)]
    for stat, label, claim_id, fmt in specs:
        if stat not in roi.index:
            continue
        r = roi.loc[stat]
        claim = _claim(claims, claim_id) if claim_id else None
        rows.append((label, _measured(r, fmt), _reported(claim), _inside(claim, r.low, r.high)))
    caption = (f"Roll-out over {h} months: {model.rollout.baseline} then "
               + ", ".join(f"{p.condition} ({p.weeks:g} weeks)" for p in model.rollout.phases)
               + "; measured completion and cost, task-bootstrap CI; a payback equal to the horizon means none")
    return PaperTable("roi", caption, ("quantity", "measured [95% CI]", "report", "in CI"), rows)


def roi_figure(band: pd.DataFrame, model: CostModel) -> Figure | None:
    """Cumulative ROI multiple by month with its 95% band; dotted lines where phases go live."""
    if band.empty:
        return None
    fig, ax = new_figure(2.4)
    ok = band[np.isfinite(band.roi)]
    ax.fill_between(ok.month, ok.roi_low, ok.roi_high, color=POSITIVE, alpha=0.2, linewidth=0, label="95% band")
    ax.plot(ok.month, ok.roi, color=POSITIVE, marker="o", markersize=2.5, label="cumulative ROI")
    ax.axhline(1.0, color=NEGATIVE, linewidth=0.6, linestyle="--", label="break-even")
    live = np.cumsum([p.weeks for p in model.rollout.phases]) / WEEKS_PER_MONTH
    for month, phase in zip(live, model.rollout.phases, strict=True):
        ax.axvline(month, color=NEUTRAL, linewidth=0.6, linestyle=":")
        ax.text(month, 1.0, f" {phase.condition}", transform=ax.get_xaxis_transform(), fontsize=6,
                rotation=90, va="top", ha="right", color=NEUTRAL)
    ax.set_xlim(0, model.rollout.horizon_months + 0.5)
    ax.set_xticks(range(0, model.rollout.horizon_months + 1, 2))
    ax.set_xlabel("month of the roll-out")
    ax.set_ylabel("cumulative savings / spend (×)")
    ax.set_title("Phased roll-out: cumulative ROI")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, handlelength=1.2, columnspacing=0.8)
    return fig


# -- methods --------------------------------------------------------------------------------
def parameter_rows(model: CostModel) -> list[tuple[str, str]]:
    """(parameter, value) for every price and setting of the cost model, in config order."""
    rows: list[tuple[str, str]] = [("agents (N)", str(model.n_agents)),
                                   ("tasks per agent-month", f"{model.usage.tasks_per_agent_month:g}"),
                                   ("compute per action (no tokens reported)", f"{model.compute.usd_per_action:g} USD")]
    h = model.human
    rows += [("hourly rate of human time", f"{h.hourly_rate_usd:g} USD"),
             ("per approval", f"{h.minutes_per_approval:g} min"),
             ("per unrecovered crash (incident)", f"{h.minutes_per_incident:g} min"),
             ("rework per failed task", f"{h.rework_minutes_per_failure:g} min"),
             ("relay per action, by loop (unless the spec states it)",
              ", ".join(f"{k} {v:g} min" for k, v in h.relay_minutes_by_loop.items()))]
    infra = model.infrastructure
    rows.append(("infrastructure base per agent-month", f"{infra.base_usd_per_agent_month:g} USD"))
    rows += [(f"{layer} layer per agent-month", ", ".join(f"{v} {p:g} USD" for v, p in variants.items()))
             for layer, variants in infra.layers.items()]
    r = model.rollout
    rows += [("roll-out", f"baseline {r.baseline}, horizon {r.horizon_months} months, value per completed task "
                          f"{r.value_per_completed_task_usd:g} USD")]
    rows += [(f"phase {i + 1}: {p.name}", f"{p.condition}, {p.weeks:g} weeks, {p.engineer_hours:g} engineer-hours "
                                          f"+ {p.one_off_usd:g} USD one-off") for i, p in enumerate(r.phases)]
    return rows


def methods_markdown(model: CostModel) -> str:
    lines = ["| cost parameter | value |", "|---|---|"]
    return "\n".join(lines + [f"| {k} | {v} |" for k, v in parameter_rows(model)]) + "\n"


def methods_tex(model: CostModel) -> str:
    """An itemize block for the methods section (sources are in configs/cost/default.yaml)."""
    items = [rf"\item \textbf{{{tex_escape(k)}}}: {tex_escape(v)}" for k, v in parameter_rows(model)]
    return "\n".join([r"\paragraph{Cost model} Prices and their sources: configs/cost/default.yaml; "
                      r"measured inputs from the episodes.", r"\begin{itemize}", *items, r"\end{itemize}"])


# -- entry point ----------------------------------------------------------------------------
def treatment_of(info: dict) -> str:
    """The run's compared treatment (its ``compare``), else its first condition: config."""
    config = info.get("config") or {}
    if config.get("compare"):
        return str(config["compare"][0])
    names = [c["name"] if isinstance(c, dict) else str(c) for c in config.get("conditions") or []]
    if not names:
        raise ValueError(f"run {info.get('id')} names no conditions")
    return names[0]


def build_cost(db: str, run_ids: list[str], out_dir: Path, claims: Claims, *, model: CostModel | None = None,
               resamples: int = 2_000) -> list[Path]:
    """Write tables/tco, figures/fig_tco_sensitivity (from a table1 run, or the first run
    given) and tables/roi, figures/fig_roi (from a run holding the roll-out's conditions);
    return the paths written. Runs that cannot make a part are skipped, not errors."""
    model = model or load_cost_model()
    out_dir, files = Path(out_dir), []
    tco_run, roi_run = cost_runs(db, run_ids, model)
    if tco_run is not None:
        files += _tco_parts(db, tco_run, out_dir, claims, model, resamples)
    if roi_run is not None:
        files += _roi_parts(db, roi_run, out_dir, claims, model, resamples)
    return files


def cost_runs(db: str, run_ids: list[str], model: CostModel) -> tuple[str | None, str | None]:
    """The runs the TCO part and the ROI part are priced from (None: no such part)."""
    tco_run = pick_run(db, list(run_ids), TCO_EXPERIMENTS)
    need = {model.rollout.baseline, *(p.condition for p in model.rollout.phases)}
    roi_run = pick_run(db, list(run_ids), ROI_EXPERIMENTS, need)
    if roi_run is not None and not need <= set(reader.conditions(db, roi_run)):
        roi_run = None
    return tco_run, roi_run


def _tco_parts(db: str, run_id: str, out: Path, claims: Claims, model: CostModel, resamples: int) -> list[Path]:
    info, specs = reader.run_info(db, run_id), reader.conditions(db, run_id)
    episodes, _ = analysable(reader.episodes(db, run_id))
    if episodes.empty:
        return []
    seed, treatment = int(info.get("seed") or 0), treatment_of(info)
    present = sorted(set(episodes.condition))
    compared = treatment in present and bool(baselines_of(specs, treatment, present))
    est = pd.DataFrame([r.model_dump() for r in tco_estimates(episodes, specs, model, seed=seed, resamples=resamples,
                                                               treatment=treatment if compared else None)])
    files = []
    table = tco_table(est, claims, model.n_agents)
    if table is not None:
        files += table.write(out / "tables")
    if compared:  # a ratio needs a treatment and something to compare it with
        grid = sensitivity(episodes, specs, model, treatment, HOURLY_RATES, INFRA_SCALES, seed=seed,
                           resamples=resamples)
        with style():
            fig = sensitivity_figure(grid, treatment, model.human.hourly_rate_usd)
            files += [] if fig is None else save(fig, out / "figures", "fig_tco_sensitivity")
            swings = tornado(episodes, specs, model, treatment)
            fig = tornado_figure(swings, treatment)
            files += [] if fig is None else save(fig, out / "figures", "fig_tco_tornado")
    return files


def _roi_parts(db: str, run_id: str, out: Path, claims: Claims, model: CostModel, resamples: int) -> list[Path]:
    info, specs = reader.run_info(db, run_id), reader.conditions(db, run_id)
    episodes, _ = analysable(reader.episodes(db, run_id))
    seed = int(info.get("seed") or 0)
    est = pd.DataFrame([r.model_dump() for r in roi_estimates(episodes, specs, model, seed=seed, resamples=resamples)])
    files = []
    table = roi_table(est, claims, model)
    if table is not None:
        files += table.write(out / "tables")
    with style():
        fig = roi_figure(roi_band(episodes, specs, model, seed=seed, resamples=resamples), model)
        files += [] if fig is None else save(fig, out / "figures", "fig_roi")
    return files
