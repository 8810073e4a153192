"""Re-run one stored episode from what the store kept, to get what it did not keep.

The observability layer's record of an episode (a causal DAG, or text log lines) lives
only in memory while the episode runs. Episodes are deterministic, so running the same
(task, condition, agent config, seed, repeat) again yields the same episode, and its
record can be taken from the live session. Everything comes from the store: the task from
the run's workload config, the condition from the spec it ran with (never from today's
``configs/``, which may have changed). The re-run is compared with the stored row, and a
difference is refused: it would mean the code changed, and the trace would not be this
episode's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.agents.llm.recording import Recorder
from harness.agents.scope import EpisodeScope
from harness.core.errors import UserInputError
from harness.core.models import ActionRecord, EpisodeRecord
from harness.experiment.conditions import Condition
from harness.experiment.config import RunConfig, config_dir
from harness.experiment.episode import run_episode
from harness.experiment.runner import effective_conditions
from harness.runtime.session import Session
from harness.store import reader
from harness.store.schema import DETERMINISTIC_EPISODE_COLUMNS
from harness.workload.spec import TaskSpec
from harness.workload.workloads import build_workload

CODE_CHANGED = "the code changed since this run; the trace would not be this episode's"


@dataclass(frozen=True)
class Rerun:
    episode: EpisodeRecord
    actions: list[ActionRecord]
    # The observability layer's export ({"variant": "causal", "nodes": [...]} or
    # {"variant": "textlog", "lines": [...]}); None when the condition has no such layer.
    record: dict[str, Any] | None


def _shown(names: list[str], limit: int = 10) -> str:
    more = f" (and {len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _run_config(db: str | Path, run_id: str, specs: dict[str, dict]) -> RunConfig:
    """The stored run config with the conditions as the ``conditions`` table has them."""
    config = reader.run_info(db, run_id)["config"]
    try:
        return RunConfig.model_validate({**config, "conditions": [Condition(**s) for s in specs.values()]})
    except (ValidationError, TypeError) as exc:
        first = str(exc).splitlines()[0]
        raise UserInputError(f"run {run_id} cannot be rebuilt by this harness ({first})", hint=CODE_CHANGED) from None


def _condition(cfg: RunConfig, name: str, run_id: str) -> Condition:
    # effective_conditions: the run's fault model merged in, exactly as the runner did.
    by_name = {c.name: c for c in effective_conditions(cfg)}
    if name not in by_name:
        raise UserInputError(f"run {run_id} has no condition {name!r}", hint=f"conditions: {_shown(sorted(by_name))}")
    return by_name[name]


def _task(db: str | Path, cfg: RunConfig, task_id: str, run_id: str) -> TaskSpec:
    stored = reader.tasks(db, run_id)
    hashes = dict(zip(stored["task_id"], stored["spec_hash"], strict=True))
    if task_id not in hashes:
        raise UserInputError(f"run {run_id} has no task {task_id!r}", hint=f"tasks: {_shown(sorted(hashes))}")
    spec = next((t for t in build_workload(cfg.workload, base_dir=config_dir().parent) if t.id == task_id), None)
    if spec is None or spec.content_hash() != hashes[task_id]:
        raise UserInputError(f"task {task_id} is no longer built as it was in run {run_id}", hint=CODE_CHANGED)
    return spec


def _stored_row(db: str | Path, run_id: str, key: tuple[str, str, int], repeats: int) -> tuple:
    condition, task_id, repeat = key
    if not 0 <= repeat < repeats:
        raise UserInputError(f"run {run_id} has no repeat {repeat}", hint=f"repeats: 0..{repeats - 1}")
    for row in reader.deterministic_episode_rows(db, run_id):
        if tuple(row[:3]) == key:
            return tuple(row)
    raise UserInputError(f"episode {condition}:{task_id}:{repeat} of run {run_id} is not stored",
                         hint="the run did not finish; resume it with the same `harness run` command")


def differing_columns(stored: tuple, episode: EpisodeRecord) -> list[str]:
    fresh = episode.model_dump()
    return [c for c, v in zip(DETERMINISTIC_EPISODE_COLUMNS, stored, strict=True) if fresh[c] != v]


def _scope(db: str | Path, run_id: str, key: tuple[str, str, int]) -> EpisodeScope:
    """A fresh scope for the re-run. A model agent's episode is re-run from its recorded
    exchanges, offline: tracing an LLM run never calls the endpoint again (and cannot get a
    different answer)."""
    frame = reader.exchanges(db, run_id)
    condition, task_id, repeat = key
    mine = frame[(frame.condition == condition) & (frame.task_id == task_id) & (frame.repeat == repeat)]
    if mine.empty:
        return EpisodeScope()
    known = {row.request_hash: json.loads(row.response) for row in mine.itertuples(index=False)}
    return EpisodeScope(Recorder(known, offline=True))


def rerun_episode(db: str | Path, run_id: str, condition: str, task_id: str, repeat: int) -> Rerun:
    """Run the stored episode again; raises UserInputError for an unknown episode or one
    that does not come out exactly as stored."""
    cfg = _run_config(db, run_id, reader.conditions(db, run_id))
    cond = _condition(cfg, condition, run_id)
    spec = _task(db, cfg, task_id, run_id)
    stored = _stored_row(db, run_id, (condition, task_id, repeat), cfg.repeats)
    seen: list[dict[str, Any] | None] = []

    def observe(session: Session) -> None:
        layer = session.observability
        seen.append(layer.export() if layer is not None else None)

    scope = _scope(db, run_id, (condition, task_id, repeat))
    episode, actions = run_episode(run_id, spec, cond, cfg.agent, cfg.seed, repeat, scope=scope, observe=observe)
    differ = differing_columns(stored, episode)
    if differ:
        raise UserInputError(f"re-running {condition}:{task_id}:{repeat} of run {run_id} gives a different "
                             f"episode (columns differ: {', '.join(differ)})", hint=CODE_CHANGED)
    return Rerun(episode, actions, seen[0] if seen else None)
