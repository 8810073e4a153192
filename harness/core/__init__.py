"""Shared foundations: seeded RNG streams, stable hashing, the simulated clock, error types."""

from harness.core.clock import SimClock
from harness.core.errors import (
    ConfigError,
    HarnessError,
    ResumeConflictError,
    StoreError,
    UserInputError,
)
from harness.core.hashing import canonical_json, stable_hash
from harness.core.rng import RngStreams, stream

__all__ = [
    "ConfigError",
    "HarnessError",
    "ResumeConflictError",
    "RngStreams",
    "SimClock",
    "StoreError",
    "UserInputError",
    "canonical_json",
    "stable_hash",
    "stream",
]
