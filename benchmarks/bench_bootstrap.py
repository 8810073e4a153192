"""Time the table2-sized bootstrap workload (a script, not a test).

W500 shape: strata of 200/100/100/100 tasks, k = 8 factorial cells (task success rates
over 5 repeats), B = 10,000 resamples, BCa. Statistics per stratum and overall: 8 rates,
7 gaps (each cell minus the all-human cell) and 3 Shapley values (a fixed linear map of
the 8 cell means), timed as one 18-output statistic and as 18 separate calls sharing one
bootstrap.

    .venv/bin/python benchmarks/bench_bootstrap.py
"""

from __future__ import annotations

import time

import numpy as np

from harness.analysis.bootstrap import StratifiedBootstrap, TaskTable
from harness.analysis.shapley import shapley_matrix

SIZES = {"codemod": 200, "data": 100, "ops": 100, "review": 100}
CELLS, REPEATS, RESAMPLES = 8, 5, 10_000


def w500_table(seed: int = 0) -> TaskTable:
    rng = np.random.default_rng(seed)
    strata = [h for h, n in SIZES.items() for _ in range(n)]
    base = rng.beta(2, 2, size=(len(strata), 1))
    lift = np.linspace(0.0, 0.3, CELLS)[None, :]
    rates = rng.binomial(REPEATS, np.clip(base + lift, 0, 1)) / REPEATS
    return TaskTable(tuple(f"t{i}" for i in range(len(strata))), tuple(strata),
                     tuple(f"c{j}" for j in range(CELLS)), rates)


def statistics() -> tuple[np.ndarray, tuple[str, ...]]:
    """(8, 18) linear map from cell means to 8 rates, 7 gaps and 3 Shapley values."""
    gaps = np.zeros((CELLS, CELLS - 1))
    gaps[0, :] = -1.0
    gaps[1:, :] = np.eye(CELLS - 1)
    weights = np.hstack([np.eye(CELLS), gaps, shapley_matrix(3).T])
    names = (*(f"rate{j}" for j in range(CELLS)), *(f"gap{j}" for j in range(1, CELLS)),
             *(f"phi{i}" for i in range(3)))
    return weights, names


def timed(fn, runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    table = w500_table()
    weights, names = statistics()
    boot = StratifiedBootstrap(table.strata, resamples=RESAMPLES, seed=0)
    build = timed(lambda: StratifiedBootstrap(table.strata, resamples=RESAMPLES, seed=0))
    combined = timed(lambda: boot.estimate(table, lambda m: m @ weights, names=names))
    separate = timed(lambda: [boot.estimate(table, lambda m, j=j: m @ weights[:, [j]], names=(names[j],))
                              for j in range(len(names))], runs=3)
    rows = len(boot.estimate(table, lambda m: m @ weights, names=names))

    def cold() -> None:  # a fresh bootstrap: builds indices and resampled means from scratch
        fresh = StratifiedBootstrap(table.strata, resamples=RESAMPLES, seed=1)
        fresh.estimate(table, lambda m: m @ weights, names=names)
        for j in range(len(names)):
            fresh.estimate(table, lambda m, j=j: m @ weights[:, [j]], names=(names[j],))

    print(f"W500 shape {dict(SIZES)}, k={CELLS}, B={RESAMPLES}, BCa, {len(names)} statistics x 5 categories"
          f" = {rows} estimates (best of several runs)")
    print(f"  build StratifiedBootstrap:           {build * 1e3:8.1f} ms")
    print("  (estimates below reuse the bootstrap's cached resampled means of this table)")
    print(f"  estimate, one 18-output statistic:   {combined * 1e3:8.1f} ms")
    print(f"  estimate, 18 separate statistics:    {separate * 1e3:8.1f} ms")
    print(f"  cold: build + combined + 18 separate: {timed(cold, runs=3) * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
