"""Total cost of ownership per month for N agents, from measured episodes, with CIs.

The model (every price a parameter of ``configs/cost/default.yaml``, see ``cost_model``):

- **Agent compute** per episode: its ``cost_usd`` when it reports tokens (an LLM agent),
  else ``actions x usd_per_action`` (the reference agent has no tokens to count).
- **Human time** per episode, at ``hourly_rate_usd``:
  approvals x ``minutes_per_approval``;
  relays: ``actions x relay minutes`` of the condition's loop, read as data from the stored
  spec (``loop_options.relay_minutes``, else the model's ``relay_minutes_by_loop[loop]``;
  autonomous and chained loops relay nothing);
  incidents: crashes no layer recovered from (``crashes - recoveries``, the ones a person
  had to notice and restart) x ``minutes_per_incident``;
  rework: a failed episode x ``rework_minutes_per_failure`` (the task still has to be done).
- **Infrastructure** per agent-month: the base plus one price per layer variant the
  condition's spec names (durable store, FAISS index, tracing, ...). No condition name is
  ever read: two specs with the same layers and loop cost the same.

TCO/month for N agents = N x (infra + tasks_per_agent_month x E[cost per task]), where
E[cost per task] = E[compute] + rate x E[human hours]. Each expected value is a mean of
per-task values (the mean over a task's repeats), i.e. a column of a ``TaskTable``, so the
stratified task bootstrap gives the CIs, and ratios between conditions come from the same
resampled tasks (paired). Because TCO is linear in the column means, the sensitivity grid
(hourly rate x infrastructure price) reuses one set of resampled means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.analysis.bootstrap import OVERALL, Estimate, StratifiedBootstrap, TaskTable
from harness.analysis.cost_model import CostModel
from harness.analysis.intervals import percentile_interval
from harness.core.errors import ConfigError
from harness.core.models import EstimateRecord

LAYERS = ("execution", "tools", "memory", "security", "observability")
PARTS = ("success", "compute_usd", "human_hours")  # per-task columns, per condition
COMPONENTS = ("total", "infrastructure", "compute", "human")
NEEDED = ("condition", "task_id", "category", "success", "actions", "approvals", "crashes", "recoveries",
          "tokens", "cost_usd")


@dataclass(frozen=True)
class ConditionProfile:
    """What the cost model reads from one condition's stored spec."""

    name: str
    loop: str
    relay_minutes: float
    infra_usd_per_agent_month: float


def condition_specs(conditions: Mapping[str, dict] | pd.DataFrame) -> dict[str, dict]:
    """{name: spec} from ``reader.conditions``' dict or a frame with ``name`` and ``spec``."""
    if isinstance(conditions, pd.DataFrame):
        import json

        return {str(r.name): json.loads(r.spec) if isinstance(r.spec, str) else dict(r.spec)
                for r in conditions.itertuples(index=False)}
    return {str(k): dict(v) for k, v in conditions.items()}


def profile_of(name: str, spec: dict, model: CostModel) -> ConditionProfile:
    loop = str(spec.get("loop", "autonomous"))
    options = spec.get("loop_options") or {}
    if "relay_minutes" in options:
        relay = float(options["relay_minutes"])
    elif loop in model.human.relay_minutes_by_loop:
        relay = model.human.relay_minutes_by_loop[loop]
    else:
        raise ConfigError(f"cost model: no human.relay_minutes_by_loop.{loop} (condition {name} runs loop {loop})",
                          hint="give the loop's minutes per relayed action (0 if nobody relays)")
    layers = spec.get("layers") or {}
    missing = [layer for layer in LAYERS if layer not in layers]
    if missing:
        raise ConfigError(f"condition {name}'s spec names no variant for {', '.join(missing)}: "
                          "its infrastructure cannot be priced")
    infra = model.infrastructure.base_usd_per_agent_month + sum(
        model.infrastructure.price(layer, str(layers[layer]["variant"]), f"condition {name}") for layer in LAYERS)
    return ConditionProfile(name, loop, relay, infra)


def episode_costs(episodes: pd.DataFrame, profiles: Mapping[str, ConditionProfile],
                  model: CostModel) -> pd.DataFrame:
    """Per episode: ``compute_usd`` and ``human_hours`` with its four parts in minutes."""
    absent = [c for c in NEEDED if c not in episodes.columns]
    if absent:
        raise ValueError(f"episodes lack the columns the cost model reads: {absent}")
    unknown = sorted(set(episodes.condition) - set(profiles))
    if unknown:
        raise ValueError(f"no stored spec for condition(s) {unknown}: cannot price them")
    h = model.human
    relay = episodes.condition.map({n: p.relay_minutes for n, p in profiles.items()}).astype(float)
    out = episodes.assign(
        compute_usd=np.where(episodes.tokens > 0, episodes.cost_usd, episodes.actions * model.compute.usd_per_action),
        approval_minutes=episodes.approvals * h.minutes_per_approval,
        relay_minutes=episodes.actions * relay,
        incident_minutes=(episodes.crashes - episodes.recoveries).clip(lower=0) * h.minutes_per_incident,
        rework_minutes=(~episodes.success.astype(bool)) * h.rework_minutes_per_failure,
    )
    minutes = out[["approval_minutes", "relay_minutes", "incident_minutes", "rework_minutes"]].sum(axis=1)
    return out.assign(human_hours=minutes / 60.0)


@dataclass(frozen=True)
class CostTable:
    """Per task and condition: success rate, compute USD and human hours (means over the
    task's repeats), as one paired ``TaskTable``; plus each condition's infrastructure."""

    table: TaskTable
    conditions: tuple[str, ...]
    infra: np.ndarray  # (k,) USD per agent-month at the model's prices
    run_id: str

    def parts(self, means: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(success, compute, hours), each (..., k), from column means (..., 3k)."""
        n = len(PARTS)
        return means[..., 0::n], means[..., 1::n], means[..., 2::n]

    def index(self, condition: str) -> int:
        if condition not in self.conditions:
            raise ConfigError(f"condition {condition!r} is not in run {self.run_id} "
                              f"(its conditions: {', '.join(self.conditions)})")
        return self.conditions.index(condition)


def cost_table(episodes: pd.DataFrame, conditions: Mapping[str, dict] | pd.DataFrame,
               model: CostModel) -> CostTable:
    if episodes.empty:
        raise ValueError("no episodes to price")
    specs = condition_specs(conditions)
    names = tuple(sorted(episodes.condition.unique()))
    missing = [n for n in names if n not in specs]
    if missing:
        raise ValueError(f"no stored spec for condition(s) {missing}: cannot price them")
    profiles = {n: profile_of(n, specs[n], model) for n in names}
    costed = episode_costs(episodes, profiles, model).assign(success=lambda f: f.success.astype(float))
    wide = costed.pivot_table(index=["category", "task_id"], columns="condition", values=list(PARTS),
                              aggfunc="mean")
    wide = wide.reindex(columns=pd.MultiIndex.from_tuples([(p, c) for c in names for p in PARTS]))
    lacking = wide[wide.isna().any(axis=1)]
    if len(lacking):
        (cat, task) = lacking.index[0]
        raise ValueError(f"cost: {len(lacking)} task(s) lack episodes in some condition, e.g. {task} ({cat}): "
                         "an unpaired run is an error, not a smaller sample")
    wide.columns = [f"{c}|{p}" for p, c in wide.columns]
    run_ids = sorted(set(episodes.run_id)) if "run_id" in episodes.columns else []
    infra = np.array([profiles[n].infra_usd_per_agent_month for n in names])
    return CostTable(TaskTable.from_frame(wide), names, infra, ",".join(map(str, run_ids)))


def tco(cost: CostTable, means: np.ndarray, model: CostModel, n_agents: int) -> dict[str, np.ndarray]:
    """TCO/month for N agents and its components, each (..., k), from column means."""
    _, compute, hours = cost.parts(means)
    tasks = n_agents * model.usage.tasks_per_agent_month
    parts = {"infrastructure": np.broadcast_to(n_agents * cost.infra, compute.shape),
             "compute": tasks * compute, "human": tasks * model.human.hourly_rate_usd * hours}
    return {"total": parts["infrastructure"] + parts["compute"] + parts["human"], **parts}


def baselines_of(conditions: Mapping[str, dict] | pd.DataFrame, treatment: str,
                 present: Sequence[str] | None = None) -> tuple[str, ...]:
    """The conditions a treatment's TCO is compared with: every other one except the cells
    one layer away from it (same loop, exactly one layer variant different: the
    leave-one-layer-out attribution cells), decided from the stored specs alone."""
    specs = condition_specs(conditions)
    if treatment not in specs:
        raise ValueError(f"no stored spec for the treatment {treatment!r}")
    names = [n for n in (present if present is not None else sorted(specs)) if n != treatment]
    return tuple(n for n in names if _distance(specs[n], specs[treatment]) != 1)


def _distance(a: dict, b: dict) -> int:
    """Layers whose variant differs; a different loop counts as far (never one layer away)."""
    if a.get("loop", "autonomous") != b.get("loop", "autonomous"):
        return len(LAYERS) + 1
    return sum(_variant(a, layer) != _variant(b, layer) for layer in LAYERS)


def _variant(spec: dict, layer: str) -> str | None:
    return ((spec.get("layers") or {}).get(layer) or {}).get("variant")


def _ratios(totals: np.ndarray, t: int, others: Sequence[int]) -> np.ndarray:
    """Treatment over each baseline, then over the cheapest baseline chosen in each resample
    (so the interval carries the uncertainty of which baseline is cheapest)."""
    each = totals[..., [t]] / totals[..., list(others)]
    best = totals[..., [t]] / totals[..., list(others)].min(axis=-1, keepdims=True)
    return np.concatenate([each, best], axis=-1)


def _comparison(cost: CostTable, conditions: Mapping[str, dict] | pd.DataFrame, treatment: str,
                baselines: Sequence[str] | None) -> tuple[int, list[int]]:
    t = cost.index(treatment)
    chosen = baselines_of(conditions, treatment, cost.conditions) if baselines is None else tuple(baselines)
    others = [cost.index(b) for b in chosen if b != treatment]
    if not others:
        raise ValueError(f"no baseline to compare {treatment} with among {', '.join(cost.conditions)}")
    return t, others


def tco_estimates(episodes: pd.DataFrame, conditions: Mapping[str, dict] | pd.DataFrame, model: CostModel,
                  n_agents: int | None = None, seed: int = 0, resamples: int = 10_000, *,
                  treatment: str | None = None, baselines: Sequence[str] | None = None,
                  confidence: float = 0.95) -> list[EstimateRecord]:
    """Analysis ``tco``: per condition the TCO/month for ``n_agents`` (default: the model's)
    and its components (statistics ``total``, ``infrastructure``, ``compute``, ``human``).
    With a ``treatment``, analysis ``tco_ratio``: its TCO over each baseline's (``ratio``)
    and over the cheapest baseline (``ratio_best_baseline``, conditions naming the cheapest
    at the point estimate). Baselines default to ``baselines_of`` the stored specs."""
    n = int(n_agents or model.n_agents)
    cost = cost_table(episodes, conditions, model)
    boot = StratifiedBootstrap(cost.table.strata, resamples, seed)
    names = cost.conditions
    labels = [("tco", c, part) for part in COMPONENTS for c in names]
    compare = _comparison(cost, conditions, treatment, baselines) if treatment is not None else None
    if compare is not None:
        point = tco(cost, cost.table.values.mean(axis=0), model, n)["total"]
        cheapest = names[min(compare[1], key=lambda j: point[j])]
        labels += [("tco_ratio", f"{treatment}|{names[j]}", "ratio") for j in compare[1]]
        labels += [("tco_ratio", f"{treatment}|{cheapest}", "ratio_best_baseline")]

    def stat(means: np.ndarray) -> np.ndarray:
        parts = tco(cost, means, model, n)
        out = [parts[p] for p in COMPONENTS]
        if compare is not None:
            out.append(_ratios(parts["total"], *compare))
        return np.concatenate(out, axis=-1)

    keys = tuple(str(i) for i in range(len(labels)))
    estimates = boot.estimate(cost.table, stat, names=keys, confidence=confidence)
    return [to_record(cost.run_id, *labels[int(e.statistic)], e, resamples, seed) for e in estimates]


def to_record(run_id: str, analysis: str, conditions: str, statistic: str, e: Estimate, resamples: int,
            seed: int) -> EstimateRecord:
    return EstimateRecord(run_id=run_id, analysis=analysis, statistic=statistic, conditions=conditions,
                          category=e.category, estimate=float(e.estimate), low=float(e.low), high=float(e.high),
                          method=e.method, se=float(e.se), tasks=int(e.tasks), resamples=resamples, seed=seed)


def sensitivity(episodes: pd.DataFrame, conditions: Mapping[str, dict] | pd.DataFrame, model: CostModel,
                treatment: str, hourly_rates: Sequence[float], infra_scales: Sequence[float], *,
                baselines: Sequence[str] | None = None, n_agents: int | None = None, seed: int = 0,
                resamples: int = 2_000, confidence: float = 0.95) -> pd.DataFrame:
    """TCO ratio treatment / cheapest baseline on a grid of hourly rates and infrastructure
    price multipliers (overall, percentile intervals from one set of resampled means).
    Columns: hourly_rate_usd, infra_scale, ratio, low, high, best_baseline (at the point)."""
    n = int(n_agents or model.n_agents)
    cost = cost_table(episodes, conditions, model)
    t, others = _comparison(cost, conditions, treatment, baselines)
    draws = StratifiedBootstrap(cost.table.strata, resamples, seed).draws(cost.table, lambda m: m)[OVERALL]
    point = cost.table.values.mean(axis=0)
    rows = []
    for rate in hourly_rates:
        for scale in infra_scales:
            scaled = model.scaled(hourly_rate_usd=float(rate), infra_scale=float(scale))
            at = CostTable(cost.table, cost.conditions, cost.infra * float(scale), cost.run_id)
            p_tot, d_tot = tco(at, point, scaled, n)["total"], tco(at, draws, scaled, n)["total"]
            low, high = percentile_interval(_ratios(d_tot, t, others)[:, [-1]], confidence)
            best = cost.conditions[min(others, key=lambda j: p_tot[j])]
            rows.append((float(rate), float(scale), float(_ratios(p_tot, t, others)[-1]), float(low[0]),
                         float(high[0]), best))
    return pd.DataFrame(rows, columns=["hourly_rate_usd", "infra_scale", "ratio", "low", "high", "best_baseline"])
