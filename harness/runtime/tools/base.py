"""The tool-layer protocol and its registry of variants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core.errors import ConfigError
from harness.runtime.port import Observation, ToolSpec
from harness.world import World


class ToolLayer(Protocol):
    """Turns an agent's call into primitive world operations and an observation."""

    def specs(self) -> list[ToolSpec]:
        """The tool list the agent is shown."""

    def call(self, world: World, tool: str, args: dict[str, Any]) -> Observation:
        """Execute one call; ``Observation.minutes`` says the simulated time it took.
        Never raises for anything the agent did wrong."""

    def precheck(self, tool: str, args: dict[str, Any]) -> Observation | None:
        """The observation ``call`` would return for a call refused on its size alone,
        or None: asked first, so nothing is computed from an oversized call."""


class ToolCosts(BaseModel):
    """What calls cost, shared by every variant: equal defaults, so time differences between
    variants come only from how many actions an agent needs, never from a per-variant price."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    minutes_per_call: float = Field(0.5, ge=0)
    minutes_per_test_run: float = Field(2.0, ge=0)
    test_timeout_s: float = Field(10.0, gt=0)  # a wall-clock limit cannot be switched off
    # Where workspace tests execute: "sandbox" for agents whose code is not ours to trust.
    test_runner: Literal["inprocess", "sandbox"] = "inprocess"

    @classmethod
    def parse(cls, variant: str, config: dict[str, Any]) -> ToolCosts:
        try:
            return cls(**config)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"bad {variant} tools option {where}: {err['msg']}") from None


TOOL_LAYERS: dict[str, Callable[..., ToolLayer]] = {}


def tool_layer(name: str) -> Callable[[type], type]:
    def register(cls: type) -> type:
        TOOL_LAYERS[name] = cls
        return cls

    return register


def make_tool_layer(variant: str, config: dict[str, Any] | None = None) -> ToolLayer:
    import harness.runtime.tools.shell  # noqa: F401 - registers on import
    import harness.runtime.tools.typed  # noqa: F401

    try:
        cls = TOOL_LAYERS[variant]
    except KeyError:
        known = ", ".join(sorted(TOOL_LAYERS))
        raise ConfigError(f"unknown tools variant {variant!r}; known: {known}") from None
    try:
        return cls(**(config or {}))
    except TypeError as exc:  # a variant that does not check its own keyword arguments
        raise ConfigError(f"bad config for tools variant {variant!r}: {exc}") from None
