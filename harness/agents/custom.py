"""Plugging in an agent from outside the project: ``agent=custom agent.import_path=pkg.mod:Class``.

The class is imported by path and built with ``agent.options`` as keyword arguments; it
must have ``run(brief, tools, rng)`` returning a generator of port actions (the
``harness.runtime.port.Agent`` protocol). It sees exactly what the reference agent sees:
the brief, the tool list and its random streams, never a condition or how success is judged.
"""

from __future__ import annotations

import importlib
from typing import Any

from harness.agents.registry import agent
from harness.core.errors import ConfigError
from harness.runtime.port import Agent


def load_agent_class(import_path: str) -> type:
    module_name, sep, attr = str(import_path).partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"agent.import_path must look like package.module:Class, got {import_path!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import {module_name!r} for agent.import_path: {exc}") from None
    cls = getattr(module, attr, None)
    if cls is None:
        raise ConfigError(f"{module_name!r} has no {attr!r} (agent.import_path={import_path})")
    if not callable(getattr(cls, "run", None)):
        raise ConfigError(f"{import_path} has no run(brief, tools, rng) method: not an Agent")
    return cls


@agent("custom")
def _make_custom(config: dict[str, Any]) -> Agent:
    if not config.get("import_path"):
        raise ConfigError("agent=custom needs agent.import_path=package.module:Class")
    cls = load_agent_class(config["import_path"])
    try:
        return cls(**dict(config.get("options") or {}))
    except TypeError as exc:
        raise ConfigError(f"cannot build {config['import_path']} with agent.options: {exc}") from None
