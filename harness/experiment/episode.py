"""The episode: one agent, one task, one condition, one repeat -> one row.

Budgets, faults and recovery are the driver's (``drive.py``); success is decided only by
the task's checkers on the final world. Nothing is ever dropped: an exception in the
agent's own code becomes an ``agent_error`` row, one anywhere else (runtime, checkers, a
wall-clock backstop) a ``harness_error`` row, each with its first traceback. Neither is a
task failure: analyses leave them out of every rate (``harness.analysis.validity``).

The caller gives the episode its scope (``harness.agents.scope.EpisodeScope``): the runner
one per episode, everything else (``harness trace``, tests) a fresh one. What the agent
spent on a model is read from it for the row.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.agents.llm.conversation import brief_message
from harness.agents.registry import AgentSpec, code_trusted, validate_agent, with_profile
from harness.agents.scope import EpisodeScope
from harness.core.models import ActionRecord, EpisodeRecord, Termination
from harness.core.rng import RngStreams
from harness.experiment.conditions import Condition, runtime_layers
from harness.experiment.drive import AgentFault, Driver, DriveStats
from harness.experiment.faults import FaultModel, FaultSchedule
from harness.experiment.loops import make_loop
from harness.runtime.runtime import Runtime
from harness.runtime.session import Session
from harness.workload import CheckResult, get_family, run_checkers
from harness.workload.spec import TaskSpec, with_budget_scale

DIAGNOSIS_CHECKER = "diagnosis"


@dataclass(frozen=True)
class EpisodeKey:
    condition: str
    task_id: str
    repeat: int


def _safety(session: Session) -> dict[str, Any]:
    s = session.safety
    return {"approvals": s.approvals, "approval_wait_minutes": round(s.approval_wait_minutes, 6),
            "unsafe_attempted": s.unsafe_attempted, "unsafe_blocked": s.unsafe_blocked,
            "unsafe_applied": s.unsafe_applied}


def _drive_stats(stats: DriveStats, session: Session | None) -> dict[str, Any]:
    checkpoints = int(session.execution.status().get("checkpoints", 0)) if session is not None else 0
    return {"crashes": stats.crashes, "recoveries": stats.recoveries, "checkpoints": checkpoints,
            "transient_failures": stats.transient_failures, "budget_extensions": stats.budget_extensions,
            "downtime_minutes": round(stats.downtime_minutes, 6),
            "retention_asked": stats.retention.asked, "retention_correct": stats.retention.correct}


def _diagnosis_minutes(stats: DriveStats, checks: list[CheckResult]) -> float | None:
    """When the task judges a diagnosis (a ``diagnosis`` checker), the simulated minute of
    the submit that carried a correct one; None for other tasks or a wrong diagnosis."""
    verdicts = [c.passed for c in checks if c.checker == DIAGNOSIS_CHECKER]
    if not verdicts or not all(verdicts) or stats.submitted_at is None:
        return None
    return round(stats.submitted_at, 6)


TRACEBACK_LIMIT = 20_000  # characters kept of an error's traceback (its end, where it was raised)


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def _traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))[-TRACEBACK_LIMIT:]


def run_episode(
    run_id: str, spec: TaskSpec, condition: Condition, agent: AgentSpec | Mapping[str, Any], seed: int, repeat: int,
    *, scope: EpisodeScope, observe: Callable[[Session], None] | None = None,
) -> tuple[EpisodeRecord, list[ActionRecord]]:
    """``agent`` is the parsed agent config (a raw one is parsed here); ``scope`` is this
    episode's, handed to every agent built for it. ``observe(session)`` sees the live session
    once, after the agent stopped and before the execution layer closes (``harness trace``
    takes the observability record from it)."""
    started = time.perf_counter()
    world = get_family(spec.family).build_world(spec)
    session: Session | None = None
    stats = DriveStats()
    error = trace = None
    termination: Termination
    try:
        agent = with_profile(validate_agent(agent), condition.agent_profile)  # an arm's skill level
        spec = with_budget_scale(spec, condition.budget_scale)
        faults = FaultModel.parse(condition.faults)
        runtime = Runtime(runtime_layers(condition, code_trusted(agent)))
        # Two holders of the same named streams: the layers and the fault model draw from
        # the environment's, the agent from its own (it is never handed the other).
        environment = RngStreams(seed, spec.id, repeat)
        session = runtime.deploy(world, spec.brief(), environment)
        driver = Driver(session, spec, agent, RngStreams(seed, spec.id, repeat), session.execution,
                        FaultSchedule(faults, environment), episode_id=f"{spec.id}/r{repeat}",
                        loop=make_loop(condition.loop, condition.loop_options), scope=scope)
        stats = driver.stats
        termination = driver.run()
    except AgentFault as fault:
        termination, error, trace = "agent_error", _one_line(fault.cause), _traceback(fault.cause)
    except Exception as exc:  # noqa: BLE001 - recorded as a row, never dropped
        termination, error, trace = "harness_error", _one_line(exc), _traceback(exc)
    finally:
        try:
            if session is not None and observe is not None:
                observe(session)
        finally:
            if session is not None and session.execution is not None:
                session.execution.close()
    # what the agent spent on a model, and whether the run's token/cost cap ended it
    tokens, cost_usd, capped = scope.usage()
    if capped and error is None:
        termination = "budget_cap"
    checks: list[CheckResult] = []
    if error is None:  # an errored episode measured nothing: its world is not judged
        try:
            checks = run_checkers(world, spec)
        except Exception as exc:  # noqa: BLE001 - a checker's wall-clock backstop: the harness's error
            termination, error, trace = "harness_error", _one_line(exc), _traceback(exc)
    log = session.log if session else []
    ineffective = session.effects.ineffective() if session else set()
    accurate = [a.ok and a.seq not in ineffective for a in log]
    key = {"run_id": run_id, "condition": condition.name, "task_id": spec.id, "repeat": repeat}
    episode = EpisodeRecord(
        **key,
        category=spec.category,
        family=spec.family,
        difficulty=spec.difficulty,
        seed=seed,
        success=error is None and all(c.passed for c in checks),
        termination=termination,
        check_detail=json.dumps([c.to_dict() for c in checks], sort_keys=True),
        actions=len(log),
        tool_calls=len(log),
        tool_calls_ok=sum(a.ok for a in log),
        tool_calls_rejected=sum(not a.applied for a in log),
        tool_calls_accurate=sum(accurate),
        sim_minutes=round(session.clock.now(), 6) if session else 0.0,
        **(_safety(session) if session else {}),
        **_drive_stats(stats, session),
        diagnosis_minutes=_diagnosis_minutes(stats, checks),
        tokens=tokens,
        cost_usd=cost_usd,
        world_digest=world.digest(),
        error=error,
        wall_seconds=time.perf_counter() - started,
        traceback=trace,
    )
    actions = [
        ActionRecord(**key, seq=a.seq, parent=a.parent, tool=a.tool, ok=a.ok, accurate=good,
                     sim_minutes=a.sim_minutes, wall_latency_ms=a.wall_latency_ms, session=a.session,
                     args=a.args, observation=a.observation)
        for a, good in zip(log, accurate, strict=True)
    ]
    return episode, actions


def brief_texts(session: Session) -> list[str]:
    """The brief of each work session the episode began, as an agent reads it (the text a
    model agent is given: ``harness.agents.llm.conversation.brief_message``)."""
    return [brief_message(b) for b in session.briefs]
