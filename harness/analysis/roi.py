"""The phased roll-out (report §5) as cash flows: cumulative ROI over the horizon, payback.

Time runs in weeks from the start of the roll-out. Phase i is built during its ``weeks``
(one after the other, as configured) and goes live at the end of them; until then the
condition of the phase before it operates (the baseline before phase 1). So each
condition operates for a known number of weeks by any time t: the matrix ``W(t)``.

Per operating week, for N agents doing ``tasks_per_agent_month`` tasks each:

- gain of condition c over the baseline b (the savings the report counts):
  ``N T / wpm x [V (p_c - p_b) - ((compute_c + r hours_c) - (compute_b + r hours_b))]``,
  V the value of a completed task beyond the rework it saves, p measured completion,
  compute and hours the measured per-task means (``tco``), r the hourly rate, wpm weeks
  per month;
- spend: the extra infrastructure ``N (infra_c - infra_b) / wpm``, plus each phase's
  one-off investment (engineer-hours x r + one-off USD) spread evenly over its build weeks.

Cumulative gain G(t) = W(t) g is linear in the measured means; spend S(t) is fixed by the
config. The ROI multiple is G/S (what the report calls ROI: savings over spend); net is
G - S; payback is the time after which net stays >= 0 up to the horizon (capped at the
horizon when it never does). A phase's own payback is the number of weeks after it goes
live that its incremental net gain over the phase before takes to repay its investment.

Intervals: the same stratified task bootstrap as every other estimate (the measured means
are resampled; prices are parameters, varied in the sensitivity analysis instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.analysis.bootstrap import OVERALL, StratifiedBootstrap
from harness.analysis.cost_model import WEEKS_PER_MONTH, CostModel
from harness.analysis.tco import CostTable, cost_table, to_record
from harness.core.errors import ConfigError
from harness.core.models import EstimateRecord

GRID_PER_WEEK = 7  # payback is located on a daily grid, then interpolated linearly


@dataclass(frozen=True)
class Schedule:
    """The roll-out's timing in weeks and its fixed spend, for one cost model."""

    order: tuple[int, ...]  # CostTable column of the baseline, then of each phase
    names: tuple[str, ...]  # phase names (baseline first)
    live: np.ndarray  # (P+1,) week each operating stretch starts: 0, then each go-live
    build: np.ndarray  # (P,) build weeks of each phase
    investment: np.ndarray  # (P,) one-off USD of each phase
    horizon: float  # weeks

    def operating(self, t: np.ndarray) -> np.ndarray:
        """(len(t), P+1): weeks each stretch has operated by time t."""
        t = np.asarray(t, dtype=float)[:, None]
        ends = np.append(self.live[1:], np.inf)
        return np.clip(np.minimum(t, ends) - self.live, 0.0, None)

    def invested(self, t: np.ndarray) -> np.ndarray:
        """(len(t),): one-off investment spent by time t (each spread over its build weeks)."""
        t = np.asarray(t, dtype=float)[:, None]
        done = np.clip((t - self.live[:-1]) / self.build, 0.0, 1.0)
        return done @ self.investment


def schedule(cost: CostTable, model: CostModel) -> Schedule:
    r = model.rollout
    order = [_column(cost, r.baseline, "rollout.baseline")]
    order += [_column(cost, p.condition, f"rollout.phases[{i}].condition") for i, p in enumerate(r.phases)]
    build = np.array([p.weeks for p in r.phases])
    rate = model.human.hourly_rate_usd
    return Schedule(tuple(order), (r.baseline, *(p.name for p in r.phases)), np.concatenate([[0.0], np.cumsum(build)]),
                    build, np.array([p.engineer_hours * rate + p.one_off_usd for p in r.phases]), r.horizon_weeks)


def _column(cost: CostTable, condition: str, field: str) -> int:
    if condition not in cost.conditions:
        raise ConfigError(f"cost model {field}: condition {condition!r} is not in run {cost.run_id} "
                          f"(its conditions: {', '.join(cost.conditions)})",
                          hint="run the roll-out's conditions (experiment=phases) or point the rollout at this run's")
    return cost.conditions.index(condition)


def weekly_rates(cost: CostTable, model: CostModel, sched: Schedule, means: np.ndarray,
                 n_agents: int) -> tuple[np.ndarray, np.ndarray]:
    """Per operating stretch (..., P+1): gain per week (from the means) and extra
    infrastructure spend per week (fixed), both relative to the baseline."""
    success, compute, hours = cost.parts(means)
    idx = list(sched.order)
    per_task = compute[..., idx] + model.human.hourly_rate_usd * hours[..., idx]
    value = model.rollout.value_per_completed_task_usd * success[..., idx]
    tasks_per_week = n_agents * model.usage.tasks_per_agent_month / WEEKS_PER_MONTH
    gain = tasks_per_week * ((value - value[..., [0]]) - (per_task - per_task[..., [0]]))
    infra = cost.infra[idx]
    return gain, n_agents * (infra - infra[0]) / WEEKS_PER_MONTH


@dataclass(frozen=True)
class Curves:
    """Cumulative gain, spend, net and ROI multiple at each month end, (..., months)."""

    months: np.ndarray
    gain: np.ndarray
    spend: np.ndarray
    net: np.ndarray
    roi: np.ndarray


def curves(cost: CostTable, model: CostModel, means: np.ndarray, n_agents: int) -> Curves:
    sched = schedule(cost, model)
    months = np.arange(1, model.rollout.horizon_months + 1)
    w = sched.operating(months * WEEKS_PER_MONTH)
    gain_rate, infra_rate = weekly_rates(cost, model, sched, means, n_agents)
    gain = gain_rate @ w.T
    spend = w @ infra_rate + sched.invested(months * WEEKS_PER_MONTH)
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(spend > 0, gain / np.where(spend > 0, spend, 1.0), np.nan)
    return Curves(months, gain, np.broadcast_to(spend, gain.shape), gain - spend, roi)


def payback_weeks(cost: CostTable, model: CostModel, means: np.ndarray, n_agents: int) -> np.ndarray:
    """(...,): weeks until net stays >= 0 to the horizon; the horizon if it never does."""
    sched = schedule(cost, model)
    t = np.linspace(0.0, sched.horizon, int(np.ceil(sched.horizon * GRID_PER_WEEK)) + 1)
    w = sched.operating(t)
    gain_rate, infra_rate = weekly_rates(cost, model, sched, means, n_agents)
    net = gain_rate @ w.T - (w @ infra_rate + sched.invested(t))
    negative = net < -1e-9
    last = np.where(negative.any(axis=-1), negative.shape[-1] - 1 - np.argmax(negative[..., ::-1], axis=-1), -1)
    out = np.zeros(net.shape[:-1])
    has = (last >= 0) & (last < len(t) - 1)
    out[last == len(t) - 1] = sched.horizon
    if has.any():
        i = last[has]
        n0, n1 = np.take_along_axis(net[has], i[:, None], -1)[:, 0], np.take_along_axis(net[has], i[:, None] + 1, -1)[:, 0]
        out[has] = t[i] + (t[i + 1] - t[i]) * (-n0) / np.where(n1 - n0 > 0, n1 - n0, 1.0)
    return out


def phase_payback_weeks(cost: CostTable, model: CostModel, means: np.ndarray, n_agents: int) -> np.ndarray:
    """(..., P): weeks after each phase goes live until its incremental net gain over the
    stretch before it repays its investment; the horizon when it never does (or not in time)."""
    sched = schedule(cost, model)
    gain_rate, infra_rate = weekly_rates(cost, model, sched, means, n_agents)
    incremental = np.diff(gain_rate - infra_rate, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        weeks = np.where(incremental > 0, sched.investment / np.where(incremental > 0, incremental, 1.0), np.inf)
    weeks = np.where(sched.investment > 0, weeks, 0.0)  # nothing invested: nothing to repay
    return np.minimum(weeks, sched.horizon)


def roi_estimates(episodes: pd.DataFrame, conditions: Mapping[str, dict] | pd.DataFrame, model: CostModel,
                  n_agents: int | None = None, seed: int = 0, resamples: int = 10_000, *,
                  confidence: float = 0.95) -> list[EstimateRecord]:
    """Analysis ``roi`` (overall only; conditions "<last phase>|<baseline>"): statistics
    ``roi@<m>`` and ``net_usd@<m>`` for each month m, ``payback_weeks``,
    ``steady_multiple`` (monthly savings over monthly extra infrastructure once every phase
    is live, when that extra is positive), and per phase ``payback_weeks:<phase>``
    (conditions "<phase>|<stretch before>"), ``gain_usd_per_month:<phase>`` (its gain over
    the baseline once live) and ``infra_usd_per_month:<phase>`` (its infrastructure, N agents)."""
    n = int(n_agents or model.n_agents)
    cost = cost_table(episodes, conditions, model)
    sched = schedule(cost, model)
    months = model.rollout.horizon_months
    point = curves(cost, model, cost.table.values.mean(axis=0), n)
    keep = [m for m in range(months) if point.spend[m] > 0]  # a multiple needs something spent
    pair = f"{cost.conditions[sched.order[-1]]}|{cost.conditions[sched.order[0]]}"
    labels = [(pair, f"roi@{m + 1}") for m in keep] + [(pair, f"net_usd@{m + 1}") for m in range(months)]
    labels += [(pair, "payback_weeks")]
    _, infra_rate = weekly_rates(cost, model, sched, cost.table.values.mean(axis=0), n)
    steady = infra_rate[-1] > 0  # savings / extra spend once everything is live (the report's arithmetic)
    labels += [(pair, "steady_multiple")] if steady else []
    phases = model.rollout.phases
    for i, p in enumerate(phases):
        before = cost.conditions[sched.order[i]]
        labels += [(f"{p.condition}|{before}", f"payback_weeks:{p.name}"),
                   (f"{p.condition}|{cost.conditions[sched.order[0]]}", f"gain_usd_per_month:{p.name}"),
                   (p.condition, f"infra_usd_per_month:{p.name}")]
    infra_month = n * cost.infra[list(sched.order[1:])]  # fixed by the prices: its interval is the point

    def stat(means: np.ndarray) -> np.ndarray:
        c = curves(cost, model, means, n)
        gain_rate, _ = weekly_rates(cost, model, sched, means, n)
        multiple = gain_rate[..., -1:] / infra_rate[-1] if steady else gain_rate[..., :0]
        per_phase = np.stack([phase_payback_weeks(cost, model, means, n), gain_rate[..., 1:] * WEEKS_PER_MONTH,
                              np.broadcast_to(infra_month, gain_rate[..., 1:].shape)],
                             axis=-1).reshape(*means.shape[:-1], 3 * len(phases))
        return np.concatenate([c.roi[..., keep], c.net, payback_weeks(cost, model, means, n)[..., None],
                               multiple, per_phase], axis=-1)

    boot = StratifiedBootstrap(cost.table.strata, resamples, seed)
    keys = tuple(str(i) for i in range(len(labels)))
    estimates = [e for e in boot.estimate(cost.table, stat, names=keys, confidence=confidence)
                 if e.category == OVERALL]
    return [to_record(cost.run_id, "roi", *labels[int(e.statistic)], e, resamples, seed) for e in estimates]


def roi_band(episodes: pd.DataFrame, conditions: Mapping[str, dict] | pd.DataFrame, model: CostModel,
             n_agents: int | None = None, seed: int = 0, resamples: int = 2_000,
             confidence: float = 0.95) -> pd.DataFrame:
    """The ROI figure's data: per month the point ROI multiple and net, and their
    percentile bands over bootstrap draws of the measured means (overall)."""
    n = int(n_agents or model.n_agents)
    cost = cost_table(episodes, conditions, model)
    boot = StratifiedBootstrap(cost.table.strata, resamples, seed)
    point = curves(cost, model, cost.table.values.mean(axis=0), n)
    draws = curves(cost, model, boot.draws(cost.table, lambda m: m)[OVERALL], n)
    alpha = (1 - confidence) / 2
    frame = pd.DataFrame({"month": point.months, "roi": point.roi, "net_usd": point.net,
                          "gain_usd": point.gain, "spend_usd": point.spend})
    for name, values in (("roi", draws.roi), ("net_usd", draws.net)):
        frame[f"{name}_low"], frame[f"{name}_high"] = _band(values, alpha)
    return frame


def _band(values: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Per column (month) quantiles; NaN where nothing was spent yet (no multiple exists)."""
    low, high = np.full(values.shape[-1], np.nan), np.full(values.shape[-1], np.nan)
    ok = np.isfinite(values).all(axis=0)
    if ok.any():
        low[ok], high[ok] = np.quantile(values[:, ok], [alpha, 1 - alpha], axis=0)
    return low, high
