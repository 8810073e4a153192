"""Runtime: composes the layers a condition names into a session the agent acts through.

All five layers are wired. A condition that names no execution layer gets none beyond
the agent's own process, which is what ``ephemeral`` is: nothing survives a crash or a
session end.

Layers are built per episode at ``deploy``: security holds consumed uses, revocations and
an approver's random streams; observability the episode's history; memory a store of its
own, so what one episode learned can never leak into another (which would also make
results depend on the order in which workers ran episodes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.core.clock import SimClock
from harness.core.errors import ConfigError
from harness.core.models import Brief
from harness.core.rng import RngStreams
from harness.runtime.execution import make_execution_layer
from harness.runtime.memory import InMemoryStore, make_memory_layer
from harness.runtime.observability import make_observability_layer
from harness.runtime.security import make_security_layer
from harness.runtime.security.judge import PolicyJudge
from harness.runtime.session import Session
from harness.runtime.tools import make_tool_layer
from harness.world import World

LAYER_NAMES = ("execution", "tools", "memory", "security", "observability")
@dataclass(frozen=True)
class EpisodeContext:
    rng: RngStreams
    clock: SimClock
    policy: tuple[str, ...] = ()  # the task's stated policy


Builder = Callable[[str, dict[str, Any], EpisodeContext], Any]
LAYER_BUILDERS: dict[str, Builder] = {
    "execution": lambda variant, config, ctx: make_execution_layer(variant, config),
    "tools": lambda variant, config, ctx: make_tool_layer(variant, config),
    "security": lambda variant, config, ctx: make_security_layer(variant, config, rng=ctx.rng, policy=ctx.policy),
    "observability": lambda variant, config, ctx: make_observability_layer(variant, config),
    "memory": lambda variant, config, ctx: make_memory_layer(variant, config, store=InMemoryStore(), clock=ctx.clock),
}


@dataclass(frozen=True)
class _Choice:
    variant: str
    config: dict[str, Any]


class Runtime:
    def __init__(self, layers: dict[str, dict[str, Any]]):
        unknown = sorted(set(layers) - set(LAYER_NAMES))
        if unknown:
            raise ConfigError(f"unknown layer(s) {unknown}; layers are {', '.join(LAYER_NAMES)}")
        missing = sorted(set(layers) - set(LAYER_BUILDERS))
        if missing:
            raise ConfigError(
                f"layer(s) {missing} are not wired into episodes yet; wired: {', '.join(sorted(LAYER_BUILDERS))}",
                hint="remove them from the condition preset",
            )
        if "tools" not in layers:
            raise ConfigError("a condition must choose a tools variant (layers.tools.variant)")
        self.choices = {name: _Choice(spec["variant"], dict(spec.get("config") or {})) for name, spec in layers.items()}
        self.choices.setdefault("execution", _Choice("ephemeral", {}))
        checked = self._build(EpisodeContext(RngStreams(0, "config-check", 0), SimClock()))  # errors surface now
        checked["execution"].close()

    def _build(self, ctx: EpisodeContext) -> dict[str, Any]:
        return {name: LAYER_BUILDERS[name](c.variant, c.config, ctx) for name, c in self.choices.items()}

    def deploy(self, world: World, brief: Brief, rng: RngStreams) -> Session:
        clock = SimClock()
        layers = self._build(EpisodeContext(rng, clock, tuple(brief.policy)))
        return Session(world=world, brief=brief, tools=layers["tools"], clock=clock,
                       security=layers.get("security"), observability=layers.get("observability"),
                       memory=layers.get("memory"), execution=layers["execution"], judge=PolicyJudge(brief.policy))

    # -- the report's API over a deployed session ------------------------------------------
    @staticmethod
    def status(session: Session) -> dict[str, Any]:
        """Where the session stands: actions, simulated time, the execution layer's state."""
        return {"actions": len(session.log), "sim_minutes": session.clock.now(),
                "execution": session.execution.status()}

    @staticmethod
    def checkpoint(session: Session, capture) -> int | None:
        """Checkpoint now (durable only); ``capture`` supplies the agent's parts."""
        return session.execution.checkpoint(capture)

    @staticmethod
    def resume(session: Session):
        """The newest verified snapshot, from stored bytes alone (None if state is lost)."""
        return session.execution.resume()
