"""Conditions: named compositions of layer variants, loaded from configs/condition/.

The name is a label for tables and nothing else: the runtime receives only the layer
choices, so a preset copied under a new name yields identical episodes.

``loop`` names an entry of the loop registry (``harness.experiment.loops.LOOPS``) and
``loop_options`` are checked by that loop's options model when the condition is made; the
options are kept as written (not filled with defaults), so the stored spec and its hash
are what the preset says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_serializer,
    model_validator,
)

from harness.core.errors import ConfigError
from harness.core.hashing import stable_hash
from harness.experiment.loops import validate_loop


class LayerChoice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    variant: str
    config: dict[str, Any] = Field(default_factory=dict)


class Condition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    loop: str = "autonomous"  # a name in the loop registry
    loop_options: dict[str, Any] = Field(default_factory=dict)
    layers: dict[str, LayerChoice]
    faults: dict[str, Any] = Field(default_factory=dict)
    # Set by an arm (``harness.experiment.arms``), empty for a preset: the agent profile's
    # keys this condition's agent runs with, and factors on every task's budgets.
    agent_profile: dict[str, Any] = Field(default_factory=dict)
    budget_scale: dict[str, float] = Field(default_factory=dict)

    @model_serializer(mode="wrap")
    def _without_empty_arm_fields(self, handler: Any) -> dict[str, Any]:
        # Empty, they are left out, so a preset's stored spec, hash and run id stay what
        # they were before arms existed (stores resume, digests hold).
        data = handler(self)
        for key in ("agent_profile", "budget_scale"):
            if not data.get(key):
                data.pop(key, None)
        return data

    @model_validator(mode="after")
    def _known_loop(self) -> Condition:
        validate_loop(self.loop, self.loop_options)  # a ConfigError naming loop / loop_options.<key>
        return self

    def behaviour(self) -> dict[str, Any]:
        """Everything that can change an episode: the spec without name and description."""
        return self.model_dump(mode="json", exclude={"name", "description"})

    def behaviour_hash(self) -> str:
        return stable_hash(self.behaviour())


def known_conditions(config_dir: Path) -> list[str]:
    return sorted(p.stem for p in (config_dir / "condition").glob("*.yaml"))


def load_condition(config_dir: Path, name: str) -> Condition:
    path = config_dir / "condition" / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(known_conditions(config_dir)) or "none"
        raise ConfigError(f"unknown condition {name!r}; known: {known}")
    data = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    try:
        return Condition(name=name, **data)
    except ConfigError as exc:
        raise ConfigError(f"condition preset {path} is invalid: {exc.message}", hint=exc.hint) from None
    except (ValidationError, TypeError) as exc:
        raise ConfigError(f"condition preset {path} is invalid: {exc}".splitlines()[0]) from None


def runtime_layers(condition: Condition, code_trusted: bool) -> dict[str, dict[str, Any]]:
    """The layer choices an episode deploys. Code written by an agent whose code is not
    trusted runs its tests in the sandbox whatever the preset says (DESIGN §5, invariant
    10); the same for every condition, so a comparison between conditions is unchanged."""
    layers = {k: v.model_dump() for k, v in condition.layers.items()}
    if not code_trusted and "tools" in layers:
        tools = layers["tools"]
        tools["config"] = {**(tools.get("config") or {}), "test_runner": "sandbox"}
    return layers


def with_layer_options(conditions: list[Condition], overrides: dict[str, Any]) -> list[Condition]:
    """The run's layer options (``layers.<layer>.config.<key>=v`` on the command line) set
    over every condition that deploys that layer, key by key. Only options: a variant is
    what a condition is, so it is chosen by preset, never for the whole run."""
    for layer, section in overrides.items():
        if not isinstance(section, dict) or set(section) - {"config"}:
            keys = sorted(section) if isinstance(section, dict) else section
            raise ConfigError(f"layers.{layer}: a run-wide layer override sets options only (layers.{layer}.config.<key>), "
                              f"got {keys}", hint="choose variants with conditions=[...] presets")
        if not isinstance(section.get("config") or {}, dict):
            raise ConfigError(f"layers.{layer}.config: expected options as keys, got {section['config']!r}")
    return [_with_options(c, overrides) for c in conditions]


def _with_options(condition: Condition, overrides: dict[str, Any]) -> Condition:
    layers = dict(condition.layers)
    for layer, section in overrides.items():
        if layer in layers and section.get("config"):
            old = layers[layer]
            layers[layer] = old.model_copy(update={"config": {**old.config, **section["config"]}})
    return condition.model_copy(update={"layers": layers}) if layers != condition.layers else condition
