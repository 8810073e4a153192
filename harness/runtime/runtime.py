"""Runtime: composes the layers a condition names into a session the agent acts through.

All five layers are wired. A condition that names no execution layer gets none beyond
the agent's own process, which is what ``ephemeral`` is: nothing survives a crash or a
session end.

A condition's layer choices are checked once, when the ``Runtime`` is made
(``validate_layers``: layer names, variant names and every option, against each variant's
options model in its registry), without building anything. Layers are built per episode
at ``deploy``: security holds consumed uses, revocations and an approver's random streams;
observability the episode's history; memory a store of its own, so what one episode
learned can never leak into another (which would also make results depend on the order in
which workers ran episodes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from harness.core.clock import SimClock
from harness.core.errors import ConfigError
from harness.core.models import Brief
from harness.core.registry import Registry
from harness.core.rng import RngStreams
from harness.runtime.execution.base import EXECUTION_LAYERS
from harness.runtime.memory.base import MEMORY_LAYERS
from harness.runtime.memory.store import InMemoryStore
from harness.runtime.observability.base import OBSERVABILITY_LAYERS
from harness.runtime.security.base import SECURITY_LAYERS
from harness.runtime.security.judge import PolicyJudge
from harness.runtime.session import Session
from harness.runtime.tools.base import TOOL_LAYERS
from harness.world import World

LAYER_NAMES = ("execution", "tools", "memory", "security", "observability")
LAYER_REGISTRIES: Mapping[str, Registry[Any]] = {
    "execution": EXECUTION_LAYERS,
    "tools": TOOL_LAYERS,
    "memory": MEMORY_LAYERS,
    "security": SECURITY_LAYERS,
    "observability": OBSERVABILITY_LAYERS,
}
DEFAULT_EXECUTION = "ephemeral"  # what a condition without an execution layer runs on


@dataclass(frozen=True)
class LayerSpec:
    """One layer's choice, checked: the variant and its validated options model."""

    variant: str
    options: BaseModel


def validate_layers(layers: Mapping[str, Mapping[str, Any]], where: str = "layers") -> dict[str, LayerSpec]:
    """Check a condition's layer choices (``{name: {"variant": ..., "config": {...}}}``)
    without building any layer; a ConfigError names the key at fault
    (``layers.tools.variant``, ``layers.tools.config.timeout``)."""
    unknown = sorted(set(layers) - set(LAYER_NAMES))
    if unknown:
        raise ConfigError(f"{where}: unknown layer(s) {unknown}; layers are {', '.join(LAYER_NAMES)}")
    if "tools" not in layers:
        raise ConfigError(f"a condition must choose a tools variant ({where}.tools.variant)")
    return {name: _layer_spec(name, spec, f"{where}.{name}") for name, spec in layers.items()}


def _layer_spec(name: str, spec: Mapping[str, Any], where: str) -> LayerSpec:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("variant"), str):
        raise ConfigError(f"{where}.variant: a layer choice needs a variant name")
    extra = sorted(set(spec) - {"variant", "config"})
    if extra:
        raise ConfigError(f"{where}: unknown key(s) {extra}; a layer choice has variant and config")
    registry = LAYER_REGISTRIES[name]
    variant = spec["variant"]
    registry.entry(variant, where=f"{where}.variant")  # an unknown variant, named as such
    return LayerSpec(variant, registry.options(variant, spec.get("config") or {}, where=f"{where}.config"))


def _context(name: str, rng: RngStreams, clock: SimClock, brief: Brief) -> dict[str, Any]:
    """What a layer needs of the episode besides its options."""
    if name == "security":
        return {"rng": rng, "policy": tuple(brief.policy)}
    if name == "memory":
        return {"store": InMemoryStore(), "clock": clock}
    return {}


class Runtime:
    def __init__(self, layers: Mapping[str, Mapping[str, Any]]):
        self.choices = validate_layers(layers)
        self.choices.setdefault("execution", LayerSpec(DEFAULT_EXECUTION, EXECUTION_LAYERS.options(DEFAULT_EXECUTION)))

    def deploy(self, world: World, brief: Brief, rng: RngStreams) -> Session:
        clock = SimClock()
        built = {name: LAYER_REGISTRIES[name].build(c.variant, c.options, **_context(name, rng, clock, brief))
                 for name, c in self.choices.items()}
        return Session(world=world, brief=brief, tools=built["tools"], clock=clock,
                       security=built.get("security"), observability=built.get("observability"),
                       memory=built.get("memory"), execution=built["execution"], judge=PolicyJudge(brief.policy))

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
