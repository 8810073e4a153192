"""The fault model: what the environment does to an episode, the same in every condition.

Faults are drawn from named streams keyed by the action's sequence number, so the k-th
action meets the same fault draw in every condition (common random numbers), and a fault
fires once: an action re-proposed after a recovery does not meet it again. What a fault
leads to is the runtime's business (a durable execution layer turns a crash into a pause;
an ephemeral one loses the agent's state), never decided here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core.registry import config_error
from harness.core.rng import RngStreams


class FaultModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    crash_rate: float = Field(0.0, ge=0, le=1, description="per action: the agent process dies")
    crash_after_effect: float = Field(
        0.5, ge=0, le=1, description="share of crashes that hit after the call's effect, before its result came back")
    transient_failure_rate: float = Field(
        0.0, ge=0, le=1, description="per tool call: the call fails without effect (a retry may succeed)")
    human_notice_minutes: float = Field(
        15.0, ge=0, description="simulated minutes until a person notices a dead agent no layer detects")
    restart_minutes: float = Field(2.0, ge=0, description="simulated minutes to start the agent process again")
    max_restarts: int = Field(5, ge=0, description="crashes per session after which the episode is lost")

    @classmethod
    def parse(cls, config: dict[str, Any] | None) -> FaultModel:
        try:
            return cls(**(config or {}))
        except ValidationError as exc:
            raise config_error(exc, "faults") from None


class FaultSchedule:
    """Draws each action's faults once, by sequence number, from the episode's streams."""

    def __init__(self, model: FaultModel, rng: RngStreams):
        self.model = model
        self.rng = rng
        self._crash: dict[int, str | None] = {}
        self._transient: dict[int, bool] = {}
        self.fired: set[tuple[str, int]] = set()

    def crash(self, seq: int) -> str | None:
        """None, "before" (the effect never happened) or "after" (it did, its result was lost)."""
        if seq not in self._crash:
            hit = self.rng.bernoulli("fault.crash", self.model.crash_rate)
            after = self.rng.bernoulli("fault.crash_phase", self.model.crash_after_effect)
            self._crash[seq] = ("after" if after else "before") if hit else None
        return self._fire("crash", seq, self._crash[seq])

    def transient(self, seq: int) -> bool:
        if seq not in self._transient:
            self._transient[seq] = self.rng.bernoulli("fault.transient", self.model.transient_failure_rate)
        return bool(self._fire("transient", seq, self._transient[seq] or None))

    def _fire(self, kind: str, seq: int, value: Any) -> Any:
        if value is None or (kind, seq) in self.fired:
            return None
        self.fired.add((kind, seq))
        return value
