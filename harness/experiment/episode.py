"""The episode loop: one agent, one task, one condition, one repeat -> one row.

Budgets are enforced here (actions, simulated minutes); success is decided only by the
task's checkers on the final world. Nothing is ever dropped: an exception anywhere in
the agent or the runtime becomes a ``harness_error`` row with its message.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from harness.agents import make_agent
from harness.core.models import ActionRecord, EpisodeRecord
from harness.core.rng import RngStreams
from harness.experiment.conditions import Condition
from harness.runtime.port import Call, GiveUp, History, Recall, Remember, Submit, Think
from harness.runtime.runtime import Runtime
from harness.runtime.session import Session
from harness.workload import get_family, run_checkers
from harness.workload.spec import TaskSpec

THINK_LIMIT_PER_ACTION = 10  # a runaway agent that only thinks is stopped, not waited for


@dataclass(frozen=True)
class EpisodeKey:
    condition: str
    task_id: str
    repeat: int


def _run_sessions(session: Session, spec: TaskSpec, agent_cfg: dict[str, Any], rng: RngStreams) -> str:
    """Every work session of the task in turn, on one world and one budget.

    Each session starts a fresh agent run with that session's brief: what the agent knew
    in an earlier session survives only where a runtime layer carries it (the memory and
    execution layers of the runtime issue). The random streams belong to the episode, so
    the k-th draw of a kind is the same whatever happened in earlier sessions' conditions.
    """
    termination = "gave_up"
    for k in range(max(1, len(spec.sessions))):
        session.begin(spec.brief(k))
        termination = _drive(session, spec, agent_cfg, rng)
        if termination in ("action_budget", "time_budget"):
            break
    return termination


def _drive(session: Session, spec: TaskSpec, agent_cfg: dict[str, Any], rng: RngStreams) -> str:
    """Run the agent until it stops or a budget runs out; return the termination reason."""
    agent = make_agent(agent_cfg)
    steps = agent.run(session.brief, session.tool_specs(), rng)
    budget = spec.budget
    thinks = 0
    try:
        action = next(steps)
        while True:
            if isinstance(action, Submit):
                session.world.submit(action.answer)
                return "submitted"
            if isinstance(action, GiveUp):
                return "gave_up"
            if isinstance(action, Think):
                thinks += 1
                if thinks > THINK_LIMIT_PER_ACTION * budget.max_actions:
                    return "gave_up"
                session.think(action)
                action = steps.send(None)
                continue
            handler = _HANDLERS.get(type(action))
            if handler is None:
                raise TypeError(f"agent yielded {type(action).__name__}, not an Action")
            if len(session.log) >= budget.max_actions:
                return "action_budget"
            if session.clock.now() >= budget.max_minutes:
                return "time_budget"
            action = steps.send(handler(session, action))
    except StopIteration:
        return "gave_up"
    finally:
        steps.close()


# Actions that reach the runtime: each costs a turn against the budget.
_HANDLERS = {Call: Session.execute, History: Session.history, Remember: Session.remember, Recall: Session.recall}


def _safety(session: Session) -> dict[str, Any]:
    s = session.safety
    return {"approvals": s.approvals, "approval_wait_minutes": round(s.approval_wait_minutes, 6),
            "unsafe_attempted": s.unsafe_attempted, "unsafe_blocked": s.unsafe_blocked,
            "unsafe_applied": s.unsafe_applied}


def run_episode(
    run_id: str, spec: TaskSpec, condition: Condition, agent_cfg: dict[str, Any], seed: int, repeat: int
) -> tuple[EpisodeRecord, list[ActionRecord]]:
    started = time.perf_counter()
    world = get_family(spec.family).build_world(spec)
    session: Session | None = None
    error = None
    try:
        runtime = Runtime({k: v.model_dump() for k, v in condition.layers.items()})
        rng = RngStreams(seed, spec.id, repeat)  # one set of named streams for the agent and the layers
        session = runtime.deploy(world, spec.brief(), rng)
        termination = _run_sessions(session, spec, agent_cfg, rng)
    except Exception as exc:  # noqa: BLE001 - recorded as a row, never dropped
        termination, error = "harness_error", f"{type(exc).__name__}: {exc}"[:500]
    checks = run_checkers(world, spec)
    log = session.log if session else []
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
        sim_minutes=round(session.clock.now(), 6) if session else 0.0,
        **(_safety(session) if session else {}),
        world_digest=world.digest(),
        error=error,
        wall_seconds=time.perf_counter() - started,
    )
    actions = [
        ActionRecord(**key, seq=a.seq, parent=a.parent, tool=a.tool, ok=a.ok, sim_minutes=a.sim_minutes,
                     wall_latency_ms=a.wall_latency_ms)
        for a in log
    ]
    return episode, actions
