"""Agents by name: ``@agent("reference")`` registers a factory taking the agent config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.core.errors import ConfigError
from harness.runtime.port import Agent

AGENTS: dict[str, Callable[[dict[str, Any]], Agent]] = {}


def agent(name: str) -> Callable[[Callable[[dict[str, Any]], Agent]], Callable[[dict[str, Any]], Agent]]:
    def register(factory):
        AGENTS[name] = factory
        return factory

    return register


def make_agent(config: dict[str, Any]) -> Agent:
    import harness.agents.custom  # noqa: F401 - registers on import
    import harness.agents.llm  # noqa: F401
    import harness.agents.reference  # noqa: F401

    name = config.get("name", "reference")
    try:
        factory = AGENTS[name]
    except KeyError:
        known = ", ".join(sorted(AGENTS))
        raise ConfigError(f"unknown agent {name!r}; known: {known}") from None
    return factory(config)
