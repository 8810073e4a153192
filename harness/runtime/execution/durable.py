"""``durable``: agent-native execution with checkpoints, an intent log and failure detection.

What it is: every ``checkpoint_every`` actions and at every session end, the session's
``AgentSnapshot`` (replay log, RNG states, memory deltas, counters, layer states) is
encoded (versioned header + sha256 + canonical JSON) and written to a checkpoint store
(SQLite in WAL mode by default, or an in-memory store that still goes through bytes); a
full snapshot every ``full_every`` checkpoints and deltas between them. Every effect runs
under a write-ahead intent log. Each action is a heartbeat on the simulated clock.

What it guarantees: ``resume()`` returns the newest snapshot whose checksum and delta chain
verify, built from stored bytes alone (never from live objects); a corrupted newest record
falls back to the previous one. Combined with the intent log, an action re-proposed after
a crash is never applied twice. A crash is detected ``heartbeat_timeout`` simulated
minutes after the last beat. Sessions that show progress can draw budget extensions from a
shared pool within ``budget_cap``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.core.clock import SimClock
from harness.runtime.execution.base import EXECUTION_LAYERS, Apply, Capture, Reconcile
from harness.runtime.execution.budget_pool import BudgetPool
from harness.runtime.execution.codec import KIND_FULL
from harness.runtime.execution.fsm import Lifecycle, LifecycleFSM
from harness.runtime.execution.heartbeat import Detection, HeartbeatMonitor
from harness.runtime.execution.incremental import ChainReader, IncrementalEncoder, restore_latest
from harness.runtime.execution.intent_log import IntentLog
from harness.runtime.execution.snapshot import AgentSnapshot, ResourceCounters, replay_entry
from harness.runtime.execution.stores import SYNCHRONOUS, make_store

PositiveInt = Annotated[int, Field(strict=True, ge=1)]  # strict: 2.5 or True is no count


class DurableOptions(BaseModel):
    """``layers.execution.config`` of the durable variant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    checkpoint_every: PositiveInt = 50
    store: Literal["sqlite", "memory"] = "sqlite"
    path: str | None = None  # SQLite file; None: a private in-memory database
    synchronous: str = "FULL"  # SQLite's PRAGMA synchronous, any case
    full_every: PositiveInt = 10  # 1 = every checkpoint is full
    compress: bool = False
    intent_log: bool = True
    heartbeat_interval: float = 1.0  # simulated minutes
    heartbeat_timeout: float = 5.0
    budget_cap: int = Field(100, ge=0)  # extra actions the shared pool may grant in total
    budget_increment: int = Field(20, gt=0)
    budget_min_progress: float = Field(0.05, ge=0)
    budget_max_per_session: int = Field(3, ge=0)

    @field_validator("synchronous")
    @classmethod
    def _known_mode(cls, v: str) -> str:
        if v.upper() not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}")
        return v

    @model_validator(mode="after")
    def _heartbeat(self) -> DurableOptions:
        if not 0 < self.heartbeat_interval < self.heartbeat_timeout:
            raise ValueError("heartbeat needs 0 < heartbeat_interval < heartbeat_timeout")
        return self


@EXECUTION_LAYERS.register("durable", options=DurableOptions)
class DurableExecution:
    durable = True

    def __init__(self, options: DurableOptions | None = None):
        o = options or DurableOptions()
        sync = o.synchronous.upper()
        self.checkpoint_every = o.checkpoint_every
        self.store = make_store(o.store, o.path, o.synchronous)
        self.encoder = IncrementalEncoder(full_every=o.full_every, compress=o.compress)
        self.intents = IntentLog(o.path if o.store == "sqlite" else None, sync) if o.intent_log else None
        self.heartbeat_interval, self.heartbeat_timeout = o.heartbeat_interval, o.heartbeat_timeout
        self.pool = BudgetPool(o.budget_cap, o.budget_increment, o.budget_min_progress, o.budget_max_per_session)
        self.fsm = LifecycleFSM()
        self.clock = SimClock()
        self.monitor = HeartbeatMonitor(o.heartbeat_interval, o.heartbeat_timeout, self.clock.now)
        self.session_id = ""
        self.session_index = 0
        self._reset_live()
        self.stats = {"checkpoints": 0, "full": 0, "delta": 0, "bytes": 0, "recoveries": 0,
                      "crashes": 0, "fallbacks": 0, "effects_skipped": 0}

    def _reset_live(self) -> None:
        # Everything here dies with the agent process.
        self.replay: list[dict[str, Any]] = []
        self.counters = ResourceCounters()
        self.last_capture: dict[str, Any] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def begin(self, session_id: str, session_index: int = 0, clock: SimClock | None = None) -> None:
        if clock is not None:
            self.clock = clock
            self.monitor = HeartbeatMonitor(self.heartbeat_interval, self.heartbeat_timeout, clock.now)
        if session_id != self.session_id:
            self.replay = []  # the replay log is per session; counters run on across sessions
            self.encoder.reset()  # a new session's first checkpoint is a full one
        self.session_id, self.session_index = session_id, session_index
        self.fsm = LifecycleFSM()
        self.fsm.to(Lifecycle.ACTIVE)
        self.monitor.forget(session_id)
        self.monitor.beat(session_id)

    def execute(self, action: dict[str, Any], apply: Apply, reconcile: Reconcile | None = None,
                world_digest: Callable[[], str] | None = None) -> dict[str, Any]:
        if self.intents is None:
            return apply()
        result, applied = self.intents.execute_once(
            self.session_id, self.counters.actions, action, apply, reconcile or (lambda _i: None), world_digest
        )
        if not applied:
            self.stats["effects_skipped"] += 1
        return result

    def record(self, action: dict[str, Any], observation: dict[str, Any] | None, minutes: float,
               capture: Capture) -> int | None:
        self.replay.append(replay_entry(action, observation))
        self.counters.actions += 1
        self.counters.sim_minutes += float(minutes)
        self.monitor.beat(self.session_id)
        if self.counters.actions % self.checkpoint_every == 0:
            return self.checkpoint(capture)
        return None

    def _state(self, capture: Capture) -> dict[str, Any]:
        parts = capture() or {}
        unknown = set(parts) - {"rng", "memory", "layers"}
        if unknown:
            raise ValueError(f"capture() returned unknown parts {sorted(unknown)}")
        return {
            "session_id": self.session_id,
            "session_index": self.session_index,
            "action_seq": self.counters.actions,
            "replay": self.replay,
            "rng": parts.get("rng", {}),
            "memory": parts.get("memory", {}),
            "counters": self.counters.model_dump(),
            "layers": {**parts.get("layers", {}), "execution": {"budget_pool": self.pool.to_dict()}},
        }

    def checkpoint(self, capture: Capture) -> int | None:
        self.fsm.to(Lifecycle.CHECKPOINTING)
        seq = self.counters.actions
        kind, blob = self.encoder.encode(seq, self._state(capture))
        try:
            self.store.put(self.session_id, seq, blob)
        except Exception:
            self.encoder.reset()  # the next record must not hang off one that was never stored
            self.fsm.to(Lifecycle.ACTIVE)  # the session goes on; the previous checkpoint stands
            raise
        self.stats["checkpoints"] += 1
        self.stats["full" if kind == KIND_FULL else "delta"] += 1
        self.stats["bytes"] += len(blob)
        self.fsm.to(Lifecycle.ACTIVE)
        return seq

    def end_session(self, capture: Capture) -> None:
        self.checkpoint(capture)
        self.fsm.to(Lifecycle.TERMINATED)
        self.monitor.forget(self.session_id)

    def crash(self) -> None:
        self.stats["crashes"] += 1
        self._reset_live()

    def detect(self) -> Detection | None:
        for det in self.monitor.check():
            if det.session_id == self.session_id:
                return det
        return None

    def resume(self) -> AgentSnapshot | None:
        if self.fsm.state is Lifecycle.TERMINATED:  # a new session starts from its predecessor
            self.fsm = LifecycleFSM()
        self.fsm.to(Lifecycle.RECOVERING)
        newest = self.store.list(self.session_id)
        reader = ChainReader(self.store, self.session_id)
        found = reader.latest()
        self._reset_live()
        self.encoder.reset()
        if found is None:
            self.fsm.to(Lifecycle.ACTIVE)
            return None
        seq, snap = found
        if newest and seq != newest[-1]:
            self.stats["fallbacks"] += 1
            # Records newer than the restored one failed to verify; drop them so a new
            # chain is never composed with them.
            self.store.delete(self.session_id, [s for s in newest if s > seq])
        self.replay = list(snap.replay)
        stored = reader.entries_as_stored(seq)
        if stored is not None:  # the next checkpoint need not encode the whole log again
            self.encoder.seed(self.replay, stored)
        self.counters = snap.counters.model_copy()
        pool = snap.layers.get("execution", {}).get("budget_pool")
        if pool is not None:
            self.pool = BudgetPool.from_dict(pool)
        self.stats["recoveries"] += 1
        self.fsm.to(Lifecycle.ACTIVE)
        self.monitor.forget(self.session_id)
        self.monitor.beat(self.session_id)
        return snap

    def extend_budget(self, progress: float) -> int:
        grant = self.pool.request(self.session_id, progress)
        self.counters.budget_extensions += grant.granted
        return grant.granted

    def carry(self, session_id: str) -> AgentSnapshot | None:
        """What the agent held when the earlier session ``session_id`` ended: its newest
        verified checkpoint, read from stored bytes. This is how agent state crosses a
        session boundary; it changes no live state and counts as no recovery."""
        found = restore_latest(self.store, session_id)
        return None if found is None else found[1]

    def discard(self, session_id: str) -> None:
        self.store.delete(session_id)
        if self.intents is not None:
            self.intents.discard(session_id)
        self.encoder.reset()

    def status(self) -> dict[str, Any]:
        return {"variant": "durable", "state": str(self.fsm.state), "actions": self.counters.actions, **self.stats}

    def close(self) -> None:
        self.store.close()
        if self.intents is not None:
            self.intents.close()
