"""Deployment loops: how an agent's actions reach the runtime and its results come back.

``autonomous``: the agent acts and reads results directly. ``chatbot``: a person relays
every action into the system and pastes the output back, which costs their time (one
relay per action and one more per further message a long output takes) and turns every
structured result into text. ``chain``: a prompt chain with no feedback, so a failed step
reads like any other output (the chain has no branch for it). A loop only changes what passes between agent and runtime;
it never reads the task or decides success.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core.errors import ConfigError
from harness.runtime.port import Observation


class _Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Loop:
    """The autonomous loop: nothing in between."""

    max_actions_per_session: int | None = None

    def relay_minutes(self) -> float:
        return 0.0

    def deliver(self, obs: Observation) -> Observation:
        return obs

    def paste_minutes(self, delivered: Observation) -> float:
        """Time spent bringing a delivered result back beyond the relay itself."""
        return 0.0


class ChatbotOptions(_Options):
    relay_minutes: float = Field(3.0, ge=0, description="a person copying one action in and its output back")
    max_lines: int = Field(40, ge=1, description="output lines that fit in one pasted chat message")


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


LOOPS: dict[str, tuple[type[_Options] | None, Callable[[Any], Loop]]] = {
    "autonomous": (None, lambda _o: Loop()),
    "chatbot": (ChatbotOptions, ChatbotLoop),
    "chain": (ChainOptions, ChainLoop),
}


def make_loop(name: str, options: dict[str, Any] | None = None) -> Loop:
    if name not in LOOPS:
        raise ConfigError(f"unknown loop {name!r}; loops: {', '.join(LOOPS)}")
    model, build = LOOPS[name]
    if model is None:
        if options:
            raise ConfigError(f"the {name} loop takes no options, got {sorted(options)}")
        return build(None)
    try:
        return build(model(**(options or {})))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"bad {name} loop option {where}: {err['msg']}") from None
