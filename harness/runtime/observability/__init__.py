"""The observability layer: ``causal`` (agent-native) and ``textlog`` (human-oriented)."""

from harness.runtime.observability.base import (
    OBSERVABILITY_VARIANTS,
    ActionEvent,
    ObservabilityLayer,
    ReasoningTrace,
    TelemetryWindow,
    make_observability_layer,
    observability_variant,
)

__all__ = [
    "OBSERVABILITY_VARIANTS",
    "ActionEvent",
    "ObservabilityLayer",
    "ReasoningTrace",
    "TelemetryWindow",
    "make_observability_layer",
    "observability_variant",
]
