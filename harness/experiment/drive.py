"""Driving an agent through the sessions of one task: budgets, faults, crashes, recovery.

Every action that reaches the runtime goes through the execution layer: a durable layer
keeps a replay log, checkpoints and an intent log around each effect; an ephemeral one
just runs it. When the fault model kills the agent process, the layer decides what is
left: a snapshot (rebuild the agent by replaying the recorded observations into a fresh
generator; actions it proposes again are answered from the intent log, so no effect
is applied twice) or nothing (a fresh agent starts over on the half-changed world).
The same mechanism carries the agent's state across a session boundary, or does not.
Every agent built for the episode (per session, per probe, per recovery) gets the
episode's scope (``harness.agents.scope``), so what must outlast one agent object does.

Nothing here reads a condition's name or decides success.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from harness.agents.registry import AgentSpec, build_agent
from harness.agents.scope import EpisodeScope
from harness.core.errors import HarnessError
from harness.core.models import Brief, Termination
from harness.core.rng import AgentStreams, RngStreams
from harness.experiment.admission import admissible, oversized_answer
from harness.experiment.faults import FaultSchedule
from harness.experiment.loops import Loop
from harness.experiment.probes import Retention, ask_probes
from harness.runtime.execution.base import ExecutionLayer
from harness.runtime.execution.intent_log import Intent
from harness.runtime.port import (
    Action,
    Agent,
    Call,
    GiveUp,
    History,
    Observation,
    Recall,
    Remember,
    Submit,
    Telemetry,
    Think,
)
from harness.runtime.session import Session
from harness.workload.spec import TaskSpec

THINK_LIMIT_PER_ACTION = 10  # a runaway agent that only thinks is stopped, not waited for
AGENT_STREAMS = "agent."  # the agent's own streams: restored with its state, nothing else is
PROGRESS_WINDOW = 10  # recent actions the budget pool judges progress by

_HANDLERS = {Call: Session.execute, History: Session.history, Telemetry: Session.telemetry,
             Remember: Session.remember, Recall: Session.recall}


class ReplayDivergence(HarnessError):
    """A rebuilt agent proposed something other than what it did before the crash."""


class AgentFault(Exception):
    """The agent's own code raised (or yielded something that is not an action). The
    episode ends as an ``agent_error``, kept apart from task failures; ``cause`` is the
    agent's exception with its traceback."""

    def __init__(self, cause: BaseException):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


def agent_code(fn, *args):
    """Call into the agent's code; whatever it raises is the agent's fault (``SystemExit``
    and ``GeneratorExit`` included: an agent cannot end the run), except the harness's own
    errors raised through it (a model adapter's endpoint or replay failure) and a real
    Ctrl-C (``KeyboardInterrupt`` stops the run; an agent outside the harness process
    cannot raise one here, see ``harness.agents.outside.host``)."""
    try:
        return fn(*args)
    except (HarnessError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - classified, never swallowed
        raise AgentFault(exc) from exc


class _Crash(Exception):
    """The agent process dies here (raised inside an effect to cut it off from its result)."""


@dataclass
class DriveStats:
    crashes: int = 0
    recoveries: int = 0
    transient_failures: int = 0
    budget_extensions: int = 0
    downtime_minutes: float = 0.0  # crash to agent acting again: detection plus restart
    submitted_at: float | None = None  # simulated minute of the Submit, if any
    retention: Retention = field(default_factory=Retention)


@dataclass
class _Run:
    """One live agent process: its generator and the observations it still has to replay."""

    steps: Any
    brief: Brief
    replay: list[dict[str, Any]] = field(default_factory=list)
    next_seq: int = 0  # the execution layer's sequence number of the next runtime action
    reissue_until: int = 0  # actions below this seq were done before a crash


class Driver:
    """``rng`` holds the agent's streams only (the environment's are elsewhere); agents get
    ``self.streams``, a view that refuses any stream but ``agent.*``. ``agent`` is the
    parsed agent config; every agent built from it gets ``scope``, the episode's."""

    def __init__(self, session: Session, spec: TaskSpec, agent: AgentSpec, rng: RngStreams,
                 execution: ExecutionLayer, faults: FaultSchedule, episode_id: str, loop: Loop | None = None,
                 *, scope: EpisodeScope):
        self.session, self.spec, self.agent, self.rng = session, spec, agent, rng
        self.scope = scope
        self.streams = AgentStreams(rng)
        self.execution, self.faults, self.episode_id = execution, faults, episode_id
        self.loop = loop or Loop()
        # An outside agent's whole episode (its answers, and the tool calls and test runs it
        # asks for) has a wall clock, checked between actions; one action is bounded by its own.
        self.episode_seconds = agent.episode_seconds
        self.deadline = None if self.episode_seconds is None else time.monotonic() + float(self.episode_seconds)
        self.session_start = 0  # session.log length when the current session began
        self.stats = DriveStats()
        self.extra_actions = 0
        self.told: list[str] = []
        self.session_rng: dict[str, dict] = {}
        self.logged_at: dict[str, int] = {}  # idempotency key -> the session log entry it made

    # -- sessions ------------------------------------------------------------------------
    def run(self) -> Termination:
        """Every work session of the task in turn, on one world and one budget."""
        self.execution.discard(self.episode_id)  # a fresh world: nothing stored may apply
        termination: Termination = "gave_up"
        for k in range(max(1, len(self.spec.sessions))):
            brief = self._brief(k)
            self.session.begin(brief)
            probed = agent_code(self._new_agent)
            self.stats.retention.add(agent_code(ask_probes, self.spec, brief, probed, self.session.memory))
            self.execution.begin(self._sid(k), k, self.session.clock)
            self.told = [*brief.carried, brief.instructions]
            # Replay rebuilds the agent from the session's start, so a snapshot holds the
            # agent's streams as they were then; replaying brings them to the checkpoint.
            self.session_rng = {k: v for k, v in self.rng.state().items() if k.startswith(AGENT_STREAMS)}
            self.execution.checkpoint(self._capture)  # the state a crash before any action returns to
            self.session_start = len(self.session.log)
            termination = self._drive(brief)
            self.execution.end_session(self._capture)
            if termination in ("action_budget", "time_budget", "crash_not_recovered"):
                break
        return termination

    def _new_agent(self) -> Agent:
        return build_agent(self.agent, self.scope)

    def _sid(self, k: int) -> str:
        return f"{self.episode_id}/s{k}"

    def _brief(self, k: int) -> Brief:
        brief = self.spec.brief(k)
        earlier = self.execution.carry(self._sid(k - 1)) if k else None
        told = earlier.layers.get("agent", {}).get("told", []) if earlier is not None else []
        return brief.model_copy(update={"carried": tuple(told)})

    def _capture(self) -> dict[str, Any]:
        memory = self.session.memory.snapshot() if self.session.memory is not None else {}
        return {"rng": self.session_rng, "memory": memory, "layers": {"agent": {"told": list(self.told)}}}

    # -- one session ---------------------------------------------------------------------
    def _start(self, brief: Brief, replay: list[dict[str, Any]] | None = None, seq: int = 0,
               reissue_until: int = 0) -> _Run:
        agent = agent_code(self._new_agent)
        steps = agent_code(agent.run, brief, self.session.tool_specs(), self.streams)
        return _Run(steps, brief, list(replay or []), seq, reissue_until)

    def _drive(self, brief: Brief) -> Termination:
        run = self._start(brief, seq=self._exec_seq())
        restarts = thinks = 0
        obs: Observation | None = None
        first = True
        try:
            while True:
                try:
                    action = next(run.steps) if first else run.steps.send(obs)
                except StopIteration:
                    return "gave_up"
                except (HarnessError, KeyboardInterrupt):
                    raise  # the harness's own machinery inside an adapter (an endpoint, a replay)
                except BaseException as exc:  # noqa: BLE001 - the agent's code raised
                    raise AgentFault(exc) from exc
                first = False
                agent_code(admissible, action)  # what it sent is the agent's fault too
                self._check_wall_clock()
                if isinstance(action, Submit) and (refused := oversized_answer(action)) is not None:
                    thinks += 1  # answered without touching the world, like a thought
                    if thinks > THINK_LIMIT_PER_ACTION * (self.spec.budget.max_actions + self.extra_actions):
                        return "gave_up"
                    obs = refused
                    continue
                if isinstance(action, Submit):
                    self.session.world.submit(action.answer)
                    self.stats.submitted_at = self.session.clock.now()
                    return "submitted"
                if isinstance(action, GiveUp):
                    return "gave_up"
                if isinstance(action, Think):
                    thinks += 1
                    if thinks > THINK_LIMIT_PER_ACTION * (self.spec.budget.max_actions + self.extra_actions):
                        return "gave_up"
                    if not run.replay:
                        self.session.think(action)
                    obs = None
                    continue
                if type(action) not in _HANDLERS:
                    raise AgentFault(TypeError(f"agent yielded {type(action).__name__}, not an Action"))
                if run.replay:
                    obs = self._replayed(run, action)
                    continue
                stop = self._over_budget(run)
                if stop:
                    return stop
                try:
                    obs = self._act(run, action)
                except _Crash:
                    self.stats.crashes += 1
                    restarts += 1
                    if restarts > self.faults.model.max_restarts:
                        return "crash_not_recovered"
                    agent_code(run.steps.close)
                    run = self._recover(run)
                    first, obs = True, None
        finally:
            agent_code(run.steps.close)

    def _check_wall_clock(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise AgentFault(TimeoutError(f"the episode used its {self.episode_seconds:g} s of wall clock "
                                          "(the agent's answers and the actions it asked for)"))

    def _exec_seq(self) -> int:
        return int(self.execution.status()["actions"])

    def _over_budget(self, run: _Run) -> Termination | None:
        per_session = self.loop.max_actions_per_session
        if per_session is not None and len(self.session.log) - self.session_start >= per_session:
            return "action_budget"  # the chain has no more steps
        if len(self.session.log) >= self.spec.budget.max_actions + self.extra_actions:
            granted = self.execution.extend_budget(self._progress())
            if granted <= 0:
                return "action_budget"
            self.extra_actions += granted
            self.stats.budget_extensions += granted
        now, deadline = self.session.clock.now(), self.spec.budget.max_minutes
        if now >= deadline:
            # The deadline passed during an approval wait, or would not have passed without the
            # waits: the change process's doing, its own reason, not the agent's pace.
            waited = self.session.safety.approval_wait_minutes
            by_approval = self.session.waited_past_deadline or (waited > 0 and now - waited < deadline)
            return "approval_timeout" if by_approval else "time_budget"
        return None

    def _progress(self) -> float:
        """What the infrastructure can see of progress: the share of recent actions that
        did what they were asked (never a checker's verdict)."""
        recent = self.session.log[-PROGRESS_WINDOW:]
        return sum(a.ok and a.applied for a in recent) / len(recent) if recent else 0.0

    def _replayed(self, run: _Run, action: Action) -> Observation:
        entry = run.replay.pop(0)
        if action.model_dump(mode="json") != entry["action"]:
            raise ReplayDivergence(
                f"{self.spec.id}: the rebuilt agent proposed {action.model_dump(mode='json')} "
                f"where it had proposed {entry['action']}",
                hint="the agent is not deterministic given its brief, observations and streams")
        return Observation.model_validate(entry["observation"])

    # -- acting, with faults -------------------------------------------------------------
    def _act(self, run: _Run, action: Action) -> Observation:
        seq, run.next_seq = run.next_seq, run.next_seq + 1
        reissued = seq < run.reissue_until
        crash = None if reissued else self.faults.crash(len(self.session.log))
        if crash == "before":
            raise _Crash
        as_json = action.model_dump(mode="json")
        ran: list[bool] = []

        key = f"{self.execution.status()['actions']}:{self.session.brief.session}"
        if not reissued:
            self.session.clock.advance(self.loop.relay_minutes())

        def apply() -> dict[str, Any]:
            ran.append(True)
            result = self._perform(action).model_dump(mode="json")
            self.session.responses[key] = result  # the service keeps answers by idempotency key
            self.logged_at[key] = len(self.session.log) - 1
            if crash == "after":
                raise _Crash  # the effect happened; its result never reached the agent
            return result

        logged = len(self.session.log)
        result = self.execution.execute(as_json, apply, self._reconcile(action, key),
                                        self.session.world.digest)
        if not ran and isinstance(action, Remember) and self.session.memory is not None:
            # answered from the intent log after a recovery: the memory restored from the
            # checkpoint must still get what the agent asked it to keep
            self.session.memory.remember(action.key, action.text, dict(action.meta))
        obs = self.loop.deliver(Observation.model_validate(result))
        for i in range(logged, len(self.session.log)):  # the transcript keeps what the agent read
            self.session.delivered(i, obs)
        earlier = self.logged_at.get(key)
        if not ran and earlier is not None and self.session.log[earlier].observation is None:
            self.session.delivered(earlier, obs)  # a result a crash kept back, answered on the re-issue
        if not reissued:
            self.session.clock.advance(self.loop.paste_minutes(obs))
        self.execution.record(as_json, obs.model_dump(mode="json"), obs.minutes, self._capture)
        return obs

    def _perform(self, action: Action) -> Observation:
        if isinstance(action, Call) and self.faults.transient(len(self.session.log)):
            self.stats.transient_failures += 1
            return self.session.fail_transient(action)
        return _HANDLERS[type(action)](self.session, action)

    def _reconcile(self, action: Action, key: str):
        def reconcile(intent: Intent) -> dict[str, Any] | None:
            # Cut off between intent and completion: the service may still hold the answer
            # under the request's idempotency key; else the world says whether the effect is there.
            if key in self.session.responses:
                return self.session.responses[key]
            if intent.world_before is None or intent.world_before == self.session.world.digest():
                return None  # nothing changed: run it (again)
            tool = action.tool if isinstance(action, Call) else action.kind
            return Observation(tool=tool, ok=True, applied=True, data={"reconciled": True},
                               text="(the result was lost in a crash; its effect is in the world)\n",
                               ).model_dump(mode="json")
        return reconcile

    def _recover(self, run: _Run) -> _Run:
        """The process died: detection, restart, and whatever state the layers kept."""
        before = run.next_seq
        self.execution.crash()
        if self.session.memory is not None:
            self.session.memory.end_session()  # what a process end loses, by each variant's definition
        crashed_at = self.session.clock.now()
        self._wait_for_detection()
        self.session.clock.advance(self.faults.model.restart_minutes)
        self.stats.downtime_minutes += self.session.clock.now() - crashed_at
        snap = self.execution.resume()
        if snap is None:  # start over: a fresh agent, the same brief, the world as it now is
            return self._start(run.brief, seq=before)
        self.stats.recoveries += 1
        self.rng.rewind(snap.rng, AGENT_STREAMS)
        if self.session.memory is not None and snap.memory:
            self.session.memory.restore(snap.memory)
        return self._start(run.brief, snap.replay, snap.action_seq, reissue_until=max(before, snap.action_seq))

    def _wait_for_detection(self) -> None:
        """A heartbeat monitor notices within its timeout; without one, a person notices.
        The wait advances in whole-minute steps counted by an integer, so it ends whatever
        the clock's magnitude (float steps on a large clock can round to nothing)."""
        clock, limit = self.session.clock, self.faults.model.human_notice_minutes
        whole, rest = divmod(limit, 1.0)
        for _ in range(int(whole)):
            if self.execution.detect() is not None:
                return
            clock.advance(1.0)
        if self.execution.detect() is None and rest > 0:
            clock.advance(rest)
