"""Content-addressed record and replay of model exchanges.

Every request goes through a ``Recorder``: a request whose hash it already holds is
answered from the recording, with no network call and the identical response. That one
rule gives three things: a rebuilt agent (durable execution replays observations into a
fresh generator, which asks the same questions again) gets the answers it got before;
``agent.replay=RUN`` serves a stored run offline (recorder loaded from RUN, network off);
and a replay miss is an error naming the request instead of a silent call.

Recordings are kept per episode: two episodes may ask the same thing and a sampling model
may answer differently, so a run-wide table keyed by the request alone would be ambiguous.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.core.errors import UserInputError
from harness.core.hashing import canonical_json, stable_hash

Send = Callable[[dict[str, Any]], dict[str, Any]]


class ReplayMiss(UserInputError):
    """A replayed run asked something its recording does not hold."""

    def __reduce__(self):
        return (type(self), (self.message, self.hint))


def request_hash(body: dict[str, Any]) -> str:
    return stable_hash(body, length=32)


def summarize(body: dict[str, Any]) -> str:
    """A short description of a request for error messages: model, size, last message."""
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    text = str(last.get("content") or "")[:80].replace("\n", " ")
    return f"model {body.get('model')!r}, {len(messages)} messages, last ({last.get('role')}): {text!r}"


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as stored (the request never holds a key: the key
    travels only in a header, and headers are not recorded)."""

    seq: int
    request_hash: str
    request: dict[str, Any]
    response: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int

    def as_row(self) -> dict[str, Any]:
        return {"seq": self.seq, "request_hash": self.request_hash, "request": _ascii_json(self.request),
                "response": _ascii_json(self.response), "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens}


def _ascii_json(value: Any) -> str:
    # ASCII escapes: a lone surrogate in a model's text must not make the batch unstorable
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def usage_of(request: dict[str, Any], response: dict[str, Any]) -> tuple[int, int]:
    """The endpoint's own token counts; a deterministic estimate where it gives none."""
    usage = response.get("usage") if isinstance(response.get("usage"), dict) else {}
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if isinstance(prompt, int) and isinstance(completion, int):
        return prompt, completion
    message = (response.get("choices") or [{}])[0].get("message", {})
    return len(canonical_json(request)) // 4, len(canonical_json(message)) // 4


@dataclass
class Recorder:
    """``known``: a replayed episode's recording (hash -> response). ``offline``: no network."""

    known: dict[str, dict[str, Any]] = field(default_factory=dict)
    offline: bool = False
    exchanges: dict[str, Exchange] = field(default_factory=dict)  # this episode's, by hash

    def complete(self, body: dict[str, Any], send: Send | None) -> tuple[Exchange, bool]:
        """The exchange for ``body`` and whether it is new to this episode (only a new one
        is charged: a repeated question is answered from what the episode already holds)."""
        h = request_hash(body)
        if h in self.exchanges:
            return self.exchanges[h], False
        if h in self.known:
            response = self.known[h]
        elif self.offline or send is None:
            raise ReplayMiss(f"replay miss: request {h} is not in the recording ({summarize(body)})",
                             hint="a replay must use the replayed run's workload, conditions and agent settings")
        else:
            response = send(body)
        # a copy through JSON: what is stored is exactly what later replays will serve
        request, response = json.loads(canonical_json(body)), json.loads(canonical_json(response))
        prompt, completion = usage_of(request, response)
        exchange = Exchange(len(self.exchanges), h, request, response, prompt, completion)
        self.exchanges[h] = exchange
        return exchange, True
