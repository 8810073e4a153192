"""What an action must be before anything acts on it.

Every action an agent yields crosses this line first. Text that no file, log or store
can hold (a lone surrogate, which a model's JSON ``"\\udcff"`` decodes to; a NUL) and an
action too large to be anything but an attack end the episode as the agent's error, with
the reason stored, before any layer sees them; the run goes on. An answer larger than a
submission may be is refused with an error the agent can act on, like any tool's limit.
Both sizes have no published source; they are set far above anything a task needs.
"""

from __future__ import annotations

import json
from typing import Any

from harness.runtime.port import Action, Observation, Submit, ToolError

MAX_ACTION_CHARS = 8_000_000  # an action's serialized size; beyond it, the agent's error
MAX_ANSWER_CHARS = 64_000  # a submitted answer's serialized size; beyond it, refused


class InadmissibleAction(ValueError):
    """The agent sent something no layer may be handed."""


class _Walk:
    """One pass over an action's values: the first unholdable text, and the text's size."""

    def __init__(self) -> None:
        self.chars = 0

    def text(self, value: str, where: str) -> str | None:
        self.chars += len(value)
        if "\x00" in value:
            return f"{where} contains a NUL character"
        if value.isascii():
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"{where} is not valid Unicode text ({exc.reason} at position {exc.start})"
        return None

    def value(self, value: Any, where: str) -> str | None:
        if isinstance(value, str):
            return self.text(value, where)
        if isinstance(value, dict):
            for key, item in value.items():
                found = (self.text(key, f"{where} key") if isinstance(key, str) else None) or \
                    self.value(item, f"{where}.{key}")
                if found:
                    return found
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                found = self.value(item, f"{where}[{i}]")
                if found:
                    return found
        return None


def admissible(action: Action) -> None:
    """Raises ``InadmissibleAction`` with the reason; returns for anything a layer may see."""
    if not hasattr(action, "model_dump"):
        raise InadmissibleAction(f"agent yielded {type(action).__name__}, not an Action")
    walk = _Walk()
    problem = walk.value(action.model_dump(mode="python"), action.kind)
    if problem:
        raise InadmissibleAction(f"the agent sent text no layer can hold: {problem}")
    if walk.chars > MAX_ACTION_CHARS:
        raise InadmissibleAction(f"the agent sent a {action.kind} action with {walk.chars:,} characters "
                                 f"of text; the limit is {MAX_ACTION_CHARS:,}")


def oversized_answer(action: Submit) -> Observation | None:
    """An error observation for an answer over the limit, else None."""
    size = len(json.dumps(action.answer, ensure_ascii=False, default=str))
    if size <= MAX_ANSWER_CHARS:
        return None
    message = f"answer refused: {size:,} characters, the limit is {MAX_ANSWER_CHARS:,}"
    return Observation(tool="submit", ok=False, applied=False, text=message + "\n",
                       error=ToolError(code="too_large", message=message, field="answer"))
