"""Table 1's metrics as ratios of task-level sums, from the measured episode fields.

Every metric of the report's Table 1 is a ratio of two sums over a condition's episodes
(successes / episodes, correct probes / probes, response minutes / incidents, accurate
calls / calls). Summing numerator and denominator per task and bootstrapping tasks gives
the ratio of means with a task-clustered interval, and a task that has none of something
(no probes, no incidents) simply adds 0 to both sums instead of being dropped or guessed.
So completion weighs tasks equally (equal repeats), accuracy weighs calls, retention
weighs probes and incident response weighs incidents: each is "per what it counts".

Incidents, and how an incident that never got a response is counted:

- A *world incident* is a task whose checkers include a ``diagnosis`` checker (the
  incident is live when the episode starts, minute 0). Its response time is the episode's
  ``diagnosis_minutes`` (the simulated minute of the submit that carried a correct
  diagnosis). An incident never correctly diagnosed is right-censored at the task's time
  budget: it took at least the whole budget. The budget is the same for the task under
  every condition, so the paired comparison stays fair; censoring at the episode's own end
  instead would reward a condition for giving up or guessing early. Means with censored
  values are lower bounds, and the share censored is reported beside them.
- An *agent incident* is a crash of the agent process; its response is the time until the
  agent acts again (``downtime_minutes``: detection plus restart, measured per episode).
  A crash after which nothing restarted (termination ``crash_not_recovered``: the last
  crash has no downtime) is censored at ``unrecovered_crash_minutes``, the run's fault
  model's slowest recovery path (a person noticing plus a restart), again the same value
  in every condition.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

SCENARIO = "scenario"
DIAGNOSIS_CHECKER = "diagnosis"
UNRECOVERED = "crash_not_recovered"


@dataclass(frozen=True)
class Metric:
    """One row of Table 1: numerator and denominator are per-episode columns of ``derive``."""

    name: str
    label: str
    numerator: str
    denominator: str
    higher_is_better: bool
    unit: str  # "share" (stored as a fraction) or "minutes"


METRICS: tuple[Metric, ...] = (
    Metric("completion", "Task completion", "success", "episodes", True, "share"),
    Metric("retention", "Cross-session retention", "retention_correct", "retention_asked", True, "share"),
    Metric("incident_response", "Incident response (min)", "incident_minutes", "incidents", False, "minutes"),
    Metric("world_incident_response", "  world incidents (min)", "world_minutes", "world_incidents", False,
           "minutes"),
    Metric("agent_incident_response", "  agent crashes (min)", "agent_minutes", "agent_incidents", False,
           "minutes"),
    Metric("incidents_censored", "  incidents never resolved", "incidents_censored", "incidents", False, "share"),
    Metric("tool_call_accuracy", "Tool call accuracy", "tool_calls_accurate", "tool_calls", True, "share"),
)
METRIC = {m.name: m for m in METRICS}
RAW = tuple(sorted({c for m in METRICS for c in (m.numerator, m.denominator)}))


def scenario_of(episodes: pd.DataFrame) -> pd.Series:
    """An episode's scenario: its ``scenario`` column where the store has one, else the task
    id's prefix (S12 task ids are ``<scenario>-NNNN`` by construction of the workload)."""
    prefix = episodes.task_id.astype(str).str.rsplit("-", n=1).str[0]
    if SCENARIO in episodes.columns:
        return episodes[SCENARIO].where(episodes[SCENARIO].notna(), prefix).astype(str)
    return prefix


def has_diagnosis(check_detail: str) -> bool:
    return any(c.get("checker") == DIAGNOSIS_CHECKER for c in json.loads(check_detail or "[]"))


def diagnosis_tasks(episodes: pd.DataFrame) -> list[str]:
    """Tasks judged on a diagnosis (world incidents), from the checkers that ran."""
    flags = episodes.check_detail.map(has_diagnosis)
    return sorted(set(episodes.task_id[flags]))


def derive(episodes: pd.DataFrame, budgets: Mapping[str, float], unrecovered_crash_minutes: float) -> pd.DataFrame:
    """One row per episode: key columns plus every column in ``RAW``.

    ``budgets``: task id -> time budget (simulated minutes) for every world-incident task;
    a missing one is an error, since guessing it would move the censored means."""
    out = episodes[["condition", "task_id", "repeat"]].copy()
    out[SCENARIO] = scenario_of(episodes).to_numpy()
    out["success"] = episodes.success.astype(float)
    out["episodes"] = 1.0
    for col in ("retention_correct", "retention_asked", "tool_calls_accurate", "tool_calls"):
        out[col] = episodes[col].astype(float)
    world = episodes.check_detail.map(has_diagnosis).to_numpy()
    missing = sorted(set(episodes.task_id[world]) - set(budgets))
    if missing:
        raise ValueError(f"no time budget for incident task(s) {', '.join(missing[:5])}: "
                         "an undiagnosed incident is censored at it")
    diagnosed = episodes.diagnosis_minutes.notna().to_numpy() & world
    budget = episodes.task_id.map(lambda t: budgets.get(t, 0.0)).to_numpy(float)
    out["world_incidents"] = world.astype(float)
    out["world_minutes"] = np.where(diagnosed, episodes.diagnosis_minutes.fillna(0.0).to_numpy(float),
                                    np.where(world, budget, 0.0))
    unrecovered = (episodes.termination == UNRECOVERED).to_numpy() & (episodes.crashes > 0).to_numpy()
    out["agent_incidents"] = episodes.crashes.astype(float).to_numpy()
    out["agent_minutes"] = episodes.downtime_minutes.astype(float).to_numpy() + unrecovered * unrecovered_crash_minutes
    out["incidents"] = out.world_incidents + out.agent_incidents
    out["incident_minutes"] = out.world_minutes + out.agent_minutes
    out["incidents_censored"] = (world & ~diagnosed).astype(float) + unrecovered.astype(float)
    return out


def task_sums(derived: pd.DataFrame, conditions: list[str]) -> pd.DataFrame:
    """Per (scenario, task): the sum over repeats of every RAW column in every condition,
    columns named ``<raw>|<condition>``. Unpaired data (a task without episodes in one of
    the conditions) is an error, never a smaller sample."""
    rows = derived[derived.condition.isin(conditions)]
    sums = rows.groupby([SCENARIO, "task_id", "condition"])[list(RAW)].sum()
    wide = sums.unstack("condition")
    absent = [c for c in conditions if c not in set(rows.condition)]
    if absent:
        raise ValueError(f"no episodes under {', '.join(absent)}")
    lacking = wide[("episodes", conditions[0])].index[wide[[("episodes", c) for c in conditions]].isna().any(axis=1)]
    if len(lacking):
        scenario, task = lacking[0]
        raise ValueError(f"{len(lacking)} task(s) lack episodes in some condition, e.g. {task} ({scenario})")
    wide.columns = [f"{raw}|{cond}" for raw, cond in wide.columns]
    return wide[[f"{raw}|{c}" for c in conditions for raw in RAW]].sort_index()


def divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den without ever dividing by zero: x/0 is +inf for x > 0 (an unbounded ratio,
    reported as such) and NaN for 0/0 (undefined: nothing to compare)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    safe = np.where(den > 0, den, 1.0)
    with np.errstate(invalid="ignore"):
        return np.where(den > 0, num / safe, np.where(num > 0, np.inf, np.nan))
