"""`harness calibrate` end to end on a tiny workload: design run, fit, verification runs,
the profile file, the stored calibration, and a second call that reuses the design run."""

import pytest
import yaml

from harness.agents.profile import RATES, AgentProfile
from harness.paper.calibration import ANALYSIS, calibration_table
from harness.paper.claims import load_claims
from harness.store import reader
from tests.conftest import run_cli

pytestmark = pytest.mark.slow


def test_calibrate_fits_stores_verifies_and_reuses_its_design_run(tmp_path):
    store, out = tmp_path / "c.duckdb", tmp_path / "fitted.yaml"
    args = ["calibrate", "--store", str(store), "--out", str(out), "--tasks", "6", "--design", "4",
            "--resamples", "20", "--workers", "1"]
    first = run_cli(*args, timeout=900)
    assert first.returncode == 0, first.stderr[-2000:]
    doc = yaml.safe_load(out.read_text())
    profile = AgentProfile(**doc["profile"])  # a valid profile, usable by `harness run --agent-profile`
    assert all(0 <= getattr(profile, r) <= 0.5 for r in RATES) and profile.error_scale == 1
    design = doc["calibration"]["design_run"]
    assert set(doc["calibration"]["verification_runs"]) == {"table2", "table4"}
    est = reader.estimates(store, design, analysis=ANALYSIS)
    assert {f"rate:{r}" for r in RATES} <= set(est.statistic)
    assert est.statistic.str.startswith("verified:table2.").any()
    assert calibration_table(est, load_claims()).rows
    runs = reader.list_runs(store)
    assert {"calibration_design", "calibration_table2", "calibration_table4"} <= set(runs.experiment)
    assert "table2" not in set(runs.experiment)  # never taken for the report's own Table 2 run

    again = run_cli(*args[:-2], "--no-verify", "--workers", "1", timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "0 episodes executed" in again.stderr
    assert yaml.safe_load(out.read_text())["calibration"]["design_run"] == design
