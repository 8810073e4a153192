"""Checks before any episode: the key variable, the endpoint, the model.

Each failure is one line (a ``UserInputError``, exit 2 through the CLI) raised before the
store is opened, so a bad command stores nothing. A replay needs no network and is not
checked here (the runner checks that the replayed run has recordings).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.agents.llm.agent import LlmSettings, api_key
from harness.agents.llm.client import ChatClient, ClientSettings, EndpointError
from harness.agents.registry import AgentSpec
from harness.core.errors import ConfigError

PREFLIGHT_TIMEOUT_S = 10.0
MODEL_AGENTS = ("llm", "mock")


def is_model_agent(agent_cfg: Mapping[str, Any]) -> bool:
    return agent_cfg.get("name") in MODEL_AGENTS


def preflight(agent: AgentSpec) -> None:
    """``agent`` as ``validate_agent`` parsed it."""
    if agent.name != "llm" or not isinstance(agent.options, LlmSettings):
        return
    settings = agent.options
    if settings.replay is not None:
        return
    if not settings.base_url or not settings.model:
        raise ConfigError("agent=llm needs agent.base_url and agent.model",
                          hint="e.g. agent.base_url=http://localhost:8000/v1 agent.model=NAME")
    key = api_key(settings)
    # the run's concurrency: the check shares (and warms) the connections the run will use
    client = ChatClient(ClientSettings(base_url=settings.base_url, api_key=key, retries=0,
                                       timeout_s=min(PREFLIGHT_TIMEOUT_S, settings.request_timeout_s),
                                       concurrency=settings.concurrency))
    try:
        served = client.models(timeout_s=min(PREFLIGHT_TIMEOUT_S, settings.request_timeout_s))
    except EndpointError as exc:
        if exc.status == 404:
            return  # a server without a model list: a wrong model shows as a 404 on the first call
        raise
    except Exception as exc:  # noqa: BLE001 - a timeout or a non-JSON answer: still one line
        raise EndpointError(f"{settings.base_url}/models did not answer usefully: {exc}",
                            hint="check agent.base_url and that the server is running") from None
    if served and settings.model not in served:
        shown = ", ".join(served[:10]) + (f" (and {len(served) - 10} more)" if len(served) > 10 else "")
        raise EndpointError(f"{settings.base_url} does not serve model {settings.model!r}",
                            hint=f"served models: {shown}")
