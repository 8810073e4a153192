"""A scripted mock model: chat-completion answers from a file of canned tool calls.

It replaces the transport, not the agent: a mock run goes through the same adapter as a
real model (tool schemas, tool messages, context management, token accounting,
recording). Deterministic: the answer depends only on the request. It need not solve
tasks; it exercises the machinery under every condition.

A script (``mock_scripts/<name>.yaml``) is a list of variants; the first whose
``when_tool`` is among the offered tools is used, and within it the steps for the brief's
category (else ``default``). Step k answers the model's k-th turn of the conversation:
``say`` (assistant text), ``calls`` (``{name, args}`` or ``{name, raw}`` for arguments
sent as they are, broken JSON included). After the last step the model calls ``finish``.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import yaml

from harness.core.errors import ConfigError
from harness.core.hashing import canonical_json, stable_hash

_CATEGORY = re.compile(r"^Task category: (\S+)", re.MULTILINE)
FINISH = {"calls": [{"name": "finish", "args": {"answer": {}}}]}


def load_script(name: str) -> list[dict[str, Any]]:
    path = resources.files("harness.agents.llm") / "mock_scripts" / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"no mock script {name!r} (looked for {path})",
                          hint="agent.script names a file in harness/agents/llm/mock_scripts/")
    variants = yaml.safe_load(path.read_text(encoding="utf-8")).get("variants")
    if not isinstance(variants, list) or not variants:
        raise ConfigError(f"mock script {name!r} has no variants")
    return variants


class MockModel:
    """``complete(body)`` like ``ChatClient.complete``, without a network."""

    def __init__(self, script: str):
        self.variants = load_script(script)

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages") or []
        offered = {t["function"]["name"] for t in body.get("tools") or []}
        steps = self._steps(offered, _category(messages))
        turn = sum(m.get("role") == "assistant" for m in messages)
        step = steps[turn] if turn < len(steps) else FINISH
        message = _message(step, turn)
        prompt = len(canonical_json(body)) // 4
        completion = len(canonical_json(message)) // 4
        return {
            "id": "mock-" + stable_hash(body, length=12), "object": "chat.completion", "model": body.get("model"),
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }

    def _steps(self, offered: set[str], category: str) -> list[dict[str, Any]]:
        for variant in self.variants:
            if variant.get("when_tool") in offered or variant.get("when_tool") is None:
                by_category = variant.get("categories") or {}
                return list(by_category.get(category) or by_category.get("default") or [])
        return []


def _category(messages: list[dict[str, Any]]) -> str:
    for m in messages:
        if m.get("role") == "user":
            found = _CATEGORY.search(str(m.get("content") or ""))
            return found.group(1) if found else "default"
    return "default"


def _message(step: dict[str, Any], turn: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": step.get("say")}
    calls = [
        {"id": f"call_{turn}_{i}", "type": "function",
         "function": {"name": c["name"], "arguments": c["raw"] if "raw" in c else json.dumps(c.get("args") or {})}}
        for i, c in enumerate(step.get("calls") or [])
    ]
    if calls:
        message["tool_calls"] = calls
    return message
