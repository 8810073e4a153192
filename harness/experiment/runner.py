"""The runner: plan (condition x task x repeat), skip what is stored, execute, write.

Everything that can be wrong with the input is checked before the store is opened, so a
bad command leaves stored results untouched. Only this process writes to the store;
workers return rows. Episodes are committed in batches, and a killed run resumes where
the last committed batch ended when the same command is run again.

The agent config is parsed once (``validate``) and travels parsed in each job; every
episode gets its own ``EpisodeScope``, and the episodes of one invocation share a
``Spending`` (what they spent on a model, for the run's cap).
"""

from __future__ import annotations

import contextlib
import functools
import json
import platform
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.agents.llm.preflight import is_model_agent, preflight
from harness.agents.llm.recording import Recorder
from harness.agents.registry import AgentSpec, build_agent, validate_agent
from harness.agents.scope import EpisodeScope, RunBudget, Spending
from harness.core.errors import ConfigError, ResumeConflictError
from harness.core.models import ERROR_TERMINATIONS, ActionRecord, EpisodeRecord
from harness.core.resources import DIST_NAME, dist_version, installed
from harness.experiment.conditions import Condition
from harness.experiment.config import RunConfig, config_dir
from harness.experiment.config_diff import explained_conflict
from harness.experiment.episode import brief_texts, run_episode
from harness.experiment.executors.base import concurrency_of, make_executor
from harness.experiment.interrupts import Interrupts, RunStopped
from harness.store import ResultWriter, RunInfo
from harness.store.reader import exchanges as stored_exchanges
from harness.store.schema import BriefRecord, ExchangeRecord
from harness.workload.spec import TaskSpec
from harness.workload.workloads import build_workload, check_families, workload_hash

EpisodeRows = tuple[EpisodeRecord, list[ActionRecord], list[ExchangeRecord], list[BriefRecord]]
Recordings = dict[tuple[str, int], dict[str, dict]]  # (condition, repeat) -> request hash -> response


@dataclass(frozen=True)
class TaskJob:
    """Pending episodes of one task, run one after another (see ``plan_jobs``)."""

    run_id: str
    spec: TaskSpec
    conditions: tuple[Condition, ...]
    agent: AgentSpec  # parsed once per run
    seed: int
    pending: tuple[tuple[str, int], ...]  # (condition name, repeat)
    replay: Recordings | None = None  # agent.replay: this task's recorded exchanges; no network
    budget: RunBudget | None = None  # a model agent's run-wide token/cost cap


@dataclass
class JobResult:
    rows: list[EpisodeRows]
    capped: str | None = None  # the run's token/cost cap ended the job
    fatal: BaseException | None = None  # the endpoint failed or a replay missed: the run stops


def run_task_job(job: TaskJob, spending: Spending | None = None) -> JobResult:
    """``spending`` is the invocation's, shared by the jobs run in its process (see
    ``RunBudget``); without one, the job counts its own episodes only."""
    spending = Spending() if spending is None else spending
    by_name = {c.name: c for c in job.conditions}
    result = JobResult([])
    for c, r in job.pending:
        scope = EpisodeScope(Recorder((job.replay or {}).get((c, r), {}), offline=job.replay is not None),
                             job.budget or RunBudget(), spending)
        if scope.cap_reached():
            result.capped = scope.capped
            break
        told: list[str] = []  # the brief of each session, for the transcript
        episode, actions = run_episode(job.run_id, job.spec, by_name[c], job.agent, job.seed, r, scope=scope,
                                       observe=lambda session, told=told: told.extend(brief_texts(session)))
        if scope.fatal is not None:  # the episode did not really run: nothing of it is stored
            result.fatal = scope.fatal
            break
        key = {"run_id": job.run_id, "condition": c, "task_id": job.spec.id, "repeat": r}
        result.rows.append((episode, actions, [ExchangeRecord(**key, **x.as_row()) for x in scope.exchanges()],
                            [BriefRecord(**key, session=k, text=t) for k, t in enumerate(told)]))
        if scope.capped:
            result.capped = scope.capped
            break
    return result


@dataclass
class RunSummary:
    run_id: str
    store: Path
    planned: int
    already_done: int
    executed: int = 0
    wall_seconds: float = 0.0
    successes: dict[str, int] = field(default_factory=dict)
    tokens: int = 0  # model tokens and cost of the whole run so far (stored before included)
    cost_usd: float = 0.0
    stopped: str | None = None  # why the run stopped scheduling before its plan was done
    errors: dict[tuple[str, str], int] = field(default_factory=dict)  # (condition, termination) -> episodes
    first_error: str | None = None  # "<task> under <condition>: <error>" of the first error this invocation

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def rate(self) -> float:
        return self.executed / self.wall_seconds if self.wall_seconds > 0 else 0.0


def _count_error(summary: RunSummary, episode: EpisodeRecord) -> None:
    if episode.termination not in ERROR_TERMINATIONS:
        return
    key = (episode.condition, episode.termination)
    summary.errors[key] = summary.errors.get(key, 0) + 1
    if summary.first_error is None:
        summary.first_error = f"{episode.task_id} r{episode.repeat} under {episode.condition}: {episode.error}"


def _too_many_errors(summary: RunSummary, max_errors: int) -> str | None:
    if summary.error_count <= max_errors:
        return None
    return (f"{summary.error_count} episode(s) ended in an agent or harness error (max_errors={max_errors}); "
            f"raise max_errors to let such a run go on")


def validate(cfg: RunConfig) -> tuple[AgentSpec, list[TaskSpec]]:
    """What the config's own schemas cannot tell (those were checked at compose time,
    ``plugin_check``): the agent built once (an outside agent's process starts, or fails,
    here), the workload's families and tasks. Returns the parsed agent and the tasks."""
    agent = validate_agent(cfg.agent)
    build_agent(agent, EpisodeScope())
    check_families(cfg.workload)
    return agent, build_workload(cfg.workload, base_dir=config_dir().parent)


def code_version() -> str:
    """The checkout's commit; an installed package's distribution version (its site-packages
    may well lie inside some other git repository, whose commit would say nothing)."""
    if installed():
        return f"{DIST_NAME}=={dist_version()}"
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


def plan_jobs(cfg: RunConfig, agent: AgentSpec, run_id: str, tasks: list[TaskSpec], done: set[tuple[str, str, int]],
              replay: dict[str, Recordings] | None = None, budget: RunBudget | None = None,
              one_episode_each: bool = False) -> list[TaskJob]:
    """One job per task with all its pending episodes; one job per episode when
    ``one_episode_each`` (jobs run at once per worker process: then a task's conditions and
    repeats run at once too, instead of the jobs in flight being capped by the task count)."""
    jobs = []
    for spec in tasks:
        pending = tuple(
            (c.name, r) for c in cfg.conditions for r in range(cfg.repeats) if (c.name, spec.id, r) not in done
        )
        recordings = None if replay is None else replay.get(spec.id, {})
        if not one_episode_each:
            if pending:
                jobs.append(TaskJob(run_id, spec, effective_conditions(cfg), agent, cfg.seed, pending,
                                    recordings, budget))
            continue
        for key in pending:  # each job carries its own episode's recordings only
            mine = None if recordings is None else {k: v for k, v in recordings.items() if k == key}
            jobs.append(TaskJob(run_id, spec, effective_conditions(cfg), agent, cfg.seed, (key,), mine, budget))
    return jobs


def load_recordings(cfg: RunConfig) -> dict[str, Recordings] | None:
    """``agent.replay=RUN``: RUN's exchanges from the store, by task; None when not replaying."""
    run = cfg.agent.get("replay") if is_model_agent(cfg.agent) else None
    if run is None:
        return None
    frame = stored_exchanges(cfg.store.path, run)
    if frame.empty:
        raise ConfigError(f"run {run!r} has no recorded model exchanges to replay",
                          hint="agent.replay takes the id of a run made with agent=llm or agent=mock")
    out: dict[str, Recordings] = {}
    for row in frame.itertuples(index=False):
        by_episode = out.setdefault(row.task_id, {}).setdefault((row.condition, int(row.repeat)), {})
        by_episode[row.request_hash] = json.loads(row.response)
    return out


def run_budget(cfg: RunConfig, spent: tuple[int, float]) -> RunBudget | None:
    if not is_model_agent(cfg.agent):
        return None
    a = cfg.agent
    return RunBudget(a.get("max_run_tokens"), a.get("max_run_cost_usd"), spent[0], spent[1])


class _Schedule:
    """The planned jobs, handed to the executor until the run stops scheduling."""

    def __init__(self, jobs: list[TaskJob], at_once: bool = False):
        self.jobs = jobs
        self.at_once = at_once  # jobs run at once per worker process: a stop lets those in flight be stored
        self.stopped = False

    def __len__(self) -> int:
        return len(self.jobs)

    def __iter__(self) -> Iterator[TaskJob]:
        for job in self.jobs:
            if self.stopped:
                return
            yield job

    def stop(self) -> None:
        self.stopped = True


def _closing(results: Iterator[JobResult]) -> contextlib.AbstractContextManager:
    return contextlib.closing(results) if hasattr(results, "close") else contextlib.nullcontext(results)


def _store(writer: ResultWriter, summary: RunSummary, result: JobResult) -> None:
    for episode, actions, exchanges, briefs in result.rows:
        writer.add(episode, actions, exchanges, briefs)
        summary.successes[episode.condition] = summary.successes.get(episode.condition, 0) + episode.success
        _count_error(summary, episode)
        summary.tokens += episode.tokens
        summary.cost_usd += episode.cost_usd
    summary.executed += len(result.rows)


def _collect(results: Iterator[JobResult], writer: ResultWriter, summary: RunSummary, jobs: _Schedule,
             interrupts: Interrupts, report: Callable[[JobResult], None]) -> None:
    """Store each job's episodes as it finishes; ``report`` shows progress and decides
    whether the run stops scheduling (``summary.stopped``)."""
    for result in results:
        with interrupts.shielded():  # an episode is buffered whole, or not at all
            _store(writer, summary, result)
        report(result)
        if result.fatal is not None:
            raise result.fatal  # the writer still commits every finished episode on the way out
        if jobs.stopped or not summary.stopped:
            continue  # stopped already: storing the jobs that were in flight
        if not jobs.at_once:
            return  # schedule nothing more (with a pool, jobs in flight finish unstored)
        jobs.stop()  # schedule nothing more; the many jobs in flight, already paid for, are stored


def run_experiment(cfg: RunConfig, on_progress: Callable[[int, int, int], None] | None = None,
                   on_usage: Callable[[int, float], None] | None = None) -> RunSummary:
    """Run or resume; ``on_progress(done, planned, committed)`` after each task job, and
    ``on_usage(tokens, cost_usd)`` of the run so far before it, for a model agent."""
    agent, tasks = validate(cfg)
    preflight(agent)  # endpoint, model, key: one line and nothing stored if wrong
    replay = load_recordings(cfg)
    run_id = cfg.run_id()
    planned = len(tasks) * len(cfg.conditions) * cfg.repeats
    executor = make_executor(cfg.executor, agent=agent)  # joins a Ray cluster here: one that is not there stores nothing
    info = RunInfo(
        id=run_id, experiment=cfg.experiment, config=cfg.model_dump(mode="json"), config_hash=cfg.config_hash(),
        workload_hash=workload_hash(tasks), code_version=code_version(), seed=cfg.seed, repeats=cfg.repeats,
        planned_episodes=planned, host=platform.node(),
    )
    interrupts = Interrupts()
    try:
        with interrupts.installed(), ResultWriter(cfg.store.path, batch_size=cfg.store.batch_size) as writer:
            done = writer.begin_run(info)
            writer.record_conditions(run_id, {c.name: c.model_dump(mode="json") for c in cfg.conditions})
            writer.record_tasks(run_id, [
                {"task_id": t.id, "category": t.category, "family": t.family, "difficulty": t.difficulty,
                 "seed": t.seed, "spec_hash": t.content_hash()} for t in tasks
            ])
            summary = RunSummary(run_id, Path(cfg.store.path), planned, already_done=len(done))
            summary.tokens, summary.cost_usd = writer.run_usage(run_id)
            budget = run_budget(cfg, (summary.tokens, summary.cost_usd))
            at_once = concurrency_of(cfg.executor, agent) > 1  # jobs run at once per worker process
            jobs = _Schedule(plan_jobs(cfg, agent, run_id, tasks, done, replay, budget, one_episode_each=at_once),
                             at_once)
            # this invocation's spending: one object for the jobs run in a process (on all its threads)
            run_job = functools.partial(run_task_job, spending=Spending())
            started = time.perf_counter()

            def report(result: JobResult | None = None) -> None:
                if on_usage and budget is not None:
                    on_usage(summary.tokens, summary.cost_usd)
                if on_progress:
                    on_progress(len(done) + summary.executed, planned, len(done) + summary.executed - writer.pending)
                if result is not None and not jobs.stopped:
                    summary.stopped = (result.capped
                                       or (budget.reached(summary.tokens, summary.cost_usd) if budget else None)
                                       or _too_many_errors(summary, cfg.max_errors))

            report()
            try:
                # closing: an interrupt outside the executor's generator still shuts its pool down now
                with _closing(executor(run_job, jobs)) as results:
                    _collect(results, writer, summary, jobs, interrupts, report)
            except KeyboardInterrupt:
                with interrupts.shielded():  # a second Ctrl-C does not cut the last commit short
                    stored = writer.stop_run(run_id)
                    interrupts.discard()
                raise RunStopped(run_id, stored, planned) from None
            with interrupts.shielded():  # finished is finished: an interrupt now changes nothing
                writer.finish_run(run_id)
                interrupts.discard()
            summary.wall_seconds = time.perf_counter() - started
    except ResumeConflictError as exc:  # the writer is closed: the stored config can be read
        raise explained_conflict(exc, cfg.store.path, run_id, info.config, info.config_hash) from None
    return summary
