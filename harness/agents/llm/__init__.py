"""An agent for any OpenAI-compatible chat endpoint (``agent=llm``) and a scripted mock
model for it (``agent=mock``), with content-addressed record and replay."""

from harness.agents.llm import agent as _agent  # noqa: F401 - registers llm and mock
from harness.agents.llm.agent import LlmAgent, LlmSettings
from harness.agents.llm.scope import EpisodeScope, RunBudget, episode_scope, episode_usage

__all__ = ["EpisodeScope", "LlmAgent", "LlmSettings", "RunBudget", "episode_scope", "episode_usage"]
