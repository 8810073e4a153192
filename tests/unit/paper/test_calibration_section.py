"""What a run at the fitted profile measured, keyed by the claim it stands beside, and the
paper's calibration table built from stored rows."""

import numpy as np
import pandas as pd

from harness.analysis.calibration import Calibration, Cell, Fit, Holdout, Interval
from harness.paper.calibration import calibration_table, comparison, records, table2_measured
from harness.paper.claims import load_claims


def est_rows(rows):
    cols = ["analysis", "statistic", "conditions", "category", "estimate", "low", "high"]
    return pd.DataFrame(rows, columns=cols)


def test_table2_measured_keys_rates_gaps_and_components_by_claim_in_percent():
    est = est_rows([
        ("gap", "gap", "opt|hum", "code_review", 0.4, 0.3, 0.5),
        ("completion", "completion", "hum", "code_review", 0.3, 0.25, 0.35),
        ("completion", "completion", "opt", "code_review", 0.7, 0.65, 0.75),
        ("completion", "completion", "opt", "all", 0.8, 0.7, 0.9),
        ("decomposition", "shapley:context", "", "all", 0.2, 0.1, 0.3),
        ("decomposition", "gap:gap", "", "all", 0.45, 0.4, 0.5),
    ])
    got = table2_measured(est)
    assert got["table2.code_review.i_human"] == (30.0, 25.0, 35.0)
    assert got["table2.code_review.i_opt"] == (70.0, 65.0, 75.0)
    assert got["table2.code_review.gap"] == (40.0, 30.0, 50.0)
    assert got["section3.overall.i_opt"] == (80.0, 70.0, 90.0)
    assert got["section3.components.context"] == (20.0, 10.0, 30.0)
    assert got["section3.components.total"] == (45.0, 40.0, 50.0)
    assert "table2.data_analysis.i_opt" not in got


def test_comparison_says_whether_the_published_value_is_inside():
    claims = load_claims()
    value = claims.get("table2.code_review.i_opt").value
    rows = dict((r[0], r[3]) for r in comparison({"table2.code_review.i_opt": (value, value - 1, value + 1),
                                                  "table2.code_review.i_human": (0.0, -1.0, 1.0),
                                                  "no.such.claim": (1.0, 0.0, 2.0)}, claims))
    assert rows == {"table2.code_review.i_opt": "yes", "table2.code_review.i_human": "no"}


def test_stored_records_make_the_calibration_table():
    cells = [Cell("table2.code_review.i_opt", "code_review", "i_opt", 0.7)]
    cal = Calibration(Fit({"slip_rate": 0.1, "note_lapse_rate": 0.3}, 0.5, {cells[0].key: 0.69}),
                      Holdout({cells[0].key: 0.03}, {cells[0].key: 0.02}, 4),
                      {"slip_rate": Interval(0.05, 0.15, True), "note_lapse_rate": Interval(0.0, 0.5, False)},
                      {cells[0].key: (0.6, 0.8)}, 20, 0.95, 0, 0.5, np.zeros((20, 2)))
    frame = pd.DataFrame([r.model_dump() for r in records("run", cal, cells, 10, {"table2.code_review.gap": (1, 0, 2)})])
    table = calibration_table(frame, load_claims())
    labels = [r[0] for r in table.rows]
    assert set(labels[:2]) == {"slip_rate", "note_lapse_rate"}
    assert "table2.code_review.i_opt (surrogate)" in labels and "table2.code_review.gap" in labels
    assert dict((r[0], r[3]) for r in table.rows)["note_lapse_rate"] == "not identified"
    assert calibration_table(frame[frame.analysis != "calibration"], load_claims()) is None


def test_an_infinite_ratio_is_said_to_be_undefined_not_printed_as_inf():
    claims = load_claims()
    (row,) = comparison({"table4.refactoring.improvement": (float("inf"), float("inf"), float("inf"))}, claims)
    assert row[1].startswith("undefined") and row[3] == "no" and "inf" not in row[1]
