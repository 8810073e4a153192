"""Table 3 from exec_perf rows: quantiles per figure, the settings used, the claims beside."""

import numpy as np
import pandas as pd
import pytest

from harness.analysis.exec_perf import quantiles, setting
from harness.paper.claims import load_claims
from harness.paper.tables import table3


def _perf(seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [{"event": "checkpoint", "metric": "checkpoint_write_ms", "value": v} for v in rng.gamma(2, 2, 300)]
    rows += [{"event": "checkpoint", "metric": "checkpoint_bytes", "value": v} for v in rng.integers(1e5, 1e6, 300)]
    rows += [{"event": "kill", "metric": "detection_ms", "value": v} for v in rng.uniform(100, 300, 40)]
    rows += [{"event": "kill", "metric": "recovery_ms", "value": v} for v in rng.gamma(3, 5, 40)]
    rows += [{"event": "config", "metric": "heartbeat_interval_ms", "value": 100.0},
             {"event": "config", "metric": "heartbeat_timeout_ms", "value": 250.0}]
    return pd.DataFrame(rows).assign(run_id="r", condition=None, task_id=None, repeat=None)


def test_quantiles_are_numpys_over_each_figure_in_its_shown_unit():
    perf = _perf()
    q = quantiles(perf).set_index("metric")
    ck = perf[perf.metric == "checkpoint_write_ms"].value
    assert q.loc["checkpoint_write_ms", "median"] == pytest.approx(np.percentile(ck, 50))
    assert q.loc["checkpoint_write_ms", "p99"] == pytest.approx(np.percentile(ck, 99))
    size = perf[perf.metric == "checkpoint_bytes"].value
    assert q.loc["checkpoint_bytes", "p95"] == pytest.approx(np.percentile(size, 95) / 1e6)  # MB
    assert q.loc["detection_ms", "n"] == 40
    assert "effects_applied_twice" not in q.index  # a figure with no events is not invented
    assert setting(perf, "heartbeat_timeout_ms") == 250.0 and setting(perf, "nope") is None


def test_paper_table3_puts_the_report_beside_in_the_shown_unit():
    claims = load_claims()
    t = table3(_perf(), claims)
    rows = {r[0]: r for r in t.rows}
    recovery = rows["Recovery time"]
    p95_report = claims.get("table3.recovery_time.p95")
    assert p95_report.unit == "s"
    assert float(recovery[6]) == pytest.approx(p95_report.value * 1000)  # seconds shown as ms
    assert float(rows["Checkpoint latency"][4]) == claims.get("table3.checkpoint_latency.median").value
    assert "heartbeat 100 ms, timeout 250 ms" in t.caption
