"""The report's figures, drawn from stored estimates (never recomputed here).

Every function takes the ``estimates`` frame of one run (the rows ``harness report``
stored, see ``EstimateRecord``), writes ``<out_dir>/<name>.pdf`` and ``.png`` and returns
the paths it wrote; each ``*_figure`` builds the same figure without writing it.
Conditions are ordered by name unless an order is given: names only label and order
marks, they never decide what is drawn.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from harness.analysis.bootstrap import OVERALL
from harness.paper.style import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    colour,
    new_figure,
    percent_axis,
    points_axis,
    save,
    style,
)

CLAIM_SEP = "|"  # claims are keyed "<category>|<condition>"
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*")
DODGE = 0.04  # k-offset between neighbouring conditions' pass^k curves


# -- selection helpers ---------------------------------------------------------------------
def _rows(est: pd.DataFrame, analysis: str) -> pd.DataFrame:
    return est[est.analysis == analysis]


def _categories(frame: pd.DataFrame) -> list[str]:
    """Categories alphabetically, the task-weighted overall last (as in the tables)."""
    return sorted(frame.category.unique(), key=lambda c: (c == OVERALL, c))


def _conditions(frame: pd.DataFrame, order: list[str] | None) -> list[str]:
    present = set(frame.conditions)
    ordered = [c for c in order or [] if c in present]
    return ordered + sorted(present - set(ordered))


def _label(category: str) -> str:
    return category.replace("_", " ")


def _errors(rows: pd.DataFrame) -> np.ndarray:
    """Asymmetric error-bar lengths; clipped at 0 because a BCa interval can exclude its
    own point estimate, and matplotlib refuses negative lengths."""
    below = (rows.estimate - rows.low).clip(lower=0)
    above = (rows.high - rows.estimate).clip(lower=0)
    return np.vstack([below.to_numpy(float), above.to_numpy(float)])


def _write(out_dir: Path, name: str, build: Callable[..., Figure | None], *args, **kwargs) -> list[Path]:
    """Build and save inside the report style (rc settings are read both when artists are
    made and when they are rendered); a builder with nothing to draw writes nothing."""
    with style():
        fig = build(*args, **kwargs)
        return [] if fig is None else save(fig, out_dir, name)


def _legend_below(fig, ax, ncol: int) -> None:
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, handlelength=1.2, columnspacing=0.8)


# -- completion by condition -----------------------------------------------------------------
def completion_by_condition(est: pd.DataFrame, out_dir: Path, *, claims: dict[str, float] | None = None,
                            order: list[str] | None = None) -> list[Path]:
    """Completion rate per category (groups) and condition (bars), 95% CI whiskers; where
    ``claims`` gives the report's value (percent) for "<category>|<condition>", a white
    diamond on that bar shows it. Name: fig_completion."""
    return _write(out_dir, "fig_completion", completion_figure, est, claims=claims, order=order)


def completion_figure(est: pd.DataFrame, *, claims: dict[str, float] | None = None,
                      order: list[str] | None = None) -> Figure | None:
    rows = _rows(est, "completion")
    if rows.empty:
        return None
    cats, conds = _categories(rows), _conditions(rows, order)
    by = rows.set_index(["category", "conditions"])
    width = 0.8 / len(conds)
    offsets = {c: (i - (len(conds) - 1) / 2) * width for i, c in enumerate(conds)}
    fig, ax = new_figure(2.4 + 0.16 * ((len(conds) + 1) // 2))
    for i, cond in enumerate(conds):
        sub = by.xs(cond, level="conditions").reindex(cats)
        xs = np.arange(len(cats)) + offsets[cond]
        ax.bar(xs, sub.estimate, width, color=colour(i), label=cond, yerr=_errors(sub),
               error_kw={"elinewidth": 0.6, "ecolor": "black"})
    _claim_markers(ax, claims or {}, cats, offsets)
    ax.set_xticks(np.arange(len(cats)), [_label(c) for c in cats], rotation=25, ha="right",
                  rotation_mode="anchor")
    ax.set_ylim(0, 1.02)  # room for a marker at 100%
    ax.set_yticks(np.linspace(0, 1, 6))
    percent_axis(ax.yaxis)
    ax.set_ylabel("completion rate (%)")
    ax.set_title("Completion by category and condition")
    _legend_below(fig, ax, ncol=2 if len(conds) > 4 else len(conds) + bool(claims))
    return fig


def _claim_markers(ax, claims: dict[str, float], cats: list[str], offsets: dict[str, float]) -> None:
    """One Line2D (label "report") holding every claimed value that matches a drawn bar, each
    at its bar's centre: beside it, a marker of a dense group reads as the neighbour's."""
    xs, ys, unmatched = [], [], []
    for key, value in sorted(claims.items()):  # callers' dict order must not change the bytes
        cat, _, cond = key.partition(CLAIM_SEP)
        if cat not in cats or cond not in offsets:
            unmatched.append(key)
            continue
        xs.append(cats.index(cat) + offsets[cond])
        ys.append(value / 100)
    if unmatched:
        warnings.warn(f"claims without a bar in this run (not drawn): {', '.join(sorted(unmatched))}",
                      stacklevel=4)
    if xs:
        # White face, black edge: visible on every bar colour, the black one included.
        ax.add_line(Line2D(xs, ys, linestyle="none", marker="D", markersize=3.5, markerfacecolor="white",
                           markeredgecolor="black", markeredgewidth=0.7, label="report", zorder=5))


# -- gap decomposition ------------------------------------------------------------------------
def decomposition_waterfall(est: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Overall gap as a waterfall: baseline rate, one step per Shapley component (with its
    CI), treatment rate; below it, the interaction terms with their CIs. Name:
    fig_decomposition; nothing (``[]``) for a run without a decomposition."""
    return _write(out_dir, "fig_decomposition", decomposition_figure, est)


def decomposition_figure(est: pd.DataFrame) -> Figure | None:
    dec = _rows(est, "decomposition")
    dec = dec[dec.category == OVERALL]
    if dec.empty:
        return None
    treatment, baseline = dec.conditions.iloc[0].split("|")
    stats = dec.set_index("statistic")
    rates = _rows(est, "completion")
    rates = rates[rates.category == OVERALL].set_index("conditions")
    # Orders from the values and names, not from row order (the store sorts rows its own way):
    # largest step first; interactions by order (pairs before triples), then name.
    shapley = sorted((s for s in stats.index if s.startswith("shapley:")),
                     key=lambda s: (-stats.loc[s, "estimate"], s))
    inter = sorted((s for s in stats.index if s.startswith("interaction:")), key=lambda s: (s.count("×"), s))
    lower_in = 0.9 + 0.2 * len(inter) if inter else 0.0  # no interaction terms: no empty panel
    fig = new_figure(2.6 + lower_in, subplots=False)
    # Two subfigures, so the interaction labels do not squeeze the waterfall's axes.
    upper, lower = fig.subfigures(2, 1, height_ratios=[2.6, lower_in]) if inter else (fig, None)
    top = upper.subplots()
    _waterfall(top, rates.loc[baseline], rates.loc[treatment], stats.loc[shapley])
    top.set_xlabel(f"{baseline} → {treatment}")
    if lower is not None:
        _interactions(lower.subplots(), stats.loc[inter])
    upper.suptitle("Gap decomposition (Shapley, all tasks)")
    return fig


def _waterfall(ax, base: pd.Series, end: pd.Series, steps: pd.DataFrame) -> None:
    labels = ["baseline", *(f"+{s.split(':', 1)[1]}" for s in steps.index), "treatment"]
    ends = [(0.0, base.estimate)]
    level = base.estimate
    for value in steps.estimate:
        ends.append((level, level + value))
        level += value
    ends.append((0.0, end.estimate))
    colours = [NEUTRAL] + [POSITIVE if v >= 0 else NEGATIVE for v in steps.estimate] + [NEUTRAL]
    x = np.arange(len(labels))
    ax.bar(x, [hi - lo for lo, hi in ends], bottom=[lo for lo, _ in ends], color=colours, width=0.6)
    # Whiskers at each bar's top: a step's CI is its component's CI, shifted to where it lands.
    tops = np.array([hi for _, hi in ends])
    err_rows = pd.DataFrame([base, *(r for _, r in steps.iterrows()), end])
    errors = _errors(err_rows)
    ax.errorbar(x, tops, yerr=errors, fmt="none", ecolor="black", elinewidth=0.6)
    # A step's label sits above both its bar and its whisker's upper end (the whisker may
    # reach past the bar, above or below it), so no label is crossed by an error bar.
    clear = np.maximum(np.array([max(lo, hi) for lo, hi in ends]), tops + errors[1])
    for xi, (lo, hi) in zip(x[1:-1], ends[1:-1], strict=True):
        ax.annotate(f"{100 * (hi - lo):+.1f}", (xi, clear[xi]), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom")
        # connector from the previous bar's level
        ax.plot([xi - 1 + 0.3, xi - 0.3], [lo, lo], color=NEUTRAL, linewidth=0.5)
    ax.plot([x[-2] + 0.3, x[-1] - 0.3], [ends[-2][1]] * 2, color=NEUTRAL, linewidth=0.5)
    ax.set_xticks(x, labels, rotation=30, ha="right", rotation_mode="anchor")
    ax.set_ylim(0, max(1.0, float(clear.max())) + 0.12)  # headroom for a label above a whisker at 100%
    ax.set_yticks(np.linspace(0, 1, 6))
    percent_axis(ax.yaxis)
    ax.set_ylabel("completion rate (%)")


def _interactions(ax, terms: pd.DataFrame) -> None:
    y = np.arange(len(terms))[::-1]
    colours = [POSITIVE if v >= 0 else NEGATIVE for v in terms.estimate]
    ax.barh(y, terms.estimate, color=colours, height=0.6, xerr=_errors(terms),
            error_kw={"elinewidth": 0.6, "ecolor": "black"})
    ax.axvline(0, color="black", linewidth=0.5)
    ax.set_yticks(y, [s.split(":", 1)[1] for s in terms.index])
    points_axis(ax.xaxis)
    ax.set_xlabel("interaction (pp)")


# -- reliability ---------------------------------------------------------------------------
def pass_k_curves(est: pd.DataFrame, out_dir: Path, *, order: list[str] | None = None) -> list[Path]:
    """pass^k against k per condition (all tasks), 95% CI bands. Name: fig_pass_k."""
    return _write(out_dir, "fig_pass_k", pass_k_figure, est, order=order)


def pass_k_figure(est: pd.DataFrame, *, order: list[str] | None = None) -> Figure | None:
    rows = _rows(est, "pass_k")
    rows = rows[(rows.category == OVERALL) & rows.statistic.str.startswith("pass^k=")]
    if rows.empty:
        return None
    rows = rows.assign(k=rows.statistic.str.split("=").str[1].astype(int)).sort_values("k")
    conds = _conditions(rows, order)
    if rows.k.nunique() < 2:
        return _pass_one_figure(rows, conds)
    fig, ax = new_figure(2.4 + 0.16 * ((len(conds) + 1) // 2))
    for i, cond in enumerate(conds):
        sub = rows[rows.conditions == cond]
        # Conditions with equal curves would hide each other: dodge them slightly along k
        # and give each its own marker, so every one stays visible.
        k = sub.k + (i - (len(conds) - 1) / 2) * DODGE
        ax.plot(k, sub.estimate, marker=MARKERS[i % len(MARKERS)], markersize=3, color=colour(i), label=cond)
        ax.fill_between(k, sub.low, sub.high, color=colour(i), alpha=0.15, linewidth=0)
    ax.set_xticks(sorted(rows.k.unique()))
    ax.set_xlabel("k (attempts, all must succeed)")
    ax.set_ylim(0, 1)
    percent_axis(ax.yaxis)
    ax.set_ylabel("pass^k (%)")
    ax.set_title("Reliability over repeated attempts")
    _legend_below(fig, ax, ncol=2 if len(conds) > 3 else len(conds))
    return fig


def _pass_one_figure(rows: pd.DataFrame, conds: list[str]) -> Figure:
    """One k (a run of one repeat per task): no curve to draw, and bands over a single k are
    invisible, so pass^1 per condition as points with 95% CI whiskers, and a note saying why
    there is nothing for k > 1."""
    k = int(rows.k.iloc[0])
    fig, ax = new_figure(2.4)
    by = rows.set_index("conditions")
    for i, cond in enumerate(conds):
        r = by.loc[[cond]]
        ax.errorbar([i], r.estimate, yerr=_errors(r), fmt=MARKERS[i % len(MARKERS)], markersize=3.5,
                    color=colour(i), ecolor="black", elinewidth=0.6)
    ax.set_xticks(np.arange(len(conds)), conds, rotation=30, ha="right", rotation_mode="anchor")
    ax.set_xlim(-0.6, len(conds) - 0.4)
    ax.set_ylim(0, 1.02)
    percent_axis(ax.yaxis)
    ax.set_ylabel(f"pass^{k} (%)")
    ax.set_title(f"Reliability: pass^{k} per condition")
    fig.supxlabel(f"pass^k for k > {k} needs more than {k} repeat{'s' * (k > 1)} per task:\n"
                  f"run with repeats ≥ {k + 1} to draw the curve over k.", fontsize=7)
    return fig


# -- per-task gaps --------------------------------------------------------------------------
def task_gaps(episodes: pd.DataFrame, treatment: str, baseline: str) -> pd.DataFrame:
    """Per task: mean success under ``treatment`` minus under ``baseline`` (columns
    category, task_id, gap). Unpaired tasks are an error, as in the analyses."""
    means = episodes.pivot_table(index=["category", "task_id"], columns="condition", values="success",
                                 aggfunc="mean")
    missing = {treatment, baseline} - set(means.columns)
    if missing:
        raise ValueError(f"no episodes under {', '.join(sorted(missing))}")
    pair = means[[treatment, baseline]]
    if pair.isna().any().any():
        raise ValueError(f"{int(pair.isna().any(axis=1).sum())} task(s) lack episodes in one of the pair")
    return (pair[treatment].astype(float) - pair[baseline].astype(float)).rename("gap").reset_index()


def _gap_bins(episodes: pd.DataFrame) -> np.ndarray:
    """One bin per attainable gap: with r repeats a task's gap is a multiple of 1/r."""
    r = int(episodes.groupby(["task_id", "condition"]).size().max())
    return (np.arange(-r, r + 2) - 0.5) / r


def per_task_gap_distribution(episodes: pd.DataFrame, treatment: str, baseline: str,
                              out_dir: Path) -> list[Path]:
    """Histogram of per-task gaps, one panel per category and one for all tasks, with the
    mean gap marked: shows whether a gap is broad or carried by a few tasks. Name:
    fig_task_gaps."""
    return _write(out_dir, "fig_task_gaps", task_gap_figure, episodes, treatment, baseline)


def task_gap_figure(episodes: pd.DataFrame, treatment: str, baseline: str) -> Figure:
    gaps = task_gaps(episodes, treatment, baseline)
    panels = [(c, gaps[gaps.category == c].gap) for c in sorted(gaps.category.unique())]
    panels.append((OVERALL, gaps.gap))
    bins = _gap_bins(episodes)
    fig, axes = new_figure(0.3 + 0.75 * len(panels), nrows=len(panels), sharex=True, squeeze=False)
    for ax, (cat, values) in zip(axes[:, 0], panels, strict=True):
        ax.hist(values, bins=bins, color=POSITIVE if cat != OVERALL else NEUTRAL, rwidth=0.85)
        ax.axvline(0, color="black", linewidth=0.5)
        ax.axvline(values.mean(), color=NEGATIVE, linewidth=0.9, linestyle="--", label="mean")
        title = f"{_label(cat)}: {len(values)} tasks, mean {100 * values.mean():+.1f} pp"
        ax.set_title(title, loc="left", fontsize=8)
        ax.set_ylabel("tasks")
        ax.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))  # counts: never "2.5 tasks"; few, on a short panel
    points_axis(axes[-1, 0].xaxis)
    axes[-1, 0].set_xlim(-1.05, 1.05)
    axes[-1, 0].set_xlabel(f"per-task gap {treatment} − {baseline} (pp)")
    return fig
