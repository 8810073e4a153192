"""One session's conversation with the model: messages, observations as tool messages,
and keeping the whole under the model's context window.

Each work session is a new conversation (the driver starts a fresh agent per session);
what survives a session boundary is what the layers carry: the brief's ``carried``
instructions when the execution layer kept the agent's state, and whatever the memory
layer returns to ``recall``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from harness.core.models import Brief
from harness.runtime.port import Observation

TRUNCATED = "\n[... {n} more characters not shown]\n"
DROPPED = "[{n} earlier messages were dropped to fit the context window]"


def system_prompt(category: str) -> str:
    """The category's prompt file (``prompts/<category>.md``), else ``prompts/default.md``."""
    folder = resources.files("harness.agents.llm") / "prompts"
    for name in (f"{category}.md", "default.md"):
        path = folder / name
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    raise FileNotFoundError(f"no system prompt for {category!r} and no default.md in {folder}")


def brief_message(brief: Brief) -> str:
    lines = [f"Task category: {brief.category}", f"Task kind: {brief.family}",
             f"Work session {brief.session + 1} of {brief.sessions}.", ""]
    if brief.carried:
        lines += ["What you were told earlier in this task:", *(f"- {t}" for t in brief.carried), ""]
    lines.append(brief.instructions)
    if brief.policy:
        lines += ["", "What this task allows (its stated policy):", *(f"- {rule}" for rule in brief.policy)]
    if brief.public:
        lines += ["", "Known parameters: " + json.dumps(brief.public, sort_keys=True)]
    return "\n".join(lines)


def render_observation(obs: Observation | None, limit: int) -> str:
    """What the model reads back: JSON under structured layers, the text under human ones."""
    if obs is None:
        return "noted"
    if obs.structured:
        payload: dict[str, Any] = {"ok": obs.ok}
        if obs.data is not None:
            payload["data"] = obs.data
        if obs.error is not None:
            payload["error"] = obs.error.model_dump(exclude_none=True)
        text = json.dumps(payload, sort_keys=True, default=str)
    else:
        text = obs.text or ""
    if len(text) > limit:
        text = text[:limit] + TRUNCATED.format(n=len(text) - limit)
    return text


def estimate_tokens(value: Any) -> int:
    """A deterministic token estimate (about four characters a token) for budgeting the
    window; the accounting of what was spent uses the endpoint's own ``usage``."""
    return len(json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)) // 4 + 1


@dataclass
class Conversation:
    system: str
    first: str
    window_tokens: int
    turns: list[list[dict[str, Any]]] = field(default_factory=list)  # assistant msg + its tool msgs
    dropped: int = 0

    def messages(self) -> list[dict[str, Any]]:
        head = [{"role": "system", "content": self.system}, {"role": "user", "content": self.first}]
        if self.dropped:
            head.append({"role": "user", "content": DROPPED.format(n=self.dropped)})
        return head + [m for turn in self.turns for m in turn]

    def add_assistant(self, message: dict[str, Any]) -> None:
        kept = {"role": "assistant", "content": message.get("content") or ""}
        if message.get("tool_calls"):
            kept["tool_calls"] = message["tool_calls"]
        self.turns.append([kept])

    def add_tool(self, call_id: str, name: str, content: str) -> None:
        self.turns[-1].append({"role": "tool", "tool_call_id": call_id, "name": name, "content": content})

    def add_user(self, content: str) -> None:
        self.turns.append([{"role": "user", "content": content}])

    def fit(self, reserve: int) -> None:
        """Drop the oldest whole turns (an assistant message with its tool results stays
        together, as the API requires) until the conversation and ``reserve`` tokens for
        the answer fit the window. The brief and the latest turn always stay."""
        while len(self.turns) > 1 and estimate_tokens(self.messages()) + reserve > self.window_tokens:
            self.dropped += len(self.turns.pop(0))
