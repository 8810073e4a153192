"""Deployment loops: how an agent's actions reach the runtime and its results come back.

``autonomous``: the agent acts and reads results directly. ``chatbot``: a person relays
every action into the system and pastes the output back, which costs their time (one
relay per action and one more per further message a long output takes) and turns every
structured result into text. ``chain``: a prompt chain with no feedback, so a failed step
reads like any other output (the chain has no branch for it). A loop only changes what passes between agent and runtime;
it never reads the task or decides success.

Every loop lives in this module and registers itself in ``LOOPS`` (a
``harness.core.registry.Registry``, so no folder scan is needed) with the pydantic model
of its options; a condition's ``loop`` and ``loop_options`` are checked against it when
the condition is loaded (``validate_loop``), before anything is built or stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.core.registry import NoOptions, Registry
from harness.runtime.port import Observation


class _Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Loop:
    """What every loop does unless it says otherwise: pass actions and results through."""

    max_actions_per_session: int | None = None

    def relay_minutes(self) -> float:
        return 0.0

    def deliver(self, obs: Observation) -> Observation:
        return obs

    def paste_minutes(self, delivered: Observation) -> float:
        """Time spent bringing a delivered result back beyond the relay itself."""
        return 0.0


LOOPS: Registry[Loop] = Registry("loop")


@LOOPS.register("autonomous")
class AutonomousLoop(Loop):
    """The agent acts and reads results directly: nothing in between."""

    def __init__(self, options: NoOptions):
        self.options = options


class ChatbotOptions(_Options):
    relay_minutes: float = Field(3.0, ge=0, description="a person copying one action in and its output back")
    max_lines: int = Field(40, ge=1, description="output lines that fit in one pasted chat message")


@LOOPS.register("chatbot", options=ChatbotOptions)
class ChatbotLoop(Loop):
    def __init__(self, options: ChatbotOptions):
        self.options = options

    def relay_minutes(self) -> float:
        return self.options.relay_minutes

    def deliver(self, obs: Observation) -> Observation:
        text = obs.text if obs.text is not None else _as_text(obs)
        # what crosses a chat window is text: structure does not survive the copy
        return obs.model_copy(update={"text": text, "data": None, "error": None})

    def paste_minutes(self, delivered: Observation) -> float:
        """A long output is pasted in several messages, each one more relay; nothing is lost."""
        lines = len((delivered.text or "").splitlines())
        return self.options.relay_minutes * max(0, -(-lines // self.options.max_lines) - 1)


class ChainOptions(_Options):
    # None: as many steps as the task's action budget allows (a chain built for the task).
    # A fixed number makes longer tasks impossible by construction, whoever the agent is.
    steps_per_session: int | None = Field(None, ge=1, description="a cap on the chain's tool steps per session")


@LOOPS.register("chain", options=ChainOptions)
class ChainLoop(Loop):
    def __init__(self, options: ChainOptions):
        self.max_actions_per_session = options.steps_per_session

    def deliver(self, obs: Observation) -> Observation:
        # no feedback edge: the next step gets the output, never a verdict on it
        text = obs.text if obs.text is not None else _as_text(obs)
        return obs.model_copy(update={"ok": True, "error": None, "text": text})


def _as_text(obs: Observation) -> str:
    if obs.error is not None:
        return f"error: {obs.error.message}\n"
    import json

    return json.dumps(obs.data, sort_keys=True, default=str) + "\n" if obs.data is not None else ""


def validate_loop(name: str, options: Mapping[str, Any] | None = None, where: str = "") -> BaseModel:
    """The loop's validated options, building nothing: an unknown name is a ConfigError
    naming ``<where>.loop``, a bad option one naming ``<where>.loop_options.<key>``."""
    prefix = f"{where}." if where else ""
    LOOPS.entry(name, where=f"{prefix}loop")
    return LOOPS.options(name, options, where=f"{prefix}loop_options")


def make_loop(name: str, options: Mapping[str, Any] | None = None) -> Loop:
    LOOPS.entry(name, where="loop")  # the unknown-name message names the key, as validate_loop's does
    return LOOPS.build(name, options, where="loop_options")
