"""The sensitivity study's statistics on synthetic task tables whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.analysis.report import sensitivity_design
from harness.analysis.sensitivity import linear_map, sensitivity_records, sensitivity_table

CONFIG = {"compare": ["agent_native@base", "human@base"], "arms": {"baseline": True, "settings": [
    {"name": "latency", "set": {"layers.security.config.latency_median_minutes": [5.0, 240.0],
                                "layers.security.config.latency_p90_minutes": [26.7, 1280.0]}, "source": "none"},
    {"name": "crash_rate", "set": {"faults.crash_rate": [0.0, 0.05]}, "source": "this file"}]}}

# gap (agent_native - human) per arm: base 0.3, latency 0.1 -> 0.5, crash_rate 0.3 -> 0.25
HUMAN = {"base": 0.6, "latency=low": 0.8, "latency=high": 0.4, "crash_rate=low": 0.6, "crash_rate=high": 0.6}
NATIVE = {"base": 0.9, "latency=low": 0.9, "latency=high": 0.9, "crash_rate=low": 0.9, "crash_rate=high": 0.85}


def episodes(tasks: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for t in range(tasks):
        offset = rng.uniform(-0.05, 0.05)
        for arm in HUMAN:
            for cond, value in (("human", HUMAN[arm]), ("agent_native", NATIVE[arm])):
                rows.append({"task_id": f"t{t}", "category": ("x", "y")[t % 2], "condition": f"{cond}@{arm}",
                             "repeat": 0, "success": value + offset})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    design = sensitivity_design(CONFIG)
    est = pd.DataFrame([r.model_dump() for r in sensitivity_records("r", design, episodes(), resamples=300)])
    return sensitivity_table(est, design)


def test_the_design_reads_pair_arms_ranges_and_sources_from_the_config():
    design = sensitivity_design(CONFIG)
    assert (design.treatment, design.baseline, design.base_arm) == ("agent_native", "human", "base")
    latency = design.settings[0]
    assert latency.arms == ("latency=low", "latency=high")
    assert latency.end_text(0) == "5.0, 26.7" and latency.source == "none"


def test_each_setting_has_its_gap_at_both_ends_and_the_swing_between(table):
    latency = table.set_index("setting").loc["latency"]
    assert (latency.low, latency.high, latency.swing) == pytest.approx((0.1, 0.5, 0.4))
    assert latency.base == pytest.approx(0.3)
    # paired: the task offsets cancel, so the swing's interval is the point
    assert (latency.swing_ci_low, latency.swing_ci_high) == pytest.approx((0.4, 0.4))


def test_settings_are_sorted_by_the_size_of_their_swing(table):
    assert list(table.setting) == ["latency", "crash_rate"]
    assert table.swing.iloc[1] == pytest.approx(-0.05)


def test_the_swing_is_high_minus_low_in_every_resample():
    design = sensitivity_design(CONFIG)
    stats = linear_map(design, design.columns())
    m = stats.matrix()
    for s in design.settings:
        rows = [stats.names.index(f"{s.name}:{p}") for p in ("low", "high", "swing")]
        np.testing.assert_allclose(m[rows[1]] - m[rows[0]], m[rows[2]])
