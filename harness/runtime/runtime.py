"""Runtime: composes the layers a condition names into a session the agent acts through.

Only the tool layer has variants so far; the other four layers arrive with the runtime
issue. A condition that names a layer the runtime does not implement is refused rather
than silently ignored, so no result ever claims a layer that was not there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.core.clock import SimClock
from harness.core.errors import ConfigError
from harness.core.models import Brief
from harness.runtime.port import Call, Observation, Think, ToolSpec
from harness.runtime.tools import make_tool_layer
from harness.runtime.tools.base import ToolLayer
from harness.world import World

LAYER_NAMES = ("execution", "tools", "memory", "security", "observability")
LAYER_FACTORIES: dict[str, Callable[[str, dict[str, Any]], Any]] = {"tools": make_tool_layer}


@dataclass(frozen=True)
class ActionLog:
    seq: int
    parent: int | None
    tool: str
    ok: bool
    applied: bool
    sim_minutes: float
    wall_latency_ms: float


@dataclass
class Session:
    """One agent session on one world: executes calls and keeps the action log."""

    world: World
    brief: Brief
    tools: ToolLayer
    clock: SimClock = field(default_factory=SimClock)
    log: list[ActionLog] = field(default_factory=list)
    thoughts: list[Think] = field(default_factory=list)

    def begin(self, brief: Brief) -> None:
        """A new work session of the same task: a new brief; world, log and clock go on."""
        self.brief = brief

    def tool_specs(self) -> list[ToolSpec]:
        return self.tools.specs()

    def execute(self, call: Call) -> Observation:
        started = time.perf_counter()
        obs = self.tools.call(self.world, call.tool, dict(call.args))
        minutes = obs.minutes
        self.clock.advance(minutes)
        parent = self.log[-1].seq if self.log else None
        self.log.append(
            ActionLog(
                seq=len(self.log),
                parent=parent,
                tool=call.tool,
                ok=obs.ok,
                applied=obs.applied,
                sim_minutes=minutes,
                wall_latency_ms=(time.perf_counter() - started) * 1000,
            )
        )
        return obs

    def think(self, thought: Think) -> None:
        self.thoughts.append(thought)


class Runtime:
    def __init__(self, layers: dict[str, dict[str, Any]]):
        unknown = sorted(set(layers) - set(LAYER_NAMES))
        if unknown:
            raise ConfigError(f"unknown layer(s) {unknown}; layers are {', '.join(LAYER_NAMES)}")
        missing = sorted(set(layers) - set(LAYER_FACTORIES))
        if missing:
            raise ConfigError(
                f"layer(s) {missing} are not implemented yet; implemented: {', '.join(sorted(LAYER_FACTORIES))}",
                hint="remove them from the condition preset",
            )
        if "tools" not in layers:
            raise ConfigError("a condition must choose a tools variant (layers.tools.variant)")
        self.layers = {name: LAYER_FACTORIES[name](spec["variant"], spec.get("config") or {}) for name, spec in layers.items()}

    def deploy(self, world: World, brief: Brief) -> Session:
        return Session(world=world, brief=brief, tools=self.layers["tools"])
