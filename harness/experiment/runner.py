"""The runner: plan (condition x task x repeat), skip what is stored, execute, write.

Everything that can be wrong with the input is checked before the store is opened, so a
bad command leaves stored results untouched. Only this process writes to the store;
workers return rows. Episodes are committed in batches, and a killed run resumes where
the last committed batch ended when the same command is run again.
"""

from __future__ import annotations

import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.agents import make_agent
from harness.core.models import ActionRecord, EpisodeRecord
from harness.experiment.conditions import Condition
from harness.experiment.config import RunConfig, config_dir
from harness.experiment.episode import run_episode
from harness.experiment.executors import get_executor
from harness.experiment.faults import FaultModel
from harness.experiment.loops import make_loop
from harness.runtime.runtime import Runtime
from harness.store import ResultWriter, RunInfo
from harness.workload.spec import TaskSpec
from harness.workload.workloads import build_workload, check_families, workload_hash

EpisodeRows = tuple[EpisodeRecord, list[ActionRecord]]


@dataclass(frozen=True)
class TaskJob:
    """All pending episodes of one task: the world is built once per (worker, task)."""

    run_id: str
    spec: TaskSpec
    conditions: tuple[Condition, ...]
    agent: dict
    seed: int
    pending: tuple[tuple[str, int], ...]  # (condition name, repeat)


def run_task_job(job: TaskJob) -> list[EpisodeRows]:
    by_name = {c.name: c for c in job.conditions}
    return [run_episode(job.run_id, job.spec, by_name[c], job.agent, job.seed, r) for c, r in job.pending]


@dataclass
class RunSummary:
    run_id: str
    store: Path
    planned: int
    already_done: int
    executed: int = 0
    wall_seconds: float = 0.0
    successes: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.executed / self.wall_seconds if self.wall_seconds > 0 else 0.0


def validate(cfg: RunConfig) -> list[TaskSpec]:
    """Every check that needs no store: layers, agent, families; returns the tasks."""
    for cond in effective_conditions(cfg):
        Runtime({k: v.model_dump() for k, v in cond.layers.items()})
        FaultModel.parse(cond.faults)
        make_loop(cond.loop, cond.loop_options)
    make_agent(cfg.agent)
    get_executor(cfg.executor.name)
    check_families(cfg.workload)
    return build_workload(cfg.workload, base_dir=config_dir().parent)


def code_version() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parents[2])
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def effective_conditions(cfg: RunConfig) -> tuple[Condition, ...]:
    """The run's fault model applies to every condition (it is the environment); a
    condition's own ``faults`` entries override it key by key."""
    return tuple(c.model_copy(update={"faults": {**cfg.faults, **c.faults}}) for c in cfg.conditions)


def plan_jobs(cfg: RunConfig, run_id: str, tasks: list[TaskSpec], done: set[tuple[str, str, int]]) -> list[TaskJob]:
    jobs = []
    for spec in tasks:
        pending = tuple(
            (c.name, r) for c in cfg.conditions for r in range(cfg.repeats) if (c.name, spec.id, r) not in done
        )
        if pending:
            jobs.append(TaskJob(run_id, spec, effective_conditions(cfg), cfg.agent, cfg.seed, pending))
    return jobs


def run_experiment(cfg: RunConfig, on_progress: Callable[[int, int, int], None] | None = None) -> RunSummary:
    """Run or resume; ``on_progress(done, planned, committed)`` after each task job."""
    tasks = validate(cfg)
    run_id = cfg.run_id()
    planned = len(tasks) * len(cfg.conditions) * cfg.repeats
    info = RunInfo(
        id=run_id, experiment=cfg.experiment, config=cfg.model_dump(mode="json"), config_hash=cfg.config_hash(),
        workload_hash=workload_hash(tasks), code_version=code_version(), seed=cfg.seed, repeats=cfg.repeats,
        planned_episodes=planned, host=platform.node(),
    )
    with ResultWriter(cfg.store.path, batch_size=cfg.store.batch_size) as writer:
        done = writer.begin_run(info)
        writer.record_conditions(run_id, {c.name: c.model_dump(mode="json") for c in cfg.conditions})
        writer.record_tasks(run_id, [
            {"task_id": t.id, "category": t.category, "family": t.family, "difficulty": t.difficulty,
             "seed": t.seed, "spec_hash": t.content_hash()} for t in tasks
        ])
        summary = RunSummary(run_id, Path(cfg.store.path), planned, already_done=len(done))
        jobs = plan_jobs(cfg, run_id, tasks, done)
        started = time.perf_counter()
        if on_progress:
            on_progress(len(done), planned, len(done))
        for rows in get_executor(cfg.executor.name)(run_task_job, jobs, cfg.executor):
            for episode, actions in rows:
                writer.add(episode, actions)
                summary.successes[episode.condition] = summary.successes.get(episode.condition, 0) + episode.success
            summary.executed += len(rows)
            if on_progress:
                on_progress(len(done) + summary.executed, planned, len(done) + summary.executed - writer.pending)
        writer.finish_run(run_id)
        summary.wall_seconds = time.perf_counter() - started
    return summary
