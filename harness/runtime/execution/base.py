"""The execution-layer protocol and its registry of variants.

A variant registers itself on ``EXECUTION_LAYERS`` with its options model; build one with
``EXECUTION_LAYERS.build(variant, config, where="layers.execution.config")``.

The seam the episode loop calls, in order, for one session of one agent:

    layer.discard(session_id)                           # only for a fresh episode/world
    layer.begin(session_id, session_index, clock)      # FSM idle -> active
    obs = layer.execute(action, apply, reconcile, world_digest)   # per action; effect guard
    layer.record(action, obs, minutes, capture)         # replay log + counters; maybe checkpoint
    ...
    layer.end_session(capture)                          # final checkpoint (durable)

and on a crash (the fault model killed the agent process):

    layer.crash()                                       # live agent state is gone
    layer.detect()                                      # heartbeat: Detection once timed out
    snap = layer.resume()                               # AgentSnapshot | None

A non-None snapshot means: restore RNG streams from ``snap.rng``, hand ``snap.memory`` to
the memory layer, build a fresh agent generator and feed it the observations of
``snap.replay``; the next action gets seq ``snap.action_seq``. None means start over with a
fresh agent on the world as it now is. ``capture()`` returns the parts this layer does not
own: ``{"rng": RngStreams.state(), "memory": {...}, "layers": {...}}``.
Actions and observations cross this seam as JSON dicts (``model_dump(mode="json")``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from harness.core.clock import SimClock
from harness.core.registry import Registry
from harness.runtime.execution.heartbeat import Detection
from harness.runtime.execution.intent_log import Intent
from harness.runtime.execution.snapshot import AgentSnapshot

Capture = Callable[[], dict[str, Any]]
Apply = Callable[[], dict[str, Any]]
Reconcile = Callable[[Intent], dict[str, Any] | None]


class ExecutionLayer(Protocol):
    durable: bool  # whether resume() can ever return a snapshot

    def begin(self, session_id: str, session_index: int = 0, clock: SimClock | None = None) -> None:
        """Start (or, after a session boundary, continue) a session; FSM -> active."""

    def execute(self, action: dict[str, Any], apply: Apply, reconcile: Reconcile | None = None,
                world_digest: Callable[[], str] | None = None) -> dict[str, Any]:
        """Apply one action's effect via ``apply`` (returns the observation as JSON) at most
        once per seq (durable), or just call it (ephemeral)."""

    def record(self, action: dict[str, Any], observation: dict[str, Any] | None, minutes: float,
               capture: Capture) -> int | None:
        """Append to the replay log and counters; returns the seq if a checkpoint was written.
        Takes ownership of ``action``/``observation``: the caller must not mutate them after."""

    def checkpoint(self, capture: Capture) -> int | None:
        """Write a checkpoint now; returns its seq (None if this variant keeps none)."""

    def end_session(self, capture: Capture) -> None:
        """Session boundary: durable checkpoints and terminates the session's FSM."""

    def crash(self) -> None:
        """The agent process died: drop all live agent state this layer holds."""

    def detect(self) -> Detection | None:
        """Failure detection: a Detection once the session's heartbeat has timed out."""

    def resume(self) -> AgentSnapshot | None:
        """The last verified snapshot (from stored bytes only), or None if state is lost."""

    def carry(self, session_id: str) -> AgentSnapshot | None:
        """The agent's state at the end of the earlier session ``session_id`` (durable), or
        None when a session end loses it (ephemeral)."""

    def extend_budget(self, progress: float) -> int:
        """Extra actions granted from the shared pool for a session showing progress."""

    def discard(self, session_id: str) -> None:
        """Forget every checkpoint and intent of ``session_id``. Call it when an episode
        starts over on a fresh world (e.g. a killed run re-executed from scratch): stale
        intents would otherwise suppress effects the fresh world never saw."""

    def status(self) -> dict[str, Any]:
        """JSON-able counters for the episode row (checkpoints, recoveries, bytes, ...)."""

    def close(self) -> None: ...


EXECUTION_LAYERS: Registry[ExecutionLayer] = Registry(
    "execution variant", plugins="harness.runtime.execution", skip={"bench"})
