"""``ephemeral``: execution as a human-oriented system gives it to an agent.

What it is: the agent's state lives only in the running process. What it guarantees:
nothing beyond that. A crash or a session end loses all agent state (``resume`` returns
None; the agent starts over), while the world keeps every change already made to it.
There is no intent log, so an effect is applied whenever the agent asks, including again
after a crash; no heartbeat, so a crash is never detected by this layer (the loop's fault
model decides when a human notices); no budget extensions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.core.clock import SimClock
from harness.core.registry import NoOptions
from harness.runtime.execution.base import EXECUTION_LAYERS, Apply, Capture, Reconcile
from harness.runtime.execution.fsm import Lifecycle, LifecycleFSM
from harness.runtime.execution.heartbeat import Detection
from harness.runtime.execution.snapshot import AgentSnapshot


@EXECUTION_LAYERS.register("ephemeral")  # takes no options
class EphemeralExecution:
    durable = False

    def __init__(self, options: NoOptions | None = None):
        self.fsm = LifecycleFSM()
        self.actions = 0
        self.crashes = 0

    def begin(self, session_id: str, session_index: int = 0, clock: SimClock | None = None) -> None:
        self.session_id, self.session_index = session_id, session_index
        self.fsm = LifecycleFSM()
        self.fsm.to(Lifecycle.ACTIVE)

    def execute(self, action: dict[str, Any], apply: Apply, reconcile: Reconcile | None = None,
                world_digest: Callable[[], str] | None = None) -> dict[str, Any]:
        return apply()

    def record(self, action: dict[str, Any], observation: dict[str, Any] | None, minutes: float,
               capture: Capture) -> int | None:
        self.actions += 1
        return None

    def checkpoint(self, capture: Capture) -> int | None:
        return None

    def end_session(self, capture: Capture) -> None:
        self.fsm.to(Lifecycle.TERMINATED)

    def crash(self) -> None:
        self.crashes += 1
        self.actions = 0

    def detect(self) -> Detection | None:
        return None

    def resume(self) -> AgentSnapshot | None:
        return None

    def carry(self, session_id: str) -> AgentSnapshot | None:
        return None  # a session end lost everything the agent held

    def extend_budget(self, progress: float) -> int:
        return 0

    def discard(self, session_id: str) -> None:
        pass

    def status(self) -> dict[str, Any]:
        return {"variant": "ephemeral", "state": str(self.fsm.state), "crashes": self.crashes, "actions": self.actions,
                "checkpoints": 0, "recoveries": 0}

    def close(self) -> None:
        pass
