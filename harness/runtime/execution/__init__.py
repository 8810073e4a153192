"""The execution layer: ``durable`` (agent-native) and ``ephemeral`` (human-oriented)."""

from harness.runtime.execution.base import EXECUTION_LAYERS, ExecutionLayer
from harness.runtime.execution.snapshot import AgentSnapshot

__all__ = ["EXECUTION_LAYERS", "AgentSnapshot", "ExecutionLayer"]
