"""The report's §7 from stored estimates: Table 1, Table 4 and Figure 3 (completion by
scenario), each measured value with its 95% CI beside the report's claim.

Everything here reads the ``table1``, ``table1_ratio`` and ``table4`` estimates that
``harness report`` stores (``harness.analysis.scenario_analysis``); when a run has none yet
they are computed and stored the way ``harness report`` does (``harness.analysis.report``).
Condition names only label rows and look up the report's column of the same name in
``paper/claims.yaml``; they never decide what is computed or drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from harness.analysis.bootstrap import OVERALL
from harness.analysis.report import scenario_estimates_for
from harness.analysis.scenario_analysis import RATIOS, principles_text
from harness.analysis.scenario_metrics import METRIC
from harness.paper.claims import Claims
from harness.paper.style import colour, new_figure, percent_axis, save, style
from harness.paper.tables import Cell, PaperTable

# Table 1's rows as the claims name them (claim id: table1.<row>.<condition>).
TABLE1_ROWS = {"completion": "task_completion", "retention": "cross_session_retention",
               "incident_response": "incident_response", "tool_call_accuracy": "tool_call_accuracy"}
# The ratios the report quotes, and against which baseline it computed each (claims' notes).
RATIO_CLAIMS = {("completion_ratio", "chatbot"): "abstract.reliability_ratio",
                ("incident_response_ratio", "chatbot"): "abstract.incident_response_ratio",
                ("retention_ratio", "api_chain"): "abstract.retention_ratio"}


class RatioCell(Cell):
    """A ratio near 1 needs two decimals to be told apart from 1."""

    def measured(self) -> str:
        if self.estimate is None:
            return "—"
        return f"{self.estimate:.2f} [{self.low:.2f}, {self.high:.2f}]"


def _claim(claims: Claims, claim_id: str) -> float | str | None:
    try:
        return claims.get(claim_id).value
    except KeyError:
        return None


def _scaled(row: pd.Series | None, scale: float) -> tuple[float | None, float | None, float | None]:
    if row is None:
        return None, None, None
    return scale * row.estimate, scale * row.low, scale * row.high


def _one(est: pd.DataFrame, **match) -> pd.Series | None:
    rows = est
    for k, v in match.items():
        rows = rows[rows[k] == v]
    return None if rows.empty else rows.iloc[0]


def _order(est: pd.DataFrame, order: list[str] | None) -> list[str]:
    present = set(est[est.analysis == "table1"].conditions)
    return [c for c in order or [] if c in present] + sorted(present - set(order or []))


def _rank(order: list[str] | None, name: str) -> tuple[int, str]:
    return ((order or []).index(name) if name in (order or []) else len(order or []), name)


def table1(est: pd.DataFrame, claims: Claims, order: list[str] | None = None) -> PaperTable | None:
    """Table 1 (all scenarios): each metric per condition, then the quoted ratios."""
    t1 = est[(est.analysis == "table1") & (est.category == OVERALL)]
    if t1.empty:
        return None
    rows = []
    for metric, claim_row in TABLE1_ROWS.items():
        scale = 100.0 if METRIC[metric].unit == "share" else 1.0
        for cond in _order(est, order):
            cell = Cell(cond, *_scaled(_one(t1, statistic=metric, conditions=cond), scale),
                        _claim(claims, f"table1.{claim_row}.{cond}"))
            rows.append((METRIC[metric].label.strip(), cond, cell.measured(), cell.reported(), cell.inside))
    rows += _tco_rows(est, claims, order)
    ratios = est[(est.analysis == "table1_ratio") & (est.category == OVERALL)]
    for r in sorted(ratios.itertuples(), key=lambda r: (RATIOS.index(r.statistic.removesuffix("_ratio")),
                                                        _rank(order, r.conditions.split("|")[1]))):
        native, base = r.conditions.split("|")
        cell = RatioCell(r.statistic, r.estimate, r.low, r.high,
                         _claim(claims, RATIO_CLAIMS.get((r.statistic, base), "")))
        rows.append((r.statistic.replace("_", " "), f"{native} vs {base}", cell.measured(), cell.reported(),
                     cell.inside))
    caption = ("Table 1 reproduced: all scenarios, measured with 95% task-bootstrap CI (stratified by scenario, "
               "paired), beside the report; percent, minutes, or times (ratios); incident means with censored "
               "incidents are lower bounds")
    return PaperTable("table1", caption, ("metric", "condition", "measured [95% CI]", "report", "in CI"), rows)


def _tco_rows(est: pd.DataFrame, claims: Claims, order: list[str] | None) -> list[tuple[str, ...]]:
    """Table 1's cost row: TCO per month (USD, N agents of the cost model), when the run's
    estimates include it (``harness report`` prices scenario runs with configs/cost/)."""
    tco = est[(est.analysis == "tco") & (est.statistic == "total") & (est.category == OVERALL)]
    rows = []
    for cond in _order(est, order):
        r = _one(tco, conditions=cond)
        if r is not None:
            cell = Cell(cond, round(r.estimate), round(r.low), round(r.high), _claim(claims, f"table1.tco.{cond}"))
            rows.append(("TCO / month (USD)", cond, f"{cell.estimate:,} [{cell.low:,}, {cell.high:,}]",
                         cell.reported(), cell.inside))
    return rows


def table4(est: pd.DataFrame, claims: Claims) -> PaperTable | None:
    """Table 4 for every scenario: best baseline (named), native, improvement, key principles."""
    t4 = est[est.analysis == "table4"]
    if t4.empty:
        return None
    rows = []
    for cat in sorted(set(t4.category), key=lambda c: (c == OVERALL, c)):
        sub, prefix = t4[t4.category == cat], f"table4.{cat}"
        base = _one(sub, statistic="baseline")
        cells = [Cell("baseline", *_scaled(base, 100.0), _claim(claims, f"{prefix}.baseline")),
                 Cell("native", *_scaled(_one(sub, statistic="native"), 100.0), _claim(claims, f"{prefix}.agent_native")),
                 RatioCell("improvement", *_scaled(_one(sub, statistic="improvement"), 1.0),
                      _claim(claims, f"{prefix}.improvement"))]
        principles = principles_text(est, cat)
        published = _claim(claims, f"{prefix}.key_principles")
        rows.append((cat.replace("_", " "), base.conditions if base is not None else "—",
                     *(x for c in cells for x in (c.measured(), c.reported(), c.inside)),
                     principles, published if published is not None else "—", agreement(principles, published)))
    header = ("scenario", "baseline is", "baseline", "report", "in CI", "native", "report", "in CI", "improvement",
              "report", "in CI", "key principles", "report", "agree")
    caption = ("Table 4 reproduced for every scenario: completion (%) of the best non-native condition and of "
               "agent-native, their ratio, and the key principles derived from leave-one-layer-out losses")
    return PaperTable("table4", caption, header, rows)


def agreement(measured: str, published: object) -> str:
    """Set comparison of two principle lists ("P1, P2, P5"): order is not a claim."""
    if not isinstance(published, str) or measured == "not measured":
        return "—"
    ours = {p.strip() for p in measured.split(",") if p.strip().startswith("P")}
    theirs = {p.strip() for p in published.split(",") if p.strip()}
    if ours == theirs:
        return "same"
    shared = sorted(ours & theirs)
    return f"shared: {', '.join(shared)}" if shared else "none shared"


# -- Figure 3 --------------------------------------------------------------------------------
def completion_by_scenario(est: pd.DataFrame, out_dir: Path, *, claims: Claims | None = None,
                           order: list[str] | None = None) -> list[Path]:
    """Completion per scenario (rows) and condition (bars) with 95% CI whiskers; hollow
    diamonds mark the report's Table 1 completion on the "all" row. Name: fig_scenarios."""
    with style():
        fig = completion_by_scenario_figure(est, claims=claims, order=order)
        return [] if fig is None else save(fig, out_dir, "fig_scenarios")


def completion_by_scenario_figure(est: pd.DataFrame, *, claims: Claims | None = None,
                                  order: list[str] | None = None) -> Figure | None:
    rows = est[(est.analysis == "table1") & (est.statistic == "completion")]
    if rows.empty:
        return None
    cats = sorted(set(rows.category), key=lambda c: (c == OVERALL, c), reverse=True)  # "all" at the bottom
    conds = _order(est, order)
    by = rows.set_index(["category", "conditions"])
    height = 0.8 / len(conds)
    fig, ax = new_figure(0.9 + 0.28 * len(cats))
    for i, cond in enumerate(conds):
        sub = by.xs(cond, level="conditions").reindex(cats)
        ys = np.arange(len(cats)) + (len(conds) - 1 - 2 * i) * height / 2
        err = np.vstack([(sub.estimate - sub.low).clip(lower=0), (sub.high - sub.estimate).clip(lower=0)])
        ax.barh(ys, sub.estimate, height, color=colour(i), label=cond, xerr=err,
                error_kw={"elinewidth": 0.5, "ecolor": "black"})
    _report_markers(ax, claims, conds, cats, height)
    ax.set_yticks(np.arange(len(cats)), [c.replace("_", " ") for c in cats])
    ax.set_xlim(0, 1.02)
    percent_axis(ax.xaxis)
    ax.set_xlabel("task completion (%)")
    ax.set_title("Completion by scenario")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 3), handlelength=1.2,
               columnspacing=0.8)
    return fig


def _report_markers(ax, claims: Claims | None, conds: list[str], cats: list[str], height: float) -> None:
    if claims is None or OVERALL not in cats:
        return
    xs, ys = [], []
    for i, cond in enumerate(conds):
        value = _claim(claims, f"table1.task_completion.{cond}")
        if isinstance(value, int | float):
            xs.append(value / 100)
            ys.append(cats.index(OVERALL) + (len(conds) - 1 - 2 * i) * height / 2)
    if xs:
        ax.add_line(Line2D(xs, ys, linestyle="none", marker="D", markersize=3.5, markerfacecolor="none",
                           markeredgecolor="black", markeredgewidth=0.7, label="report", zorder=5))


# -- entry point -------------------------------------------------------------------------------
def build_scenarios(db: str, run_id: str, out_dir: Path, claims: Claims) -> list[Path]:
    """Table 1, Table 4 (``<out_dir>/tables``) and Figure 3 (``<out_dir>/figures``) of one
    table1 run; nothing for a run without scenario estimates."""
    from harness.store import reader

    est = scenario_estimates_for(db, run_id)
    config = reader.run_info(db, run_id).get("config") or {}
    order = [c["name"] for c in config.get("conditions", [])]
    files: list[Path] = []
    for table in (table1(est, claims, order), table4(est, claims)):
        if table is not None:
            files += table.write(Path(out_dir) / "tables")
    files += completion_by_scenario(est, Path(out_dir) / "figures", claims=claims, order=order)
    return files
