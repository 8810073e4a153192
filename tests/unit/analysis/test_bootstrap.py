"""The stratified paired task bootstrap: scipy agreement, seeding, jointness, fallbacks, errors."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.analysis.bootstrap import (
    METHOD_BCA,
    METHOD_DEGENERATE,
    METHOD_PERCENTILE,
    METHOD_SINGLE_TASK,
    OVERALL,
    StratifiedBootstrap,
    TaskTable,
    estimates_frame,
)


def _table(values, strata) -> TaskTable:
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    return TaskTable(tuple(f"t{i}" for i in range(len(values))), tuple(strata),
                     tuple(f"c{j}" for j in range(values.shape[1])), values)


def _by(estimates, category, statistic="value"):
    (match,) = [e for e in estimates if e.category == category and e.statistic == statistic]
    return match


def _rates(n: int, seed: int, repeats: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.binomial(repeats, rng.beta(2, 3, size=n)) / repeats


def _gap(m):
    return m[..., [1]] - m[..., [0]]


# --- 1. against scipy.stats.bootstrap (independent draws: agreement within Monte-Carlo error)
# With B = 10,000 the sd of a 2.5% bootstrap quantile is ~0.7% of the 95% interval's width
# (normal approximation), so two independent runs differ by ~1% of the width; BCa's
# adjusted levels add a little more. 0.1 of the width is > 7 sd of that noise yet far below
# the error of a wrong centre or scale.
TOLERANCE = 0.1


@pytest.mark.parametrize(("ours", "theirs"), [("bca", "BCa"), ("percentile", "percentile")])
def test_single_mean_agrees_with_scipy(ours, theirs):
    x = _rates(60, seed=1)
    table = _table(x, ["only"] * 60)
    result = StratifiedBootstrap(table.strata, resamples=10_000, seed=7).estimate(table, lambda m: m, method=ours)
    mine = _by(result, "only")
    ref = stats.bootstrap((x,), np.mean, method=theirs, n_resamples=10_000, rng=np.random.default_rng(8))
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert abs(mine.low - ref.confidence_interval.low) < TOLERANCE * width
    assert abs(mine.high - ref.confidence_interval.high) < TOLERANCE * width
    assert mine.method == (METHOD_BCA if ours == "bca" else METHOD_PERCENTILE)
    assert mine.se == pytest.approx(ref.standard_error, rel=0.05)
    # One stratum: OVERALL is that stratum, resample for resample.
    whole = _by(result, OVERALL)
    assert (whole.estimate, whole.low, whole.high) == pytest.approx((mine.estimate, mine.low, mine.high), abs=1e-12)


@pytest.mark.parametrize(("ours", "theirs"), [("bca", "BCa"), ("percentile", "percentile")])
def test_paired_gap_agrees_with_scipy(ours, theirs):
    a = _rates(80, seed=2)
    b = np.clip(a + np.random.default_rng(3).choice([0.0, 0.2, 0.4], size=80), 0, 1)
    table = _table(np.column_stack([a, b]), ["only"] * 80)
    mine = _by(StratifiedBootstrap(table.strata, 10_000, seed=9).estimate(table, _gap, method=ours), "only")
    ref = stats.bootstrap((a, b), lambda a, b, axis=-1: b.mean(axis=axis) - a.mean(axis=axis), paired=True,
                          method=theirs, n_resamples=10_000, rng=np.random.default_rng(10))
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert mine.estimate == pytest.approx(b.mean() - a.mean(), abs=1e-12)
    assert abs(mine.low - ref.confidence_interval.low) < TOLERANCE * width
    assert abs(mine.high - ref.confidence_interval.high) < TOLERANCE * width


# --- the resampling contract


def test_resampled_means_follow_the_documented_seeding():
    strata = ["b"] * 7 + ["a"] * 5 + ["b"] * 3
    values = np.random.default_rng(0).normal(size=(15, 2))
    boot = StratifiedBootstrap(strata, resamples=50, seed=11)
    means = boot.stratum_means(values)
    rng = np.random.default_rng(11)
    labels = np.array(strata)
    for h in ("a", "b"):  # sorted order, one integers() draw per stratum
        x = values[labels == h]
        idx = rng.integers(0, len(x), size=(50, len(x)))
        np.testing.assert_allclose(means[h], x[idx].mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(means[OVERALL], (5 * means["a"] + 10 * means["b"]) / 15, rtol=1e-12)


def test_tasks_keep_their_columns_together():
    # Column 1 is column 0 plus one, task by task: a paired resample sees a gap of exactly 1.
    x = _rates(30, seed=4)
    table = _table(np.column_stack([x, x + 1.0]), ["a"] * 10 + ["b"] * 20)
    draws = StratifiedBootstrap(table.strata, resamples=500, seed=0).draws(table, _gap)
    for category in ("a", "b", OVERALL):
        np.testing.assert_allclose(draws[category], 1.0, atol=1e-12)


def test_a_stratum_is_resampled_only_from_its_own_tasks():
    values = np.column_stack([np.r_[np.zeros(10), np.ones(10)]])
    draws = StratifiedBootstrap(["zero"] * 10 + ["one"] * 10, resamples=300, seed=2).stratum_means(values)
    assert np.all(draws["zero"] == 0.0) and np.all(draws["one"] == 1.0)
    np.testing.assert_allclose(draws[OVERALL], 0.5)  # the 50/50 mix is fixed by design


# --- 3. jointness


def test_statistics_from_one_bootstrap_are_jointly_consistent():
    rng = np.random.default_rng(12)
    table = _table(rng.random((40, 3)), ["a"] * 15 + ["b"] * 25)
    boot = StratifiedBootstrap(table.strata, resamples=1000, seed=3)
    first = boot.draws(table, lambda m: m[..., [1]] - m[..., [0]])
    second = boot.draws(table, lambda m: m[..., [2]] - m[..., [1]])
    total = boot.draws(table, lambda m: m[..., [2]] - m[..., [0]])
    for category in ("a", "b", OVERALL):
        np.testing.assert_allclose(first[category] + second[category], total[category], atol=1e-13)
    # A second bootstrap with another seed would not add up: the test is not vacuous.
    other = StratifiedBootstrap(table.strata, resamples=1000, seed=4).draws(table, lambda m: m[..., [2]] - m[..., [1]])
    assert not np.allclose(first["a"] + other["a"], total["a"])


# --- 4. degenerate BCa


def test_all_ones_and_all_equal_strata_fall_back_to_the_point():
    rng = np.random.default_rng(13)
    values = np.vstack([np.ones((12, 2)), np.full((9, 2), 0.3), rng.random((20, 2))])
    table = _table(values, ["ones"] * 12 + ["flat"] * 9 + ["mixed"] * 20)
    result = StratifiedBootstrap(table.strata, resamples=2000, seed=5).estimate(
        table, lambda m: np.concatenate([m, _gap(m)], axis=-1), names=("c0", "c1", "gap"))
    for category, level in (("ones", 1.0), ("flat", 0.3)):
        for name, expected in (("c0", level), ("c1", level), ("gap", 0.0)):
            e = _by(result, category, name)
            assert e.method == METHOD_DEGENERATE
            assert np.isfinite([e.low, e.high]).all()
            assert e.low == pytest.approx(expected, abs=1e-12) and e.high == pytest.approx(expected, abs=1e-12)
            assert e.estimate == pytest.approx(expected, abs=1e-12)
    assert {_by(result, c, n).method for c in ("mixed", OVERALL) for n in ("c0", "c1", "gap")} == {METHOD_BCA}


def test_a_single_task_stratum_reports_the_point_as_its_interval():
    table = _table([[0.4, 0.9], [0.1, 0.2], [0.5, 0.5], [0.8, 0.6]], ["lone", "many", "many", "many"])
    for method in ("bca", "percentile"):
        e = _by(StratifiedBootstrap(table.strata, 500, seed=0).estimate(table, _gap, method=method), "lone")
        assert (e.estimate, e.low, e.high, e.tasks) == pytest.approx((0.5, 0.5, 0.5, 1))
        assert e.method == METHOD_SINGLE_TASK


# --- 5. determinism


def test_same_seed_same_result_other_seed_other_draws():
    table = _table(np.random.default_rng(14).random((30, 2)), ["a"] * 12 + ["b"] * 18)
    first = StratifiedBootstrap(table.strata, 800, seed=21).estimate(table, _gap)
    again = StratifiedBootstrap(table.strata, 800, seed=21).estimate(table, _gap)
    other = StratifiedBootstrap(table.strata, 800, seed=22)
    assert first == again
    assert [e.estimate for e in first] == [e.estimate for e in other.estimate(table, _gap)]
    assert not np.array_equal(StratifiedBootstrap(table.strata, 800, seed=21).draws(table, _gap)["a"],
                              other.draws(table, _gap)["a"])


# --- outputs


def test_estimates_cover_every_category_and_name_in_order():
    table = _table(np.random.default_rng(15).random((12, 2)), ["z"] * 5 + ["y"] * 7)
    result = StratifiedBootstrap(table.strata, 200, seed=0).estimate(table, lambda m: m, names=("A", "B"))
    assert [(e.category, e.statistic) for e in result] == [
        ("y", "A"), ("y", "B"), ("z", "A"), ("z", "B"), (OVERALL, "A"), (OVERALL, "B")]
    assert [e.tasks for e in result] == [7, 7, 5, 5, 12, 12]
    frame = estimates_frame(result)
    assert list(frame.columns) == ["category", "statistic", "estimate", "low", "high", "method", "se", "tasks"]
    assert frame.estimate.tolist() == [e.estimate for e in result]


def test_from_frame_accepts_both_layouts_and_ignores_row_order():
    rng = np.random.default_rng(16)
    frame = pd.DataFrame({"category": ["b", "a", "b", "a"], "task_id": ["t3", "t1", "t2", "t0"],
                          "human": rng.random(4), "agent": rng.random(4)})
    by_column = TaskTable.from_frame(frame.set_index("task_id"))
    by_index = TaskTable.from_frame(frame.set_index(["category", "task_id"]))
    by_other_level_order = TaskTable.from_frame(frame.set_index(["task_id", "category"]))
    shuffled = TaskTable.from_frame(frame.iloc[[2, 0, 3, 1]].set_index(["category", "task_id"]))
    for table in (by_index, by_other_level_order, shuffled):
        assert (table.task_ids, table.strata, table.columns) == (by_column.task_ids, by_column.strata,
                                                                 by_column.columns)
        np.testing.assert_array_equal(table.values, by_column.values)
    assert by_column.task_ids == ("t0", "t1", "t2", "t3") and by_column.columns == ("human", "agent")


# --- errors


def test_nan_names_the_task_and_column():
    with pytest.raises(ValueError, match=r"'t1'.*'c1'"):
        _table([[0.1, 0.2], [0.3, np.nan]], ["a", "a"])
    frame = pd.DataFrame({"category": ["a", "a"], "x": [0.5, 0.5], "y": [np.nan, 1.0]}, index=["p", "q"])
    with pytest.raises(ValueError, match=r"'p'.*'y'"):
        TaskTable.from_frame(frame)


@pytest.mark.parametrize(("build", "message"), [
    (lambda: TaskTable((), (), ("c",), np.zeros((0, 1))), "at least one task"),
    (lambda: StratifiedBootstrap([], 10), "empty"),
    (lambda: StratifiedBootstrap(["a"], 0), "resamples"),
    (lambda: TaskTable.from_frame(pd.DataFrame({"x": [1.0]}, index=["t"])), "stratum 'category'"),
    (lambda: TaskTable.from_frame(pd.DataFrame({"x": [1.0]}, index=pd.MultiIndex.from_tuples(
        [("a", "t")], names=["family", "task_id"]))), "neither an index level"),
    (lambda: TaskTable(("t", "t"), ("a", "a"), ("c",), np.zeros((2, 1))), "unique"),
])
def test_bad_inputs_raise(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_bad_estimate_arguments_raise():
    table = _table([[0.1, 0.2], [0.3, 0.5], [0.2, 0.2]], ["a", "a", "b"])
    boot = StratifiedBootstrap(table.strata, 100, seed=0)
    with pytest.raises(ValueError, match="confidence"):
        boot.estimate(table, _gap, confidence=1.0)
    with pytest.raises(ValueError, match="unknown interval method"):
        boot.estimate(table, _gap, method="basic")
    with pytest.raises(ValueError, match="name them"):
        boot.estimate(table, lambda m: m)
    with pytest.raises(ValueError, match="1 names"):
        boot.estimate(table, lambda m: m, names=("only",))
    with pytest.raises(ValueError, match="strata present in only one"):
        boot.estimate(_table(table.values, ["a", "a", "c"]), _gap)
    with pytest.raises(ValueError, match="another order"):
        boot.estimate(_table(table.values, ["a", "b", "a"]), _gap)
