"""Coverage: the task-level BCa interval covers a known gap at its nominal rate; the
episodes-as-independent interval does not.

Design. Four strata, each a finite population of tasks with heterogeneous difficulty
(p_A ~ Beta) and heterogeneous effects (p_B = clip(p_A + delta), delta ~ Normal per
stratum). An experiment draws tasks with replacement from each population (40/20/20/20),
runs R paired repeats with common random numbers (one uniform per task and repeat decides
both conditions, as the harness's named streams do), and estimates the task-weighted gap.
Drawing with replacement from a finite population makes the truth exact:
sum_h (n_h / N) * mean over population h of (p_B - p_A).

With R = 10 repeats and this between-task spread, the naive SE is about 0.65 of the right
one, so the naive 95% interval should cover roughly 80%; the bound asserted (< 90%) leaves
room for Monte-Carlo noise. 1,000 experiments put the BCa coverage's Monte-Carlo sd at
~0.7 points, so the 93-97% band is about +-3 sd around 95%. B = 2,000 per experiment
(instead of 10,000) keeps the test near 20 s; the interval's own Monte-Carlo error at that
B is small next to its sampling variability and averages out across experiments.
"""

import numpy as np
import pytest

from harness.analysis.bootstrap import OVERALL, StratifiedBootstrap, TaskTable
from harness.analysis.clt import clustered_se, naive_se

pytestmark = pytest.mark.slow

SIZES = {"codemod": 200, "data": 100, "ops": 100, "review": 100}
BETAS = {"codemod": (2, 2), "data": (1, 3), "ops": (3, 1), "review": (0.7, 0.7)}
EFFECTS = {"codemod": 0.15, "data": 0.05, "ops": -0.05, "review": 0.10}
POPULATION, REPEATS, EXPERIMENTS, RESAMPLES = 1000, 10, 1000, 2000
Z = 1.959963984540054


def _populations() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20260101)
    out = {}
    for h in SIZES:
        p_a = rng.beta(*BETAS[h], size=POPULATION)
        p_b = np.clip(p_a + rng.normal(EFFECTS[h], 0.2, size=POPULATION), 0.0, 1.0)
        out[h] = (p_a, p_b)
    return out


def _true_gap(populations) -> float:
    total = sum(SIZES.values())
    return sum(SIZES[h] / total * float(np.mean(p_b - p_a)) for h, (p_a, p_b) in populations.items())


def _experiment(populations, seed: int):
    """One simulated run: (task table, per-episode A and B successes, task of each episode)."""
    rng = np.random.default_rng([7, seed])
    strata, p_a, p_b = [], [], []
    for h, n in SIZES.items():
        pick = rng.integers(0, POPULATION, size=n)
        strata += [h] * n
        p_a.append(populations[h][0][pick])
        p_b.append(populations[h][1][pick])
    p_a, p_b = np.concatenate(p_a)[:, None], np.concatenate(p_b)[:, None]
    u = rng.random((len(strata), REPEATS))  # common random numbers across the two conditions
    a, b = (u < p_a).astype(float), (u < p_b).astype(float)
    table = TaskTable(tuple(f"t{i}" for i in range(len(strata))), tuple(strata), ("A", "B"),
                      np.column_stack([a.mean(axis=1), b.mean(axis=1)]))
    tasks = np.repeat(np.arange(len(strata)), REPEATS)
    return table, a.ravel(), b.ravel(), tasks


def _gap(m):
    return m[..., [1]] - m[..., [0]]


def test_task_bca_covers_the_true_gap_and_the_naive_interval_does_not():
    populations = _populations()
    truth = _true_gap(populations)
    covered = {"bca": 0, "naive": 0, "clustered": 0}
    for seed in range(EXPERIMENTS):
        table, a, b, tasks = _experiment(populations, seed)
        boot = StratifiedBootstrap(table.strata, resamples=RESAMPLES, seed=seed)
        (overall,) = [e for e in boot.estimate(table, _gap) if e.category == OVERALL]
        covered["bca"] += overall.low <= truth <= overall.high
        d = b - a
        for name, se in (("naive", naive_se(d)), ("clustered", clustered_se(d, tasks))):
            covered[name] += abs(d.mean() - truth) <= Z * se
    coverage = {k: v / EXPERIMENTS for k, v in covered.items()}
    print(f"\ntrue gap {truth:.4f}; coverage over {EXPERIMENTS} experiments: "
          + ", ".join(f"{k} {v:.3f}" for k, v in coverage.items()))
    assert 0.93 <= coverage["bca"] <= 0.97
    assert coverage["naive"] < 0.90
    assert coverage["clustered"] > coverage["naive"] + 0.05  # clustering by task repairs most of it
