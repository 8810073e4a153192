"""The skill and sensitivity figures and table render from stored-style estimates."""

from __future__ import annotations

import pandas as pd

from harness.analysis.report import sensitivity_design, skill_design
from harness.analysis.sensitivity import sensitivity_records, sensitivity_table
from harness.analysis.skill import skill_records, skill_tables
from harness.paper.arm_section import sensitivity_tornado_figure, skill_figure, skill_table
from harness.paper.captions import CAPTIONS
from harness.paper.style import save, style
from tests.unit.analysis import test_sensitivity as sens
from tests.unit.analysis import test_skill as sk


def _frame(records) -> pd.DataFrame:
    return pd.DataFrame([r.model_dump() for r in records])


def test_skill_figure_and_table_render(tmp_path):
    tables = skill_tables(_frame(skill_records("r", skill_design(sk.config()), sk.episodes(sk.linear_in_scale),
                                               resamples=100)))
    with style():
        files = save(skill_figure(tables), tmp_path, "fig_skill")
    assert all(p.exists() and p.stat().st_size > 1000 for p in files)
    fig = skill_figure(tables)
    top, bottom = fig.axes
    assert len(top.collections) == 2  # the two bands
    assert len(bottom.lines) == 1 + 3 + 1  # gap, three components, the zero line
    md = skill_table(tables).markdown()
    assert "error_scale 0" in md and "slope" in md and "slip_rate off" in md
    assert "fig_skill" in CAPTIONS


def test_sensitivity_tornado_has_one_bar_per_setting_largest_swing_on_top(tmp_path):
    design = sensitivity_design(sens.CONFIG)
    frame = sensitivity_table(_frame(sensitivity_records("r", design, sens.episodes(), resamples=100)), design)
    with style():
        fig = sensitivity_tornado_figure(frame)
        files = save(fig, tmp_path, "fig_sensitivity_tornado")
    assert all(p.exists() and p.stat().st_size > 1000 for p in files)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["crash rate", "latency"]  # drawn bottom-up: the largest swing last, at the top
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"5.0, 26.7", "240.0, 1280.0", "0.0", "0.05"} <= texts
    assert "fig_sensitivity_tornado" in CAPTIONS
