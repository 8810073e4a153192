"""The regression gate: pairing, refusal of incomparable runs, and the verdict."""

import numpy as np
import pandas as pd
import pytest

from harness.analysis.regression import NotComparable, check_comparable, compare, regressed

CATS = ["code_modification", "code_review", "data_analysis", "system_administration"]


def _run(rate_by_condition: dict[str, float], tasks=40, repeats=3, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for cond, rate in rate_by_condition.items():
        for t in range(tasks):
            for r in range(repeats):
                calls = int(rng.integers(0, 5))
                rows.append({"condition": cond, "task_id": f"t{t:03d}", "repeat": r, "category": CATS[t % 4],
                             "success": bool(rng.random() < rate), "tool_calls": calls,
                             "tool_calls_accurate": calls})
    return pd.DataFrame(rows)


def test_a_run_compared_with_itself_shows_no_difference():
    a = _run({"x": 0.7, "y": 0.4})
    rows = compare(a, a.copy(), resamples=500)
    assert all(r.diff == 0 and r.low == 0 and r.high == 0 for r in rows)
    assert not regressed(rows)
    assert {r.condition for r in rows} == {"x", "y", "(all conditions)"}


def test_a_clearly_worse_run_fails_the_gate_and_a_better_one_does_not():
    a = _run({"x": 0.8})
    worse = a.assign(success=False)
    better = a.assign(success=True)
    assert [r.condition for r in regressed(compare(a, worse, resamples=500))] == ["x", "(all conditions)"]
    assert not regressed(compare(a, better, resamples=500))


def test_a_drop_inside_the_margin_is_not_a_regression():
    a = _run({"x": 0.5}, tasks=200)
    b = a.copy()
    flip = b.index[b.success][:6]  # 6 of 600 episodes: a 1-point drop
    b.loc[flip, "success"] = False
    rows = compare(a, b, margin=0.02, resamples=2000)
    overall = next(r for r in rows if r.condition == "x" and r.category == "all")
    assert overall.diff == pytest.approx(-0.01)
    assert not overall.regression


def test_unpaired_runs_and_different_workloads_are_refused_with_what_differs():
    a = _run({"x": 0.5})
    b = a[~((a.task_id == "t003") & (a.repeat == 2))]
    with pytest.raises(NotComparable, match=r"1 episode\(s\) only in A, e.g. \('x', 't003', 2\)"):
        check_comparable(a, b, "h", "h")
    with pytest.raises(NotComparable, match="different workloads"):
        check_comparable(a, a, "h1", "h2")
    check_comparable(a, a.copy(), "h", "h")


def test_accuracy_metric_pairs_the_same_way():
    a = _run({"x": 0.5})
    b = a.assign(tool_calls_accurate=0)
    rows = compare(a, b, metric="accuracy", resamples=500)
    assert regressed(rows)
    with pytest.raises(ValueError, match="unknown metric"):
        compare(a, b, metric="vibes")
