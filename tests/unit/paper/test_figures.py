"""The report's figures: files, sizes, what is drawn, and that drawing leaves no global trace."""

import subprocess
import sys
import warnings

import matplotlib
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.patches import Rectangle

from harness.analysis.suite import Analyses, RunPlan, Settings
from harness.paper import figures as F
from harness.paper.style import style

CATS = ["code_modification", "data_analysis", "system_administration"]
CELLS = {"c00": (0, 0), "c01": (0, 1), "c10": (1, 0), "c11": (1, 1)}
RATES = {"c00": 0.3, "c01": 0.45, "c10": 0.6, "c11": 0.9}
EXPECTED_WIDTH = 680  # 3.4 in at 200 dpi: one column of the report


def _episodes(rates: dict[str, float], tasks=24, repeats=3, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for cond, rate in rates.items():
        for t in range(tasks):
            for r in range(repeats):
                calls = int(rng.integers(1, 5))
                rows.append({"condition": cond, "task_id": f"t{t:03d}", "repeat": r, "category": CATS[t % 3],
                             "success": bool(rng.random() < rate), "tool_calls": calls,
                             "tool_calls_accurate": calls, "retention_asked": 0, "retention_correct": 0})
    return pd.DataFrame(rows)


def _estimates(episodes: pd.DataFrame, plan: RunPlan) -> pd.DataFrame:
    records = Analyses("run-test", episodes, plan, Settings(resamples=200, seed=1)).all()
    return pd.DataFrame([r.model_dump() for r in records])


@pytest.fixture(scope="module")
def factorial():
    eps = _episodes(RATES)
    plan = RunPlan(conditions=tuple(RATES), compare=("c11", "c00"), cells=CELLS, factors=("context", "agency"))
    return eps, _estimates(eps, plan)


@pytest.fixture(scope="module")
def pair():
    """Two conditions, no factorial: no decomposition rows."""
    eps = _episodes({"a": 0.8, "b": 0.4})
    return eps, _estimates(eps, RunPlan(conditions=("a", "b"), compare=("a", "b")))


def _assert_written(paths, out_dir, name):
    assert [p.name for p in paths] == [f"{name}.pdf", f"{name}.png"]
    assert all(p.parent == out_dir and p.stat().st_size > 1000 for p in paths)
    assert paths[0].read_bytes()[:4] == b"%PDF"
    height, width = mpimg.imread(paths[1]).shape[:2]
    assert abs(width - EXPECTED_WIDTH) <= 2
    assert height > 0.5 * width  # a real figure, not a sliver


def test_every_figure_is_written_as_pdf_and_png_at_column_width(factorial, tmp_path):
    eps, est = factorial
    _assert_written(F.completion_by_condition(est, tmp_path), tmp_path, "fig_completion")
    _assert_written(F.decomposition_waterfall(est, tmp_path), tmp_path, "fig_decomposition")
    _assert_written(F.pass_k_curves(est, tmp_path), tmp_path, "fig_pass_k")
    _assert_written(F.per_task_gap_distribution(eps, "c11", "c00", tmp_path), tmp_path, "fig_task_gaps")
    assert len(list(tmp_path.iterdir())) == 8


def test_pdf_embeds_truetype_fonts_not_type3(factorial, tmp_path):
    pdf = F.pass_k_curves(factorial[1], tmp_path)[0].read_bytes()
    assert b"/FontFile2" in pdf  # embedded TrueType (pdf.fonttype 42)
    assert b"/Type3" not in pdf


def test_a_run_without_a_decomposition_draws_no_waterfall(pair, tmp_path):
    assert not (pair[1].analysis == "decomposition").any()
    assert F.decomposition_waterfall(pair[1], tmp_path) == []
    assert list(tmp_path.iterdir()) == []
    # ...while the figures that do not need one are still drawn.
    assert F.completion_by_condition(pair[1], tmp_path)


def test_figures_are_byte_identical_when_regenerated(factorial, tmp_path):
    first = F.decomposition_waterfall(factorial[1], tmp_path / "a")
    second = F.decomposition_waterfall(factorial[1], tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_drawing_leaves_the_backend_and_rc_settings_alone(factorial, tmp_path):
    backend, before = matplotlib.get_backend(), dict(matplotlib.rcParams)
    F.completion_by_condition(factorial[1], tmp_path)
    assert matplotlib.get_backend() == backend
    assert dict(matplotlib.rcParams) == before


def test_drawing_never_imports_pyplot(pair, tmp_path):
    """pyplot would pick a global backend; a notebook importing the paper must keep its own."""
    pair[1].to_csv(tmp_path / "est.csv", index=False)
    code = ("import sys, pandas as pd; from pathlib import Path; from harness.paper import figures as F; "
            f"F.completion_by_condition(pd.read_csv({str(tmp_path / 'est.csv')!r}), Path({str(tmp_path)!r})); "
            "assert 'matplotlib.pyplot' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "fig_completion.png").exists()


# -- what is drawn ---------------------------------------------------------------------------
def _bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_completion_bars_are_the_stored_estimates(factorial):
    est = factorial[1]
    with style():
        ax = F.completion_figure(est).axes[0]
    rows = est[est.analysis == "completion"]
    heights = sorted(round(b.get_height(), 9) for b in _bars(ax))
    assert heights == sorted(round(v, 9) for v in rows.estimate)
    assert ax.get_legend_handles_labels()[1] == list(RATES)


def test_claims_are_drawn_as_report_markers_on_their_bar(factorial):
    est = factorial[1]
    claims = {"all|c11": 88.0, "data_analysis|c00": 25.0, "code_modification|c01": 50.0}
    with style():
        ax = F.completion_figure(est, claims=claims).axes[0]
    (report,) = [line for line in ax.lines if line.get_label() == "report"]
    assert report.get_marker() == "D" and report.get_markerfacecolor() == "white"
    assert sorted(report.get_ydata()) == [0.25, 0.5, 0.88]
    # Each marker's x is the centre of the bar of its condition in its category: bars of a
    # condition share its colour; categories are groups at 0, 1, 2, ... with "all" last.
    cats = ["code_modification", "data_analysis", "system_administration", "all"]
    centres = {}
    for i, cond in enumerate(RATES):
        bars = [b for b in _bars(ax) if b.get_facecolor() == matplotlib.colors.to_rgba(F.colour(i))]
        for cat, bar in zip(cats, sorted(bars, key=lambda b: b.get_x()), strict=True):
            centres[f"{cat}|{cond}"] = bar.get_x() + bar.get_width() / 2
    for x, y in zip(report.get_xdata(), report.get_ydata(), strict=True):
        key = next(k for k, v in claims.items() if v / 100 == y)
        assert x == pytest.approx(centres[key])


def test_claims_order_does_not_change_the_figure(factorial, tmp_path):
    claims = {"all|c11": 88.0, "data_analysis|c00": 25.0, "all|c00": 40.0}
    a = F.completion_by_condition(factorial[1], tmp_path / "a", claims=claims)
    b = F.completion_by_condition(factorial[1], tmp_path / "b", claims=dict(reversed(claims.items())))
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_without_claims_there_is_no_report_marker(factorial):
    with style():
        ax = F.completion_figure(factorial[1]).axes[0]
    assert not [line for line in ax.lines if line.get_label() == "report"]


def test_a_claim_for_a_condition_not_in_the_run_warns_and_is_not_drawn(factorial):
    with style(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = F.completion_figure(factorial[1], claims={"all|agent_native": 90.0}).axes[0]
    assert any("all|agent_native" in str(w.message) for w in caught)
    assert not [line for line in ax.lines if line.get_label() == "report"]


def test_waterfall_starts_at_the_baseline_and_lands_on_the_treatment(factorial):
    est = factorial[1]
    overall = est[(est.analysis == "completion") & (est.category == "all")].set_index("conditions").estimate
    with style():
        fig = F.decomposition_figure(est)
    top, bottom = fig.subfigs[0].axes[0], fig.subfigs[1].axes[0]
    bars = _bars(top)
    assert len(bars) == 2 + 2  # baseline, two Shapley steps, treatment
    assert bars[0].get_height() == pytest.approx(overall["c00"])
    assert bars[-1].get_height() == pytest.approx(overall["c11"])
    # Each step starts where the previous one ended, and the last lands on the treatment's
    # rate (Shapley values sum exactly to the gap).
    for prev, step in zip(bars[:-2], bars[1:-1], strict=True):
        assert step.get_y() == pytest.approx(prev.get_y() + prev.get_height())
    assert bars[-2].get_y() + bars[-2].get_height() == pytest.approx(overall["c11"])
    # One interaction for two factors, drawn below.
    inter = est[(est.analysis == "decomposition") & (est.category == "all")
                & est.statistic.str.startswith("interaction:")]
    assert [b.get_width() for b in _bars(bottom)] == pytest.approx(list(inter.estimate))


def test_waterfall_does_not_depend_on_row_order(factorial, tmp_path):
    est = factorial[1]
    a = F.decomposition_waterfall(est, tmp_path / "a")
    b = F.decomposition_waterfall(est.iloc[::-1], tmp_path / "b")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_pass_k_has_one_curve_and_one_band_per_condition(factorial):
    est = factorial[1]
    with style():
        ax = F.pass_k_figure(est).axes[0]
    assert [line.get_label() for line in ax.lines] == list(RATES)
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == len(RATES)
    # pass^k never rises with k: the curves drawn are the stored, monotone estimates.
    for line in ax.lines:
        y = np.asarray(line.get_ydata())
        assert len(y) == 3 and np.all(np.diff(y) <= 1e-12)


def test_task_gap_panels_cover_every_task_once_per_panel(factorial):
    eps = factorial[0]
    with style():
        fig = F.task_gap_figure(eps, "c11", "c00")
    counts = [sum(b.get_height() for b in _bars(ax)) for ax in fig.axes]
    per_cat = eps[eps.condition == "c00"].groupby("category").task_id.nunique()
    assert counts == [*per_cat.sort_index().tolist(), eps.task_id.nunique()]


def test_task_gaps_refuse_an_unpaired_run():
    eps = _episodes({"a": 0.5, "b": 0.5}, tasks=6)
    with pytest.raises(ValueError, match="lack episodes"):
        F.task_gaps(eps[~((eps.condition == "b") & (eps.task_id == "t002"))], "a", "b")
    with pytest.raises(ValueError, match="no episodes under c"):
        F.task_gaps(eps, "a", "c")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), ra=st.floats(0, 1), rb=st.floats(0, 1))
def test_per_task_gaps_average_to_the_task_weighted_gap(seed, ra, rb):
    eps = _episodes({"a": ra, "b": rb}, tasks=9, repeats=4, seed=seed)
    gaps = F.task_gaps(eps, "a", "b")
    means = eps.groupby("condition").success.mean()
    assert len(gaps) == 9
    assert gaps.gap.mean() == pytest.approx(means["a"] - means["b"])
    assert gaps.gap.between(-1, 1).all()
    assert np.allclose(gaps.gap * 4, np.round(gaps.gap * 4))  # multiples of 1/repeats


# -- issue 20: what a reviewer reads off each figure -------------------------------------------
def _has_data(ax) -> bool:
    return bool(ax.lines or ax.patches or ax.collections)


def test_pass_k_with_one_repeat_draws_pass_1_and_says_why_there_is_no_curve():
    eps = _episodes({"a": 0.8, "b": 0.4}, repeats=1)
    est = _estimates(eps, RunPlan(conditions=("a", "b"), compare=("a", "b")))
    assert set(est[est.analysis == "pass_k"].statistic.str.split("=").str[1]) == {"1"}  # only k = 1 exists
    with style():
        fig = F.pass_k_figure(est)
    (ax,) = fig.axes
    assert _has_data(ax)
    # One point per condition at the stored pass^1, with its CI as a whisker.
    stored = est[(est.analysis == "pass_k") & (est.category == "all") & (est.statistic == "pass^k=1")]
    ys = sorted(y for line in ax.lines for y in line.get_ydata() if line.get_marker() in F.MARKERS)  # not caps
    assert ys == pytest.approx(sorted(stored.estimate))
    assert len(ax.collections) == 2  # the two conditions' whiskers
    note = fig.get_supxlabel()
    assert "k > 1" in note and "repeats" in note


def test_pass_k_with_repeats_draws_no_note(factorial):
    with style():
        fig = F.pass_k_figure(factorial[1])
    assert fig.get_supxlabel() == ""


def test_task_gap_ticks_are_whole_numbers_of_tasks():
    eps = _episodes({"a": 0.7, "b": 0.4}, tasks=9, repeats=1, seed=3)  # panels of 3 tasks: 0.5 steps by default
    with style():
        fig = F.task_gap_figure(eps, "a", "b")
        FigureCanvasAgg(fig).draw()
    for ax in fig.axes:
        ticks = ax.get_yticks()
        assert np.allclose(ticks, np.round(ticks)), ticks


def _segments_px(ax) -> list[np.ndarray]:
    segs = []
    for coll in ax.collections:
        if isinstance(coll, LineCollection):
            segs += [ax.transData.transform(np.asarray(seg)) for seg in coll.get_segments()]
    return segs


def _crosses(seg: np.ndarray, box) -> bool:
    """A vertical whisker segment (x fixed) meets a text's box."""
    (x0, y0), (x1, y1) = seg
    lo, hi = min(y0, y1), max(y0, y1)
    return box.x0 <= x0 <= box.x1 and lo <= box.y1 and hi >= box.y0


@pytest.mark.parametrize("rates", [RATES, {"c00": 0.5, "c01": 0.2, "c10": 0.8, "c11": 0.55}])
def test_waterfall_labels_clear_every_error_bar(rates):
    """Positive and negative steps, wide CIs: no step label is crossed by a whisker."""
    eps = _episodes(rates, tasks=12, repeats=2, seed=7)
    plan = RunPlan(conditions=tuple(rates), compare=("c11", "c00"), cells=CELLS, factors=("context", "agency"))
    est = _estimates(eps, plan)
    with style():
        fig = F.decomposition_figure(est)
        FigureCanvasAgg(fig).draw()
    top = fig.subfigs[0].axes[0]
    renderer = fig.canvas.get_renderer()
    labels = [t for t in top.texts if t.get_text().startswith(("+", "-", "−"))]
    assert len(labels) == 2
    segments = _segments_px(top)
    assert segments
    for text in labels:
        box = text.get_window_extent(renderer)
        assert not any(_crosses(seg, box) for seg in segments), text.get_text()
        assert box.y1 <= top.get_window_extent(renderer).y1 + 1  # inside the axes, not cut at the top


def test_a_decomposition_without_interactions_draws_no_empty_panel(factorial):
    est = factorial[1]
    est = est[~est.statistic.str.startswith("interaction:")]
    with style():
        fig = F.decomposition_figure(est)
    assert fig.axes and all(_has_data(ax) and ax.axison for ax in fig.axes)
    assert len(fig.axes) == 1
