"""Every estimate of one stored run, computed one way, for the report, the store and the paper.

An analysis turns task-level tables into ``EstimateRecord`` rows. All analyses over the
same tasks share one set of resampled indices (same strata, same seed), so completion
rates, gaps, Shapley values and pass^k stay jointly consistent. Overall figures are
task-weighted (each task counts once, whatever its category), and say so.

Analyses:
- ``completion``: each condition's completion rate (task mean of its repeats' successes);
- ``gap``: the compared pair's paired gap, with the clustered CLT standard error beside
  the bootstrap one, a z-test p-value, Holm-adjusted across categories, and the minimum
  detectable gap at 80% power for this design;
- ``decomposition``: for a complete factorial, the gap, Shapley values, "alone" effects,
  interactions, classical main effects and the one-at-a-time attributions in every order;
- ``pass_k``: pass^k and pass@k for k = 1..repeats, per condition;
- ``accuracy`` and ``retention``: tool-call accuracy and cross-session retention per
  condition (retention over the tasks that have probes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.analysis.bootstrap import OVERALL, Estimate, StratifiedBootstrap, TaskTable
from harness.analysis.clt import stratified_se
from harness.analysis.factorial_effects import effect_map
from harness.analysis.multiple import holm, z_test_p
from harness.analysis.passk import task_pass_k
from harness.analysis.power import paired_mde
from harness.core.models import EstimateRecord


@dataclass(frozen=True)
class RunPlan:
    """What the run's config says to analyse (never read from condition names)."""

    conditions: tuple[str, ...]
    compare: tuple[str, str] | None = None  # (treatment, baseline)
    cells: dict[str, tuple[int, ...]] | None = None  # factorial cell -> levels
    factors: tuple[str, ...] = ()
    missing_cells: tuple[str, ...] = ()  # factorial cells without episodes (no decomposition)


@dataclass(frozen=True)
class Settings:
    resamples: int = 10_000
    seed: int = 0
    confidence: float = 0.95


class Analyses:
    def __init__(self, run_id: str, episodes: pd.DataFrame, plan: RunPlan, settings: Settings):
        if episodes.empty:
            raise ValueError("no episodes to analyse")
        self.run_id, self.episodes, self.plan, self.settings = run_id, episodes, plan, settings
        self.rates = _task_means(episodes, "success")
        _require_paired(self.rates, "completion")
        self.boot = StratifiedBootstrap(_strata(self.rates), settings.resamples, settings.seed)

    def all(self) -> list[EstimateRecord]:
        out = self.completion() + self.gap() + self.decomposition() + self.pass_k()
        return out + self.accuracy() + self.retention()

    # -- analyses ------------------------------------------------------------------------
    def completion(self) -> list[EstimateRecord]:
        conds = list(self.rates.columns)
        return self._records("completion", self.rates, lambda m: m, [(c, "rate") for c in conds], self.boot)

    def gap(self) -> list[EstimateRecord]:
        if self.plan.compare is None:
            return []
        a, b = self.plan.compare
        table = self.rates[[a, b]]
        rows = self._records("gap", table, lambda m: m[..., [0]] - m[..., [1]], [(f"{a}|{b}", "gap")], self.boot)
        return _with_tests(rows, table, self.repeats)

    def decomposition(self) -> list[EstimateRecord]:
        cells = self.plan.cells
        if not cells or not set(cells) <= set(self.rates.columns):
            return []
        order = sorted(cells, key=lambda c: int("".join(map(str, cells[c])), 2))
        names, matrix = effect_map(list(self.plan.factors))
        label = f"{order[-1]}|{order[0]}"
        return self._records("decomposition", self.rates[order], lambda m: m @ matrix.T,
                             [(label, f"{kind}:{name}") for kind, name in names], self.boot)

    def pass_k(self) -> list[EstimateRecord]:
        table = task_pass_k(self.episodes)
        named = [(cond, f"{kind}={k}") for kind, cond, k in table.columns]
        table.columns = [f"{kind}|{cond}|{k}" for kind, cond, k in table.columns]
        return self._records("pass_k", table, lambda m: m, named, self.boot)

    def accuracy(self) -> list[EstimateRecord]:
        sums = self.episodes.groupby(["category", "task_id", "condition"])[["tool_calls_accurate", "tool_calls"]].sum()
        # A task whose repeats made no call at all has no accuracy: it is left out of every
        # condition (paired), and the row's task count says how many remain.
        ratio = (sums.tool_calls_accurate / sums.tool_calls.where(sums.tool_calls > 0)).unstack("condition")
        ratio = ratio.dropna()
        if ratio.empty:
            return []
        return self._records("accuracy", ratio, lambda m: m, [(c, "tool_call_accuracy") for c in ratio.columns],
                             StratifiedBootstrap(_strata(ratio), self.settings.resamples, self.settings.seed))

    def retention(self) -> list[EstimateRecord]:
        probed = self.episodes[self.episodes.retention_asked > 0]
        if probed.empty:
            return []
        sums = probed.groupby(["category", "task_id", "condition"])[["retention_correct", "retention_asked"]].sum()
        ratio = (sums.retention_correct / sums.retention_asked).unstack("condition").dropna()
        if ratio.empty:
            return []
        return self._records("retention", ratio, lambda m: m, [(c, "retention") for c in ratio.columns],
                             StratifiedBootstrap(_strata(ratio), self.settings.resamples, self.settings.seed))

    # -- plumbing ------------------------------------------------------------------------
    @property
    def repeats(self) -> int:
        return int(self.episodes.groupby(["task_id", "condition"]).size().max())

    def _records(self, analysis: str, frame: pd.DataFrame, stat: Callable[[np.ndarray], np.ndarray],
                 named: list[tuple[str, str]], boot: StratifiedBootstrap) -> list[EstimateRecord]:
        table = TaskTable.from_frame(frame)
        keys = [f"{i}" for i in range(len(named))]
        estimates = boot.estimate(table, stat, names=tuple(keys), confidence=self.settings.confidence)
        return [self._record(analysis, *named[int(e.statistic)], e) for e in estimates]

    def _record(self, analysis: str, conditions: str, statistic: str, e: Estimate) -> EstimateRecord:
        return EstimateRecord(
            run_id=self.run_id, analysis=analysis, statistic=statistic, conditions=conditions,
            category=e.category, estimate=float(e.estimate), low=float(e.low), high=float(e.high),
            method=e.method, se=float(e.se), tasks=int(e.tasks), resamples=self.settings.resamples,
            seed=self.settings.seed)


def _task_means(episodes: pd.DataFrame, column: str) -> pd.DataFrame:
    table = episodes.pivot_table(index=["category", "task_id"], columns="condition", values=column, aggfunc="mean")
    return table.sort_index()


def _strata(frame: pd.DataFrame) -> list[str]:
    return list(frame.index.get_level_values("category"))


def _require_paired(frame: pd.DataFrame, what: str) -> None:
    """Every task in every condition: an unpaired run is an error, never a smaller sample."""
    missing = frame[frame.isna().any(axis=1)]
    if len(missing):
        (cat, task), row = next(iter(missing.iterrows()))
        lacking = sorted(row[row.isna()].index)
        raise ValueError(f"{what}: {len(missing)} task(s) lack episodes in some condition, "
                         f"e.g. {task} ({cat}) has none under {', '.join(lacking)}")


def _with_tests(rows: list[EstimateRecord], table: pd.DataFrame, repeats: int) -> list[EstimateRecord]:
    """Add the clustered CLT SE, the z-test p-value, Holm across categories and the MDE."""
    diffs = (table.iloc[:, 0] - table.iloc[:, 1]).to_numpy()
    strata = np.array(_strata(table))
    base_rate = float(np.nanmean(table.to_numpy()))
    mde = paired_mde(diffs, strata, repeats, base_rate)
    se = {cat: stratified_se(diffs[strata == cat], strata[strata == cat]) for cat in np.unique(strata)}
    se[OVERALL] = stratified_se(diffs, strata)
    p = {r.category: z_test_p(r.estimate, se[r.category]) for r in rows}
    cats = [c for c in p if c != OVERALL]
    adjusted = dict(zip(cats, holm([p[c] for c in cats]), strict=True))
    return [r.model_copy(update={"se_clt": float(se[r.category]), "p_value": float(p[r.category]),
                                 "p_holm": None if r.category == OVERALL else float(adjusted[r.category]),
                                 "mde": float(mde[r.category])}) for r in rows]
