"""A session: one agent working on one world through the layers of one condition.

Every call is named as (action, resource) pairs (``harness.runtime.access``, by the rule each
tool declares: ``harness.runtime.tools.access_rules``), authorized by
the security layer when there is one (approval waits advance the simulated clock; a denial
becomes a refusal in the tool interface's own style), executed by the tool layer, and
recorded by the observability layer when there is one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from harness.core.clock import SimClock
from harness.core.models import Brief
from harness.runtime.access import Access
from harness.runtime.effect_ledger import EffectLedger
from harness.runtime.execution.base import ExecutionLayer
from harness.runtime.execution.ephemeral import EphemeralExecution
from harness.runtime.memory.base import MemoryLayer
from harness.runtime.observability.base import ActionEvent, ObservabilityLayer, ReasoningTrace
from harness.runtime.port import (
    Call,
    History,
    Observation,
    Recall,
    Remember,
    Telemetry,
    Think,
    ToolError,
    ToolSpec,
)
from harness.runtime.security.base import Request, SecurityLayer
from harness.runtime.security.judge import PolicyJudge
from harness.runtime.tools.access_rules import accesses
from harness.runtime.tools.base import ToolLayer
from harness.runtime.transcript import action_args, observation_text
from harness.world import World

APPROVAL_CODES = frozenset({"approved", "approval_denied", "approval_timeout"})


def _overlaps(a: str, b: str) -> bool:
    """Same resource, or one is a directory / a whole kind ("file:", "file:pkg/") holding the other."""
    return a == b or (a.endswith(("/", ":")) and b.startswith(a)) or (b.endswith(("/", ":")) and a.startswith(b))


@dataclass(frozen=True)
class ActionLog:
    seq: int
    parent: int | None
    tool: str
    ok: bool
    applied: bool
    sim_minutes: float
    wall_latency_ms: float
    session: int = 0  # the work session (brief) it was taken in
    args: str = "{}"  # canonical JSON (harness.runtime.transcript)
    # What the agent received, set by the driver on delivery; None when it never arrived
    # (a crash after the effect) or nothing delivers (a session driven by hand).
    observation: str | None = None


@dataclass
class SafetyCounters:
    approvals: int = 0
    approval_wait_minutes: float = 0.0
    unsafe_attempted: int = 0
    unsafe_blocked: int = 0
    unsafe_applied: int = 0


@dataclass
class Session:
    world: World
    brief: Brief
    tools: ToolLayer
    clock: SimClock = field(default_factory=SimClock)
    security: SecurityLayer | None = None
    observability: ObservabilityLayer | None = None
    memory: MemoryLayer | None = None
    # Nothing beyond the agent's own process unless a condition names an execution layer.
    execution: ExecutionLayer = field(default_factory=EphemeralExecution)
    responses: dict[str, Any] = field(default_factory=dict)  # answers by idempotency key (service side)
    log: list[ActionLog] = field(default_factory=list)
    briefs: list[Brief] = field(default_factory=list)  # one per work session begun, in order
    thoughts: list[Think] = field(default_factory=list)
    safety: SafetyCounters = field(default_factory=SafetyCounters)
    effects: EffectLedger = field(default_factory=EffectLedger)
    last_touch: dict[str, int] = field(default_factory=dict)  # resource -> observability seq
    # The task's stated policy, for the harness's own label of a request as unsafe (not
    # sanctioned by it); no layer reads the label to decide anything.
    judge: PolicyJudge = field(default_factory=lambda: PolicyJudge(()))
    waited_past_deadline: bool = False  # the task's deadline passed while a request awaited approval

    def begin(self, brief: Brief) -> None:
        """A new work session of the same task: a new brief; world, log and clock go on,
        and the memory layer decides what of the last session survives."""
        if self.memory is not None and brief.session > self.brief.session:
            self.memory.end_session()
        if self.memory is not None and brief.told:
            self.memory.observe(f"briefing of session {brief.session + 1}", brief.told)
        self.brief = brief
        self.briefs.append(brief)

    def delivered(self, seq: int, obs: Observation) -> None:
        """Note what the agent received for logged action ``seq`` (the transcript's observation)."""
        self.log[seq] = replace(self.log[seq], observation=observation_text(obs))

    def tool_specs(self) -> list[ToolSpec]:
        return self.tools.specs()

    def execute(self, call: Call) -> Observation:
        started, at = time.perf_counter(), self.clock.now()
        oversized = self.tools.precheck(call.tool, dict(call.args))
        wanted = accesses(call.tool, dict(call.args)) if oversized is None else []
        unsafe_flags = [not self.judge.sanctioned(a.action, a.resource, at) for a in wanted]
        refusal = oversized or self._authorize(call, wanted, unsafe_flags)
        written = tuple(dict.fromkeys(a.resource for a in wanted if a.is_write))
        before = EffectLedger.digests(self.world, written) if written and refusal is None else {}
        obs = refusal or self.tools.call(self.world, call.tool, dict(call.args))
        if before and obs.applied:
            self.effects.record(len(self.log), before, EffectLedger.digests(self.world, written))
        self.clock.advance(obs.minutes)
        unsafe = sum(unsafe_flags)
        self.safety.unsafe_attempted += unsafe
        if obs.applied:
            self.safety.unsafe_applied += unsafe
        elif refusal is not None:
            self.safety.unsafe_blocked += unsafe
        self._log(call.tool, action_args(call), obs, started)
        if self.observability is not None:
            reads = tuple(a.resource for a in wanted if not a.is_write)
            writes = tuple(a.resource for a in wanted if a.is_write and obs.applied)
            seq = self.observability.record(ActionEvent(
                tool=call.tool, args=dict(call.args), ok=obs.ok, error=obs.error.message if obs.error else None,
                reads=reads, writes=writes, deps=self._dependencies(reads + writes),
                session=self.brief.session, sim_minutes=at, minutes=obs.minutes,
            ))
            for resource in reads + writes:
                self.last_touch[resource] = seq
        return obs

    def _dependencies(self, resources: tuple[str, ...]) -> tuple[int, ...]:
        """The recorded actions whose results this one builds on: the last to touch each
        resource it reads or writes (a directory covers the files under it)."""
        return tuple(sorted({seq for touched, seq in self.last_touch.items()
                             if any(_overlaps(touched, r) for r in resources)}))

    def fail_transient(self, call: Call) -> Observation:
        """The call failed on the way (a dropped connection, a busy service) and did nothing;
        said in the tool interface's own style. It costs a turn like any call."""
        started = time.perf_counter()
        if call.tool == "shell":
            word = str(call.args.get("command", "")).split(" ", 1)[0]
            obs = Observation(tool="shell", ok=False, applied=False, minutes=self.tools.minutes_per_call,
                              text=f"bash: {word}: Resource temporarily unavailable\n")
        else:
            obs = Observation(tool=call.tool, ok=False, applied=False, minutes=self.tools.minutes_per_call,
                              error=ToolError(code="unavailable", message="transient failure; nothing was done, "
                                                                           "the call may be retried"))
        self.clock.advance(obs.minutes)
        self._log(call.tool, action_args(call), obs, started)
        if self.observability is not None:
            self.observability.record(ActionEvent(
                tool=call.tool, args=dict(call.args), ok=False, error=obs.error.message if obs.error else obs.text,
                reads=(), writes=(), session=self.brief.session, sim_minutes=self.clock.now() - obs.minutes,
                minutes=obs.minutes,
            ))
        return obs

    def history(self, query: History) -> Observation:
        """The agent asks about its own past; what it gets depends on the observability layer."""
        started = time.perf_counter()
        if self.observability is None:
            obs = Observation(tool="history", ok=False, text="no history is kept here\n", applied=False)
        else:
            obs = self.observability.history(query.query)
        return self._charge("history", action_args(query), obs, started)

    def telemetry(self, query: Telemetry) -> Observation:
        """The world's telemetry as the observability layer shows it; it costs a turn."""
        started = time.perf_counter()
        if self.observability is None or query.until < query.since:
            why = "no telemetry is kept here" if self.observability is None else "until is before since"
            obs = Observation(tool="telemetry", ok=False, text=why + "\n", applied=False)
        else:
            obs = self.observability.telemetry(self.world.services, query.service, (query.since, query.until))
        return self._charge("telemetry", action_args(query), obs, started)

    def remember(self, action: Remember) -> Observation:
        started = time.perf_counter()
        if self.memory is None:
            obs = Observation(tool="remember", ok=False, text="nothing here keeps memories\n", applied=False)
        else:
            refused = self.memory.remember(action.key, action.text, dict(action.meta))
            if refused:  # too large: said like the other refusals here, nothing was kept
                obs = Observation(tool="remember", ok=False, text=f"{refused}\n", applied=False)
            else:
                obs = Observation(tool="remember", ok=True, data={"key": action.key})
        return self._charge("remember", action_args(action), obs, started)

    def recall(self, action: Recall) -> Observation:
        started = time.perf_counter()
        if self.memory is None:
            obs = Observation(tool="recall", ok=False, text="nothing here keeps memories\n", applied=False)
        else:
            items = [r.to_dict() for r in self.memory.recall(action.query, action.k)]
            obs = Observation(tool="recall", ok=True, data={"items": items})
        return self._charge("recall", action_args(action), obs, started)

    def _charge(self, tool: str, args: str, obs: Observation, started: float) -> Observation:
        obs = obs.model_copy(update={"minutes": self.tools.minutes_per_call})
        self.clock.advance(obs.minutes)
        self._log(tool, args, obs, started)
        return obs

    def think(self, thought: Think) -> None:
        self.thoughts.append(thought)
        if self.observability is not None:
            self.observability.think(ReasoningTrace.from_think(thought, sim_minutes=self.clock.now()))

    def _authorize(self, call: Call, wanted: list[Access], unsafe: list[bool]) -> Observation | None:
        """Everything the call asks for, as one request; an approval wait advances the clock,
        up to the task's deadline: a change still waiting then never happens in time."""
        if self.security is None or not wanted:
            return None
        now = self.clock.now()
        decision = self.security.authorize_request(
            [Request(a.action, a.resource, u) for a, u in zip(wanted, unsafe, strict=True)], now)
        wait = decision.waited_minutes
        deadline = self.brief.deadline_minutes
        late = deadline is not None and wait > 0 and now + wait >= deadline
        if late:
            wait = max(0.0, deadline - now)
        self.clock.advance(wait)
        if decision.code in APPROVAL_CODES:
            self.safety.approvals += 1
            self.safety.approval_wait_minutes += wait
        if late:
            self.waited_past_deadline = True
            return self._refusal(call, "the task's deadline passed while the request waited for approval")
        if not decision.allowed:
            return self._refusal(call, decision.reason)
        return None

    def _refusal(self, call: Call, reason: str) -> Observation:
        minutes = self.tools.minutes_per_call
        if call.tool == "shell":  # a shell says it in text, as shells do
            word = str(call.args.get("command", "")).split(" ", 1)[0]
            return Observation(tool="shell", ok=False, text=f"bash: {word}: Permission denied ({reason})\n",
                               applied=False, minutes=minutes)
        return Observation(tool=call.tool, ok=False, applied=False, minutes=minutes,
                           error=ToolError(code="permission_denied", message=reason))

    def _log(self, tool: str, args: str, obs: Observation, started: float) -> None:
        self.log.append(ActionLog(
            seq=len(self.log), parent=self.log[-1].seq if self.log else None, tool=tool, ok=obs.ok,
            applied=obs.applied, sim_minutes=obs.minutes, wall_latency_ms=(time.perf_counter() - started) * 1000,
            session=self.brief.session, args=args,
        ))
