"""The tool-layer protocol, the options every variant shares, and the registry of variants.

A variant registers itself on ``TOOL_LAYERS`` with its options model (a ``ToolCosts``
subclass); the registry finds it by scanning this package, so this module never imports
a variant. Build one with ``TOOL_LAYERS.build(variant, config, where="layers.tools.config")``.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from harness.core.registry import Registry
from harness.runtime.port import Observation, ToolSpec
from harness.world import World


class ToolLayer(Protocol):
    """Turns an agent's call into primitive world operations and an observation."""

    minutes_per_call: float  # what a call costs that the layer did not price itself (a refusal, a recall)

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


TOOL_LAYERS: Registry[ToolLayer] = Registry("tools variant", plugins="harness.runtime.tools", skip={"bench"})
