"""An agent for any OpenAI-compatible chat endpoint (``agent=llm``) and a scripted mock
model for it (``agent=mock``), with content-addressed record and replay.

Both register in ``harness.agents.registry.AGENTS`` from ``agent.py``; the registry finds
them by scanning this folder, so this package imports nothing on its own.
"""
