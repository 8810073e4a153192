"""The exact Shapley decomposition over a 2^n factorial."""

import itertools

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.analysis.shapley import cell_index, decompose, shapley_matrix


@given(st.integers(1, 4), st.lists(st.floats(0, 1), min_size=16, max_size=16))
def test_components_sum_to_the_gap(n, values):
    means = np.array(values[: 2 ** n])
    phi = shapley_matrix(n) @ means
    assert abs(phi.sum() - (means[-1] - means[0])) < 1e-9


def test_additive_effects_are_recovered_exactly():
    effects = np.array([0.1, 0.25, 0.05])
    means = np.array([0.3 + effects @ np.array(bits) for bits in itertools.product((0, 1), repeat=3)])
    assert np.allclose(shapley_matrix(3) @ means, effects)


def test_an_interaction_is_split_equally_between_its_factors():
    means = np.array([1.0 if bits[0] and bits[1] else 0.0 for bits in itertools.product((0, 1), repeat=2)])
    assert np.allclose(shapley_matrix(2) @ means, [0.5, 0.5])


def _episodes(seed=0, tasks=30):
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(tasks):
        cat = "a" if t < tasks // 2 else "b"
        for bits in itertools.product((0, 1), repeat=3):
            p = 0.3 + 0.3 * bits[0] + 0.1 * bits[2]
            for r in range(3):
                rows.append({"task_id": f"t{t}", "category": cat, "condition": "".join(map(str, bits)),
                             "repeat": r, "success": bool(rng.random() < p)})
    return pd.DataFrame(rows)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 1000))
def test_every_resample_sums_exactly(seed):
    cells = {"".join(map(str, b)): b for b in itertools.product((0, 1), repeat=3)}
    out = decompose(_episodes(seed), cells, ["x", "y", "z"], resamples=200, seed=seed)
    for _, g in out.groupby("category"):
        v = g.set_index("component").value
        assert abs(v[["x", "y", "z"]].sum() - v["gap"]) < 1e-9
        assert (g.ci_low <= g.value + 1e-12).all() and (g.value <= g.ci_high + 1e-12).all()


def test_the_large_factor_dominates_and_the_null_one_is_near_zero():
    cells = {"".join(map(str, b)): b for b in itertools.product((0, 1), repeat=3)}
    out = decompose(_episodes(1, tasks=200), cells, ["x", "y", "z"], resamples=500, seed=3)
    overall = out[out.category == "all"].set_index("component")
    assert overall.value["x"] > overall.value["z"] > abs(overall.value["y"])
    assert overall.ci_low["y"] < 0 < overall.ci_high["y"]
    assert cell_index((1, 0, 1)) == 5


def test_the_components_sum_to_the_gap_in_every_resample():
    from harness.analysis.bootstrap import StratifiedBootstrap, TaskTable
    from harness.analysis.factorial_effects import effect_map
    from harness.analysis.shapley import cell_table

    cells = {"".join(map(str, b)): b for b in itertools.product((0, 1), repeat=3)}
    table = cell_table(_episodes(2, tasks=60), cells)
    names, matrix = effect_map(["x", "y", "z"])
    boot = StratifiedBootstrap(list(table.index.get_level_values("category")), 2000, seed=5)
    for cat, draws in boot.draws(TaskTable.from_frame(table), lambda m: m @ matrix.T).items():
        by = {name: draws[:, i] for i, name in enumerate(names)}
        gap = by[("gap", "gap")]
        shapley = sum(by[("shapley", f)] for f in "xyz")
        dividends = sum(v for (kind, _), v in by.items() if kind in ("alone", "interaction"))
        assert np.max(np.abs(shapley - gap)) < 1e-12, cat
        assert np.max(np.abs(dividends - gap)) < 1e-12, cat
        assert gap.std() > 0  # real resamples, not one value repeated


def test_a_missing_cell_or_an_unpaired_task_is_an_error_not_a_smaller_sample():
    import pytest

    cells = {"".join(map(str, b)): b for b in itertools.product((0, 1), repeat=3)}
    episodes = _episodes(0, tasks=10)
    with pytest.raises(ValueError, match="cells with no episodes: 101"):
        decompose(episodes[episodes.condition != "101"], cells, ["x", "y", "z"], resamples=50)
    with pytest.raises(ValueError, match=r"t3 \(a\) lacks 011"):
        decompose(episodes[~((episodes.task_id == "t3") & (episodes.condition == "011"))], cells,
                  ["x", "y", "z"], resamples=50)
