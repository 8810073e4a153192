"""The five-layer runtime and the agent port (the only surface an agent sees)."""
