"""The tool layer: ``typed`` (agent-native) and ``shell`` (human-oriented)."""

from harness.runtime.tools.base import TOOL_LAYERS, ToolCosts, ToolLayer

__all__ = ["TOOL_LAYERS", "ToolCosts", "ToolLayer"]
