"""The port's tools as OpenAI function tools, and a model's tool call back as a port action.

The layer's own tools (typed schemas, or the one ``shell`` tool) are offered as they are:
``ToolSpec.parameters`` is JSON Schema already. Beside them the port's own actions
(remember, recall, history, telemetry, think, finish, give_up) are offered as tools for
every agent alike; what each returns is the layer's business, so nothing here needs to
know which layers are behind the port. A layer tool wins a name clash.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from harness.runtime.port import (
    Action,
    Call,
    GiveUp,
    History,
    Recall,
    Remember,
    Submit,
    Telemetry,
    Think,
    ToolSpec,
)

RAW_ARGUMENTS = "_raw_arguments"  # where unparseable arguments go, for the layer to refuse


def _obj(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


_STR = {"type": "string"}
CONTROL_TOOLS: dict[str, tuple[str, dict[str, Any]]] = {
    "finish": ("Submit your final answer and end the work (an empty object when the task asks "
               "for changes, not an answer).", _obj({"answer": {"type": "object"}}, ["answer"])),
    "give_up": ("Stop without finishing, saying why.", _obj({"reason": _STR}, ["reason"])),
    "think": ("Record a reasoning step: what you concluded, the evidence, how sure you are, and "
              "the alternatives you rejected.",
              _obj({"step": _STR, "evidence": {"type": "array", "items": _STR},
                    "confidence": {"type": "number"}, "rejected": {"type": "array", "items": _STR}}, ["step"])),
    "remember": ("Ask the memory to keep a note under a key (a convention, a file map, a fact).",
                 _obj({"key": _STR, "text": _STR}, ["key", "text"])),
    "recall": ("Ask the memory what it holds about a query.",
               _obj({"query": _STR, "k": {"type": "integer"}}, ["query"])),
    "history": ("Ask about your own past actions (what last changed a file, which call failed).",
                _obj({"query": _STR}, ["query"])),
    "telemetry": ("Look at one service's metrics, logs and traces between two simulated minutes.",
                  _obj({"service": _STR, "since": {"type": "integer"}, "until": {"type": "integer"}},
                       ["service"])),
}

_BUILDERS: dict[str, Callable[[dict[str, Any]], Action]] = {
    "finish": lambda a: Submit(answer=a.get("answer") if isinstance(a.get("answer"), dict) else {}),
    "give_up": lambda a: GiveUp(reason=str(a.get("reason", ""))),
    "think": lambda a: Think(step=str(a.get("step", "")), evidence=tuple(map(str, a.get("evidence") or ())),
                             confidence=float(a.get("confidence", 1.0)),
                             rejected=tuple(map(str, a.get("rejected") or ()))),
    "remember": lambda a: Remember(key=str(a["key"]), text=str(a["text"])),
    "recall": lambda a: Recall(query=str(a["query"]), k=int(a.get("k", 5))),
    "history": lambda a: History(query=a["query"]),
    "telemetry": lambda a: Telemetry(service=str(a["service"]), since=int(a.get("since", 0)),
                                     until=int(a.get("until", 10_000))),
}


def function_tools(specs: list[ToolSpec]) -> list[dict[str, Any]]:
    """The tools of one request: the layer's, then the port's that do not clash."""
    names = {s.name for s in specs}
    out = [_function(s.name, s.description, s.parameters) for s in specs]
    out += [_function(n, d, p) for n, (d, p) in CONTROL_TOOLS.items() if n not in names]
    return out


def _function(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


@dataclass(frozen=True)
class Parsed:
    """A model's tool call as a port action; ``malformed`` when its arguments were not a
    JSON object (the layer then refuses or misreads it, as it would any broken call)."""

    action: Action
    malformed: bool = False


def parse_tool_call(name: str, arguments: Any, specs: list[ToolSpec]) -> Parsed:
    layer = {s.name: s for s in specs}
    args, ok = _arguments(arguments)
    if name in layer:
        if ok:
            return Parsed(Call(tool=name, args=args))
        return Parsed(Call(tool=name, args=_salvage(layer[name], arguments)), malformed=True)
    builder = _BUILDERS.get(name)
    if builder is not None and ok:
        try:
            return Parsed(builder(args))
        except (KeyError, TypeError, ValueError, ValidationError):
            pass
    # An unknown tool, or a port action with unusable arguments: the layer answers it
    # like any call it cannot serve (unknown tool / invalid arguments), and it costs a turn.
    return Parsed(Call(tool=name, args=args if ok else {RAW_ARGUMENTS: str(arguments)}), malformed=True)


def _arguments(arguments: Any) -> tuple[dict[str, Any], bool]:
    if isinstance(arguments, dict):
        return arguments, True
    if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
        return {}, True  # no arguments at all is how models call a tool that takes none
    try:
        value = json.loads(arguments)
    except (TypeError, ValueError):
        return {}, False
    return (value, True) if isinstance(value, dict) else ({}, False)


def _salvage(spec: ToolSpec, raw: Any) -> dict[str, Any]:
    """Broken JSON for a loose one-string interface (a command line): the text goes in as
    typed, which is what a lenient free-text tool does with it. A strict schema (one that
    forbids other properties, as typed tools declare) gets the raw text under a name it
    does not allow, so the layer refuses the call as invalid arguments."""
    params = spec.parameters
    props = params.get("properties") or {}
    required = params.get("required") or []
    loose = params.get("additionalProperties", True) is not False
    if loose and len(props) == 1 and required == list(props) and props[required[0]].get("type") == "string":
        return {required[0]: str(raw)}
    return {RAW_ARGUMENTS: str(raw)}
