"""Agents act only through the runtime's agent port (harness.runtime.port)."""

from harness.agents.profile import AgentProfile
from harness.agents.registry import AGENTS, agent, make_agent

__all__ = ["AGENTS", "AgentProfile", "agent", "make_agent"]
