"""Linear maps from the 2^n factorial cell means to the quantities reported beside them.

Everything here is a fixed matrix applied to the cell-mean vector (cells in standard
order, the first factor varying slowest), so each quantity is bootstrapped jointly with
every other by applying the same matrix to each resample's cell means:

- ``shapley``: factor i's Shapley value (average marginal contribution over all orders);
  the values sum exactly to the gap, all-on minus all-off.
- ``alone`` and ``interaction``: the Harsanyi dividends d(S) = sum over T in S of
  (-1)^(|S|-|T|) v(T), v(T) the cell with exactly the factors T switched on. d({i}) is
  the effect of switching i alone; d(S), |S| >= 2, is the |S|-way interaction. They sum
  to the gap, and shapley_i = sum over S containing i of d(S)/|S| (each interaction is
  shared equally among its factors).
- ``main``: the classical factorial main effect, mean of cells with i on minus mean of
  cells with i off (averaged over the other factors' levels).
- ``order``: one-at-a-time attribution along one order of switching the factors on
  (n! orders), the sensitivity view the Shapley value averages.
"""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np


def cell_index(levels: tuple[int, ...]) -> int:
    """Standard order: the first factor varies slowest (itertools.product order)."""
    return int("".join(str(b) for b in levels), 2) if levels else 0


def _cell(n: int, on: set[int]) -> int:
    return cell_index(tuple(1 if j in on else 0 for j in range(n)))


def shapley_matrix(n: int) -> np.ndarray:
    """(n, 2^n) weights: phi = M @ cell_means."""
    m = np.zeros((n, 2 ** n))
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for k in range(n):
            weight = factorial(k) * factorial(n - k - 1) / factorial(n)
            for subset in itertools.combinations(others, k):
                m[i, _cell(n, {*subset, i})] += weight
                m[i, _cell(n, set(subset))] -= weight
    return m


def subsets(n: int) -> list[tuple[int, ...]]:
    """Non-empty subsets of the factors, by size then lexicographically."""
    return [s for k in range(1, n + 1) for s in itertools.combinations(range(n), k)]


def dividend_matrix(n: int) -> np.ndarray:
    """(2^n - 1, 2^n): Harsanyi dividends of every non-empty subset, in ``subsets`` order."""
    rows = []
    for s in subsets(n):
        row = np.zeros(2 ** n)
        for k in range(len(s) + 1):
            for t in itertools.combinations(s, k):
                row[_cell(n, set(t))] += (-1) ** (len(s) - k)
        rows.append(row)
    return np.array(rows)


def main_effect_matrix(n: int) -> np.ndarray:
    """(n, 2^n): mean of the cells with factor i on minus mean of those with it off."""
    m = np.zeros((n, 2 ** n))
    for bits in itertools.product((0, 1), repeat=n):
        for i in range(n):
            m[i, cell_index(bits)] += (1 if bits[i] else -1) / 2 ** (n - 1)
    return m


def orders(n: int) -> list[tuple[int, ...]]:
    return list(itertools.permutations(range(n)))


def order_matrix(n: int) -> np.ndarray:
    """(n! * n, 2^n): for each order, each factor's marginal contribution when switched on
    in that order (rows: order-major, factor index minor)."""
    rows = []
    for order in orders(n):
        contrib = {}
        on: set[int] = set()
        for i in order:
            row = np.zeros(2 ** n)
            row[_cell(n, on | {i})] += 1
            row[_cell(n, on)] -= 1
            contrib[i] = row
            on = on | {i}
        rows += [contrib[i] for i in range(n)]
    return np.array(rows)


def gap_row(n: int) -> np.ndarray:
    row = np.zeros(2 ** n)
    row[-1], row[0] = 1.0, -1.0
    return row


def effect_map(factors: list[str]) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Every reported quantity as (kind, name) with its row of one stacked matrix.

    kinds: gap, shapley, alone, interaction, main, order (name "a>b>c:factor")."""
    n = len(factors)
    names: list[tuple[str, str]] = [("gap", "gap")]
    rows = [gap_row(n)]
    names += [("shapley", f) for f in factors]
    rows += list(shapley_matrix(n))
    for s, row in zip(subsets(n), dividend_matrix(n), strict=True):
        names.append(("alone" if len(s) == 1 else "interaction", "×".join(factors[i] for i in s)))
        rows.append(row)
    names += [("main", f) for f in factors]
    rows += list(main_effect_matrix(n))
    for order in orders(n):
        label = ">".join(factors[i] for i in order)
        names += [("order", f"{label}:{factors[i]}") for i in range(n)]
    rows += list(order_matrix(n))
    return names, np.array(rows)
