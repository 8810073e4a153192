"""Calibration against the report (``harness calibrate``): its targets, read from
``paper/claims.yaml`` only, and what a fitted profile predicts beside what was published.

The claims are targets and yardsticks here, never inputs to a result of a default run:
the fitted profile goes to a file that no config reads (``tests/unit/test_honesty.py``).
Measured values are taken from the estimates ``harness report`` stores for the runs at
the fitted profile (``harness.analysis.report``), keyed by the claim they stand beside,
in the claim's unit, and stored under the design run as analysis ``calibration``.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from harness.analysis.bootstrap import OVERALL
from harness.analysis.calibration import Calibration, Cell
from harness.analysis.scenario_metrics import METRIC
from harness.core.errors import UserInputError
from harness.core.models import EstimateRecord
from harness.paper.claims import Claims
from harness.paper.scenario_section import TABLE1_ROWS
from harness.paper.tables import CATEGORIES, PaperTable

ANALYSIS = "calibration"
ROLES = ("i_opt", "i_human")  # I_opt is the design's treatment, I_human its baseline
TARGET = re.compile(r"^table2\.(?P<category>[a-z_]+)\.(?P<role>i_opt|i_human)$")


def default_targets() -> list[str]:
    return [f"table2.{cat}.{role}" for cat in CATEGORIES for role in ("i_human", "i_opt")]


def targets(ids: list[str], claims: Claims) -> list[Cell]:
    """The target cells of the given claim ids; one that names no claim, or a claim that
    is not a per-category completion under I_human or I_opt, is a user error."""
    cells = []
    for claim_id in ids:
        try:
            claim = claims.get(claim_id)
        except KeyError as exc:  # its text: "no claim 'x'; close ids: [...]"
            detail = str(exc.args[0]).split("; ", 1)
            raise UserInputError(f"calibration target {claim_id!r} names no claim in paper/claims.yaml",
                                 hint=detail[1] if len(detail) > 1 else None) from None
        match = TARGET.match(claim_id)
        if match is None or match["category"] not in CATEGORIES or not isinstance(claim.value, float | int):
            raise UserInputError(f"calibration target {claim_id!r} is not a per-category completion under "
                                 "I_human or I_opt (table2.<category>.i_human / .i_opt)")
        cells.append(Cell(claim_id, match["category"], match["role"], float(claim.value) / 100))
    if len({c.key for c in cells}) != len(cells):
        raise UserInputError(f"calibration targets named twice: {ids}")
    return cells


# -- what the runs at the fitted profile measured, keyed by claim ---------------------------
Measured = dict[str, tuple[float, float, float]]  # claim id -> (estimate, low, high) in the claim's unit


def _rows(est: pd.DataFrame, **match) -> pd.DataFrame:
    for k, v in match.items():
        est = est[est[k] == v]
    return est


def _put(out: Measured, claim_id: str, rows: pd.DataFrame, scale: float) -> None:
    if not rows.empty:
        r = rows.iloc[0]
        out[claim_id] = (scale * r.estimate, scale * r.low, scale * r.high)


def table2_measured(est: pd.DataFrame) -> Measured:
    """Table 2's rates and gaps per category and overall, and the decomposition."""
    out: Measured = {}
    gap = est[est.analysis == "gap"]
    if gap.empty:
        return out
    treatment, baseline = gap.conditions.iloc[0].split("|")
    for cat in (*CATEGORIES, OVERALL):
        prefix = f"table2.{cat}" if cat != OVERALL else "section3.overall"
        _put(out, f"{prefix}.i_human", _rows(est, analysis="completion", conditions=baseline, category=cat), 100)
        _put(out, f"{prefix}.i_opt", _rows(est, analysis="completion", conditions=treatment, category=cat), 100)
        _put(out, f"{prefix}.gap", _rows(gap, category=cat), 100)
    dec = _rows(est, analysis="decomposition", category=OVERALL)
    for factor in ("context", "agency", "observability"):
        _put(out, f"section3.components.{factor}", _rows(dec, statistic=f"shapley:{factor}"), 100)
    _put(out, "section3.components.total", _rows(dec, statistic="gap:gap"), 100)
    return out


def scenario_measured(est: pd.DataFrame) -> Measured:
    """Table 1's rates per condition (all scenarios) and Table 4's per scenario."""
    out: Measured = {}
    t1 = _rows(est, analysis="table1", category=OVERALL)
    for metric, row in TABLE1_ROWS.items():
        scale = 100.0 if METRIC[metric].unit == "share" else 1.0
        for cond in sorted(set(t1.conditions)):
            _put(out, f"table1.{row}.{cond}", _rows(t1, statistic=metric, conditions=cond), scale)
    t4 = est[est.analysis == "table4"]
    for cat in sorted(set(t4.category) - {OVERALL}):
        for stat, column, scale in (("baseline", "baseline", 100), ("native", "agent_native", 100),
                                    ("improvement", "improvement", 1)):
            _put(out, f"table4.{cat}.{column}", _rows(t4, category=cat, statistic=stat), scale)
    return out


def published(claims: Claims, claim_id: str) -> float | None:
    try:
        value = claims.get(claim_id).value
    except KeyError:
        return None
    return float(value) if isinstance(value, int | float) else None


def comparison(measured: Measured, claims: Claims) -> list[tuple[str, str, str, str]]:
    """(claim id, measured [CI], published, inside) for every measured value with a claim."""
    rows = []
    for claim_id, (e, lo, hi) in measured.items():
        value = published(claims, claim_id)
        if value is not None:
            if not math.isfinite(e):  # a ratio over a baseline of 0: no number to put beside the report's
                rows.append((claim_id, "undefined (its denominator is 0)", f"{value:g}", "no"))
                continue
            rows.append((claim_id, f"{e:.1f} [{lo:.1f}, {hi:.1f}]", f"{value:g}", "yes" if lo <= value <= hi else "no"))
    return rows


# -- the store --------------------------------------------------------------------------------
def records(run_id: str, cal: Calibration, cells: list[Cell], tasks: int, verified: Measured) -> list[EstimateRecord]:
    """The calibration as estimate rows of the design run: fitted rates ("rate:<name>"),
    the surrogates' predictions at them ("surrogate:<claim>") and their held-out error
    ("holdout_rmse:<claim>"), and what the runs at the fitted rates measured
    ("verified:<claim>", in the claim's unit)."""
    common = {"run_id": run_id, "analysis": ANALYSIS, "category": OVERALL, "tasks": tasks,
              "resamples": cal.resamples, "seed": cal.seed}
    out = []
    for i, (rate, value) in enumerate(cal.fit.rates.items()):
        ci = cal.intervals[rate]
        out.append(EstimateRecord(**common, statistic=f"rate:{rate}", conditions="identified" if ci.identified
                                  else "not identified", estimate=value, low=ci.low, high=ci.high,
                                  method="percentile (task bootstrap, refit)", se=float(cal.draws[:, i].std())))
    for c in cells:
        low, high = cal.predicted_intervals[c.key]
        out.append(EstimateRecord(**common, statistic=f"surrogate:{c.key}", conditions=c.role,
                                  estimate=cal.fit.predicted[c.key], low=low, high=high,
                                  method="percentile (task bootstrap, refit)", se=0.0))
        rmse = cal.holdout.rmse[c.key]
        out.append(EstimateRecord(**common, statistic=f"holdout_rmse:{c.key}", conditions=c.role, estimate=rmse,
                                  low=rmse, high=rmse, method=f"{cal.holdout.folds}-fold over design points",
                                  se=cal.holdout.noise[c.key]))
    for claim_id, (e, lo, hi) in verified.items():
        out.append(EstimateRecord(**common, statistic=f"verified:{claim_id}", conditions="fitted profile",
                                  estimate=e, low=lo, high=hi, method="run at the fitted profile", se=0.0))
    return out


def calibration_table(est: pd.DataFrame, claims: Claims) -> PaperTable | None:
    """The paper's calibration table: fitted rates with CIs, then each target's surrogate
    prediction and every verified number beside the report's."""
    cal = est[est.analysis == ANALYSIS]
    if cal.empty:
        return None
    rows = []
    for r in cal[cal.statistic.str.startswith("rate:")].itertuples():
        rows.append((r.statistic.removeprefix("rate:"), f"{r.estimate:.3f} [{r.low:.3f}, {r.high:.3f}]", "—",
                     r.conditions))
    for r in cal[cal.statistic.str.startswith("surrogate:")].itertuples():
        claim_id = r.statistic.removeprefix("surrogate:")
        value = published(claims, claim_id)
        rows.append((f"{claim_id} (surrogate)", f"{100 * r.estimate:.1f} [{100 * r.low:.1f}, {100 * r.high:.1f}]",
                     "—" if value is None else f"{value:g}",
                     "—" if value is None else ("yes" if 100 * r.low <= value <= 100 * r.high else "no")))
    verified = {r.statistic.removeprefix("verified:"): (r.estimate, r.low, r.high)
                for r in cal[cal.statistic.str.startswith("verified:")].itertuples()}
    rows += comparison(verified, claims)
    caption = ("Calibration as a consistency test: the error rates fitted to Table 2's per-category completion "
               "(95% task-bootstrap CI), and what runs at the fitted profile measure beside the report")
    return PaperTable("calibration", caption, ("quantity", "fitted / measured [95% CI]", "report", "in CI"), rows)
