"""The tool layer: ``typed`` (agent-native) and ``shell`` (human-oriented)."""

from harness.runtime.tools.base import TOOL_LAYERS, ToolLayer, make_tool_layer, tool_layer

__all__ = ["TOOL_LAYERS", "ToolLayer", "make_tool_layer", "tool_layer"]
