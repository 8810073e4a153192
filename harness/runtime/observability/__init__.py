"""The observability layer: ``causal`` (agent-native) and ``textlog`` (human-oriented)."""

from harness.runtime.observability.base import (
    OBSERVABILITY_LAYERS,
    ActionEvent,
    ObservabilityLayer,
    ReasoningTrace,
    TelemetryWindow,
)

__all__ = [
    "OBSERVABILITY_LAYERS",
    "ActionEvent",
    "ObservabilityLayer",
    "ReasoningTrace",
    "TelemetryWindow",
]
