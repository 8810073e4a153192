"""The security layer: ``capabilities`` (agent-native), ``approval`` and ``ambient``
(human-oriented). ``base`` documents the seam the runtime calls."""

from harness.runtime.security.base import (
    SECURITY_LAYERS,
    AuditEntry,
    Decision,
    SecurityLayer,
)
from harness.runtime.security.capabilities import (
    Capability,
    CapabilitySet,
    DelegationError,
    Denial,
)
from harness.runtime.security.policy import PolicyError, compile_policy

__all__ = [
    "SECURITY_LAYERS",
    "AuditEntry",
    "Capability",
    "CapabilitySet",
    "Decision",
    "DelegationError",
    "Denial",
    "PolicyError",
    "SecurityLayer",
    "compile_policy",
]
