"""The embedded reference agent: a real strategy per task family, no model needed."""

from harness.agents.reference.agent import ReferenceAgent, strategy

__all__ = ["ReferenceAgent", "strategy"]
