"""The port adapter: an agent driven by any OpenAI-compatible chat model with tool calling.

``agent=llm`` talks to an endpoint; ``agent=mock`` answers from a script. Both are this
one adapter with a different transport, so a mock run exercises everything a real run
does (a replay's transport is ``harness.agents.llm.transport``: no network at all).
Every request goes through the recorder of the episode's scope (``harness.agents.scope``),
which the driver hands to every agent it builds for the episode: that is what makes crash
recovery, replay and token accounting one mechanism.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.agents.llm.client import ChatClient, ClientSettings, EndpointError
from harness.agents.llm.conversation import (
    Conversation,
    brief_message,
    render_observation,
    system_prompt,
)
from harness.agents.llm.mock import MockModel, load_script
from harness.agents.llm.recording import Send
from harness.agents.llm.schemas import function_tools, parse_tool_call
from harness.agents.llm.transport import REPLAY_URL, NoNetworkTransport
from harness.agents.registry import AGENTS
from harness.agents.scope import EpisodeScope, Price
from harness.core.errors import ConfigError
from harness.core.models import Brief
from harness.core.rng import AgentStreams
from harness.runtime.port import AgentRun, GiveUp, Submit, Think, ToolSpec

NUDGE = "Continue with the tools, or call `finish` when the work is done (or `give_up`)."
SEED_STREAM = "agent.llm.seed"  # an agent stream: rewound with the agent on recovery
THINK_CHARS = 2000


class PriceSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_mtok: float = Field(0.0, ge=0)
    output_per_mtok: float = Field(0.0, ge=0)


class LlmSettings(BaseModel):
    """``agent.*`` for ``agent=llm`` and ``agent=mock`` (see configs/agent/llm.yaml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "llm"
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None  # the NAME of the variable holding the key, never the key
    temperature: float = Field(0.0, ge=0)
    max_tokens: int = Field(1024, ge=1)
    seed: int | None = None
    request_timeout_s: float = Field(120.0, gt=0)
    retries: int = Field(4, ge=0)
    backoff_s: float = Field(1.0, ge=0)
    max_backoff_s: float = Field(30.0, ge=0)
    # requests in flight per process and endpoint; as many as the episodes a worker process
    # runs at once by default (executor.concurrency), so the limit only bites when lowered
    concurrency: int = Field(32, ge=1)
    context_tokens: int = Field(32_000, ge=256)
    max_observation_chars: int = Field(8_000, ge=100)
    max_idle_turns: int = Field(3, ge=0)  # answers without a tool call before giving up
    price: PriceSettings = PriceSettings()
    max_run_tokens: int | None = Field(None, ge=1)
    max_run_cost_usd: float | None = Field(None, gt=0)
    replay: str | None = None  # a run id: serve its recorded exchanges, no network
    script: str = "default"  # agent=mock: mock_scripts/<script>.yaml


def api_key(settings: LlmSettings) -> str | None:
    if not settings.api_key_env:
        return None
    value = os.environ.get(settings.api_key_env)
    if not value:
        raise EndpointError(f"agent.api_key_env names {settings.api_key_env}, which is not set",
                            hint=f"export {settings.api_key_env}=... (or agent.api_key_env=null for a local server)")
    return value


@functools.cache
def _client(settings: LlmSettings) -> ChatClient:
    """One client per process and endpoint settings; all of them share the endpoint's
    connections and concurrency limit (``client.endpoint``)."""
    if not settings.base_url or not settings.model:
        raise ConfigError("agent=llm needs agent.base_url and agent.model",
                          hint="e.g. agent.base_url=http://localhost:8000/v1 agent.model=NAME")
    return ChatClient(ClientSettings(
        base_url=settings.base_url, api_key=api_key(settings), timeout_s=settings.request_timeout_s,
        retries=settings.retries, backoff_s=settings.backoff_s, max_backoff_s=settings.max_backoff_s,
        concurrency=settings.concurrency))


@functools.cache
def _mock(script: str) -> MockModel:
    # answered in-process, not through the HTTP client: a mock episode takes ~15 ms, and
    # httpx's ~1.3 ms per exchange would slow a mock run by a quarter
    return MockModel(script)


@functools.cache
def _offline() -> ChatClient:
    return ChatClient(ClientSettings(base_url=REPLAY_URL, retries=0), transport=NoNetworkTransport())


TRANSPORTS = {"llm": lambda s: _client(s).complete, "mock": lambda s: _mock(s.script).complete}


class MockSettings(LlmSettings):
    """``agent.*`` for ``agent=mock`` (configs/agent/mock.yaml): a missing script fails here,
    at validation, before anything is stored."""

    name: str = "mock"

    @field_validator("script")
    @classmethod
    def _script_exists(cls, script: str) -> str:
        load_script(script)
        return script


class LlmAgent:
    """Sees what every agent sees: the brief, the tool list and its own random streams; the
    episode's ``scope`` holds what must outlast this object (recording, spending, the cap)."""

    def __init__(self, settings: LlmSettings, scope: EpisodeScope):
        self.settings = settings
        self.scope = scope

    def _send(self) -> Send:
        if self.settings.replay is not None or self.scope.recorder.offline:
            return _offline().complete  # a replay or a trace: no network, whatever the settings
        return TRANSPORTS[self.settings.name](self.settings)

    def run(self, brief: Brief, tools: list[ToolSpec], rng: AgentStreams) -> AgentRun:
        s, scope = self.settings, self.scope
        scope.price = Price(s.price.input_per_mtok, s.price.output_per_mtok)
        try:
            send = self._send()
        except Exception as exc:
            scope.fatal = exc  # no endpoint to talk to: the run stops, nothing half-stored
            raise
        conv = Conversation(system_prompt(brief.category), brief_message(brief), s.context_tokens)
        offered = function_tools(tools)
        # always drawn, so the agent's streams stay aligned whether or not a seed is sent
        drawn = int(rng.get(SEED_STREAM).integers(0, 2**31 - 1))
        idle = 0
        while True:
            reason = scope.cap_reached()
            if reason:
                yield GiveUp(reason=reason)
                return
            conv.fit(s.max_tokens)
            body = self._body(conv.messages(), offered, None if s.seed is None else s.seed + drawn)
            message = _message(scope.complete(body, send))
            conv.add_assistant(message)
            if message.get("content"):  # the model's own words: its reasoning trace
                yield Think(step=str(message["content"])[:THINK_CHARS])
            calls = message.get("tool_calls") or []
            if not calls:
                idle += 1
                if idle > s.max_idle_turns:
                    yield GiveUp(reason="the model stopped calling tools")
                    return
                conv.add_user(NUDGE)
                continue
            idle = 0
            for call in calls:
                fn = call.get("function") or {}
                parsed = parse_tool_call(str(fn.get("name")), fn.get("arguments"), tools)
                if isinstance(parsed.action, Submit | GiveUp):
                    yield parsed.action
                    return
                obs = yield parsed.action
                conv.add_tool(str(call.get("id")), str(fn.get("name")), render_observation(obs, s.max_observation_chars))

    def _body(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], seed: int | None) -> dict[str, Any]:
        s = self.settings
        body = {"model": s.model or s.name, "messages": messages, "tools": tools, "tool_choice": "auto",
                "temperature": s.temperature, "max_tokens": s.max_tokens}
        if seed is not None:
            body["seed"] = seed
        return body


def _message(response: dict[str, Any]) -> dict[str, Any]:
    try:
        message = response["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        raise EndpointError(f"the endpoint answered without choices[0].message: {str(response)[:200]}") from None
    return message if isinstance(message, dict) else {}


@AGENTS.register("llm", options=LlmSettings, waits_on_model=True)
def _make_llm(options: LlmSettings, *, scope: EpisodeScope) -> LlmAgent:
    return LlmAgent(options, scope)


@AGENTS.register("mock", options=MockSettings, waits_on_model=True)
def _make_mock(options: MockSettings, *, scope: EpisodeScope) -> LlmAgent:
    return LlmAgent(options, scope)
