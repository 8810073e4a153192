"""pass^k against the exact binomial expectation; the factorial maps on hand-worked cells."""

import itertools
from math import comb

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.analysis.factorial_effects import (
    dividend_matrix,
    effect_map,
    main_effect_matrix,
    order_matrix,
    shapley_matrix,
)
from harness.analysis.passk import pass_at_k, pass_hat_k, task_pass_k


@pytest.mark.parametrize("n,k", [(5, 1), (5, 2), (5, 5), (3, 2), (8, 3)])
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9, 1.0])
def test_pass_hat_k_and_pass_at_k_are_unbiased_exactly(n, k, p):
    """Sum the estimator over the binomial distribution of successes: E = p^k and 1-(1-p)^k."""
    pmf = [comb(n, c) * p ** c * (1 - p) ** (n - c) for c in range(n + 1)]
    assert sum(w * pass_hat_k(n, c, k) for c, w in enumerate(pmf)) == pytest.approx(p ** k, abs=1e-12)
    assert sum(w * pass_at_k(n, c, k) for c, w in enumerate(pmf)) == pytest.approx(1 - (1 - p) ** k, abs=1e-12)


def test_pass_k_edges_and_bad_input():
    assert pass_hat_k(5, 5, 5) == 1 and pass_hat_k(5, 4, 5) == 0 and pass_at_k(5, 1, 5) == 1
    assert pass_hat_k(5, 3, 1) == pass_at_k(5, 3, 1) == 0.6
    with pytest.raises(ValueError):
        pass_hat_k(5, 6, 1)
    with pytest.raises(ValueError):
        pass_at_k(5, 2, 0)


def _episodes(successes: dict[tuple[str, str], list[bool]]) -> pd.DataFrame:
    rows = [{"category": "c", "task_id": t, "condition": cond, "repeat": r, "success": s}
            for (t, cond), outcomes in successes.items() for r, s in enumerate(outcomes)]
    return pd.DataFrame(rows)


def test_task_pass_k_table_and_unequal_repeats_refused():
    table = task_pass_k(_episodes({("t1", "A"): [True, True, False], ("t1", "B"): [True, True, True]}))
    assert table.loc[("c", "t1"), ("pass^k", "A", 2)] == pytest.approx(1 / 3)
    assert table.loc[("c", "t1"), ("pass^k", "B", 3)] == 1.0
    assert table.loc[("c", "t1"), ("pass@k", "A", 1)] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="same number of repeats"):
        task_pass_k(_episodes({("t1", "A"): [True, True], ("t1", "B"): [True]}))


# -- the factorial maps ------------------------------------------------------------------------
HAND = np.array([0.50, 0.55, 0.60, 0.70, 0.80, 0.82, 0.85, 0.95])  # cells 000..111 (ctx, agy, obs)


def test_hand_computed_three_factor_example():
    names, m = effect_map(["ctx", "agy", "obs"])
    got = dict(zip(names, m @ HAND, strict=True))
    # alone: switching one factor from 000
    assert got[("alone", "ctx")] == pytest.approx(0.30)  # 100 - 000
    assert got[("alone", "agy")] == pytest.approx(0.10)  # 010 - 000
    assert got[("alone", "obs")] == pytest.approx(0.05)  # 001 - 000
    # two-way dividend ctx×agy = v(110) - v(100) - v(010) + v(000)
    assert got[("interaction", "ctx×agy")] == pytest.approx(0.85 - 0.80 - 0.60 + 0.50)
    three = 0.95 - 0.85 - 0.82 - 0.70 + 0.80 + 0.60 + 0.55 - 0.50
    assert got[("interaction", "ctx×agy×obs")] == pytest.approx(three)
    # Shapley = alone + half of each pairwise interaction + a third of the triple
    ca = got[("interaction", "ctx×agy")]
    co = got[("interaction", "ctx×obs")]
    assert got[("shapley", "ctx")] == pytest.approx(0.30 + ca / 2 + co / 2 + three / 3)
    # classical main effect of ctx: mean(1xx) - mean(0xx)
    assert got[("main", "ctx")] == pytest.approx(HAND[4:].mean() - HAND[:4].mean())
    # order ctx>agy>obs: ctx gets 100-000, agy 110-100, obs 111-110
    assert got[("order", "ctx>agy>obs:agy")] == pytest.approx(0.85 - 0.80)


@given(st.integers(1, 5), st.lists(st.floats(0, 1), min_size=32, max_size=32))
def test_every_split_sums_to_the_gap(n, values):
    v = np.array(values[: 2 ** n])
    gap = v[-1] - v[0]
    assert (shapley_matrix(n) @ v).sum() == pytest.approx(gap, abs=1e-12)
    assert (dividend_matrix(n) @ v).sum() == pytest.approx(gap, abs=1e-12)
    per_order = (order_matrix(n) @ v).reshape(-1, n)
    assert np.allclose(per_order.sum(axis=1), gap, atol=1e-12)
    assert np.allclose(per_order.mean(axis=0), shapley_matrix(n) @ v, atol=1e-12)  # Shapley = mean over orders


def test_main_effects_of_an_additive_design_equal_the_alone_effects():
    effects = np.array([0.3, 0.1, 0.05])
    v = np.array([sum(e for e, b in zip(effects, bits, strict=True) if b)
                  for bits in itertools.product((0, 1), repeat=3)])
    assert np.allclose(main_effect_matrix(3) @ v, effects)
    assert np.allclose(shapley_matrix(3) @ v, effects)
    assert np.allclose(dividend_matrix(3)[3:] @ v, 0)  # no interactions
