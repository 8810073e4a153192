"""Table 1 and Table 4 of the report (§7): the deployment scenarios, as EstimateRecords.

One task table (per task: every Table 1 numerator and denominator summed over repeats,
in every condition) and one ``StratifiedBootstrap`` stratified by *scenario* carry every
number here, so the rates, the improvement ratios and the leave-one-layer-out losses are
paired and jointly consistent; "all" is task-weighted across scenarios.

Which condition plays which part is read from the stored condition specs, never from the
names (``scenario_plan``): the native condition is the run's treatment (``compare[0]``);
a condition with the same deployment loop and faults that differs from it in exactly one
layer is that layer's *ablation* (leave-one-layer-out); every other condition is a
*baseline* (Table 1's non-native columns).

Analyses (``EstimateRecord.analysis``):
- ``table1``: each metric of ``scenario_metrics.METRICS`` per condition (baselines and
  native), per scenario and all; statistic = metric name.
- ``table1_ratio``: native against each baseline: ``completion_ratio`` and
  ``retention_ratio`` (native / baseline: how many times more) and
  ``incident_response_ratio`` (baseline / native: how many times faster). A zero baseline
  gives +inf (stored as such); 0/0 is undefined and the statistic is left out (the store
  holds no NaN; the two zero rates beside it say why). ``scenario_intervals`` says how
  resamples with a zero baseline are treated.
- ``table4``: per scenario, ``baseline`` (completion of the best baseline by point
  estimate, named in ``conditions``; the choice is made once on the data, not per
  resample, so the interval is conditional on it), ``native``, ``improvement`` (native /
  that baseline) and ``loss:<layer>`` (native completion minus the ablation's).

Key principles (Table 4's last column) come from the losses: ``LAYER_PRINCIPLES`` maps
each layer to the report's principles it implements, and a layer's principles are key
for a scenario when removing the layer costs more than ``KEY_THRESHOLD`` with a 95% CI
that excludes 0 (``key_principles``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.analysis.bootstrap import OVERALL, StratifiedBootstrap, TaskTable
from harness.analysis.scenario_intervals import interval
from harness.analysis.scenario_metrics import METRIC, METRICS, SCENARIO, derive, divide, task_sums
from harness.core.models import EstimateRecord

# The report's seven principles (§4) by the layer that implements them in this harness
# (DESIGN §4): durable execution is persistent context (P1) and adaptive budget allocation
# (P4); typed tools are first-class tool integration (P2); tiered memory is distributed
# memory (P6); capabilities are capability-based security (P5); the causal layer is both
# the audit-trail DAG (P3) and the reasoning traces (P7). A layer is removed as a whole,
# so principles sharing a layer are credited together.
LAYER_PRINCIPLES: dict[str, tuple[str, ...]] = {
    "execution": ("P1", "P4"),
    "tools": ("P2",),
    "memory": ("P6",),
    "security": ("P5",),
    "observability": ("P3", "P7"),
}
KEY_THRESHOLD = 0.05  # completion lost (fraction) above which a layer's principles are key

RATIOS = ("completion", "retention", "incident_response")  # the improvement ratios quoted

_DEPLOYMENT = ("loop", "loop_options", "faults")


@dataclass(frozen=True)
class ScenarioPlan:
    native: str
    baselines: tuple[str, ...]
    ablations: tuple[tuple[str, str], ...] = ()  # (layer, condition without it)

    @property
    def table1_conditions(self) -> list[str]:
        return [*self.baselines, self.native]

    @property
    def conditions(self) -> list[str]:
        return [*self.table1_conditions, *(c for _, c in self.ablations)]


def scenario_plan(specs: Mapping[str, Mapping], native: str, order: Sequence[str]) -> ScenarioPlan:
    """Roles from the condition specs (``layers``, ``loop``, ...): see the module doc."""
    if native not in specs:
        raise ValueError(f"the native condition {native!r} has no stored spec")
    base = specs[native]
    baselines: list[str] = []
    ablations: dict[str, str] = {}
    for name in [c for c in order if c != native and c in specs]:
        layer = _single_layer_difference(specs[name], base)
        if layer is None:
            baselines.append(name)
        elif layer in ablations:
            raise ValueError(f"{ablations[layer]} and {name} both remove only the {layer} layer")
        else:
            ablations[layer] = name
    if not baselines:
        raise ValueError("no baseline condition: every condition is the native one or one layer from it")
    return ScenarioPlan(native, tuple(baselines), tuple(ablations.items()))


def _single_layer_difference(spec: Mapping, base: Mapping) -> str | None:
    if any((spec.get(k) or None) != (base.get(k) or None) for k in _DEPLOYMENT):
        return None  # another deployment (loop, faults): a baseline, not an ablation
    layers, native = spec.get("layers", {}), base.get("layers", {})
    differing = [layer for layer in sorted(set(layers) | set(native)) if layers.get(layer) != native.get(layer)]
    return differing[0] if len(differing) == 1 else None


@dataclass(frozen=True)
class _Means:
    """One category's column means: observed (k,), resampled (B, k), leave-one-task-out (n, k)."""

    point: np.ndarray
    boot: np.ndarray
    jackknife: np.ndarray | None
    tasks: int


Column = Callable[[np.ndarray], np.ndarray]  # column means (..., k) -> statistic (...)


@dataclass(frozen=True)
class _Stat:
    analysis: str
    statistic: str
    conditions: str
    value: Column


class ScenarioAnalysis:
    """Every Table 1 / Table 4 estimate of one run; see the module doc."""

    def __init__(self, run_id: str, episodes: pd.DataFrame, plan: ScenarioPlan, *, budgets: Mapping[str, float],
                 unrecovered_crash_minutes: float, resamples: int = 10_000, seed: int = 0,
                 confidence: float = 0.95):
        self.run_id, self.plan = run_id, plan
        self.resamples, self.seed, self.confidence = resamples, seed, confidence
        sums = task_sums(derive(episodes, budgets, unrecovered_crash_minutes), plan.conditions)
        self.table = TaskTable.from_frame(sums, stratum=SCENARIO)
        self.col = {c: i for i, c in enumerate(self.table.columns)}
        boot = StratifiedBootstrap(self.table.strata, resamples, seed)
        self.means = self._category_means(boot)

    def records(self) -> list[EstimateRecord]:
        out: list[EstimateRecord] = []
        for category, means in self.means.items():
            out += self._estimate(category, means, self._table1_stats())
            out += self._estimate(category, means, self._table4_stats(means))
        return out

    # -- statistics ----------------------------------------------------------------------
    def rate(self, metric: str, condition: str) -> Column:
        m = METRIC[metric]
        num, den = self.col[f"{m.numerator}|{condition}"], self.col[f"{m.denominator}|{condition}"]
        return lambda x: divide(x[..., num], x[..., den])

    def _table1_stats(self) -> list[_Stat]:
        native = self.plan.native
        stats = [_Stat("table1", m.name, c, self.rate(m.name, c)) for m in METRICS for c in self.plan.table1_conditions]
        for name in RATIOS:
            better = METRIC[name].higher_is_better
            for base in self.plan.baselines:
                top, bottom = (native, base) if better else (base, native)
                stats.append(_Stat("table1_ratio", f"{name}_ratio", f"{native}|{base}", _ratio(
                    self.rate(name, top), self.rate(name, bottom))))
        return stats

    def _table4_stats(self, means: _Means) -> list[_Stat]:
        native, best = self.plan.native, self.best_baseline(means)
        stats = [_Stat("table4", "baseline", best, self.rate("completion", best)),
                 _Stat("table4", "native", native, self.rate("completion", native)),
                 _Stat("table4", "improvement", f"{native}|{best}",
                       _ratio(self.rate("completion", native), self.rate("completion", best)))]
        for layer, ablated in self.plan.ablations:
            stats.append(_Stat("table4", f"loss:{layer}", f"{native}|{ablated}",
                               _difference(self.rate("completion", native), self.rate("completion", ablated))))
        return stats

    def best_baseline(self, means: _Means) -> str:
        """The baseline with the highest observed completion (the first listed on a tie)."""
        rates = [float(self.rate("completion", b)(means.point)) for b in self.plan.baselines]
        return self.plan.baselines[int(np.argmax(rates))]

    # -- plumbing ------------------------------------------------------------------------
    def _category_means(self, boot: StratifiedBootstrap) -> dict[str, _Means]:
        values, strata = self.table.values, np.asarray(self.table.strata, dtype=object)
        resampled = boot.stratum_means(values)
        rows = {h: np.flatnonzero(strata == h) for h in boot.strata_names}
        rows[OVERALL] = np.arange(len(strata))
        return {h: _means(values[r], resampled[h]) for h, r in rows.items()}

    def _estimate(self, category: str, means: _Means, stats: list[_Stat]) -> list[EstimateRecord]:
        out = []
        for s in stats:
            point = float(s.value(means.point))
            if np.isnan(point):
                continue  # 0/0: no probes in a one-session scenario, or a ratio of two zero rates
            jack = s.value(means.jackknife) if means.jackknife is not None else None
            iv = interval(point, s.value(means.boot), jack, self.confidence)
            out.append(EstimateRecord(
                run_id=self.run_id, analysis=s.analysis, statistic=s.statistic, conditions=s.conditions,
                category=category, estimate=iv.estimate, low=iv.low, high=iv.high, method=iv.method, se=iv.se,
                tasks=means.tasks, resamples=self.resamples, seed=self.seed))
        return out


def _means(values: np.ndarray, boot: np.ndarray) -> _Means:
    n = values.shape[0]
    jack = (values.sum(axis=0) - values) / (n - 1) if n > 1 else None  # leave-one-task-out, closed form
    return _Means(point=values.mean(axis=0), boot=boot, jackknife=jack, tasks=n)


def _ratio(top: Column, bottom: Column) -> Column:
    return lambda x: divide(top(x), bottom(x))


def _difference(a: Column, b: Column) -> Column:
    return lambda x: a(x) - b(x)


# -- Table 4's key principles, from stored estimates ------------------------------------------
def key_principles(est: pd.DataFrame, category: str, threshold: float = KEY_THRESHOLD) -> tuple[str, ...]:
    """The principles of every layer whose removal costs more than ``threshold`` completion
    in ``category`` with a CI excluding 0, most costly layer first (then by number)."""
    losses = est[(est.analysis == "table4") & (est.category == category) & est.statistic.str.startswith("loss:")]
    key = losses[(losses.estimate > threshold) & (losses.low > 0)].sort_values(["estimate", "statistic"],
                                                                               ascending=[False, True])
    out: list[str] = []
    for statistic in key.statistic:
        layer = statistic.split(":", 1)[1]
        out += [p for p in sorted(LAYER_PRINCIPLES.get(layer, ())) if p not in out]
    return tuple(out)


def principles_text(est: pd.DataFrame, category: str, threshold: float = KEY_THRESHOLD) -> str:
    """Table 4's cell: the key principles, "none", or "not measured" for a run without
    leave-one-layer-out cells (no attribution: nothing may be claimed either way)."""
    measured = est[(est.analysis == "table4") & (est.category == category) & est.statistic.str.startswith("loss:")]
    if measured.empty:
        return "not measured"
    return ", ".join(key_principles(est, category, threshold)) or "none"
