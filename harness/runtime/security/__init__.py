"""The security layer: ``capabilities`` (agent-native), ``approval`` and ``ambient``
(human-oriented). ``base`` documents the seam the runtime calls."""

from harness.runtime.security.base import (
    SECURITY_VARIANTS,
    AuditEntry,
    Decision,
    SecurityLayer,
    make_security_layer,
    security_variant,
)
from harness.runtime.security.capabilities import (
    Capability,
    CapabilitySet,
    DelegationError,
    Denial,
)
from harness.runtime.security.policy import PolicyError, compile_policy

__all__ = [
    "SECURITY_VARIANTS",
    "AuditEntry",
    "Capability",
    "CapabilitySet",
    "Decision",
    "DelegationError",
    "Denial",
    "PolicyError",
    "SecurityLayer",
    "compile_policy",
    "make_security_layer",
    "security_variant",
]
