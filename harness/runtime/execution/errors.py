"""Errors of the execution layer: one class per way a checkpoint or a lifecycle can be wrong.

Every checkpoint error derives from ``CheckpointError`` so a store can treat "this record
cannot be trusted" uniformly (walk back to an older one), while tests and reports can still
tell a hostile or corrupted record apart from a version mismatch.
"""

from __future__ import annotations

from harness.core.errors import HarnessError


class IllegalTransitionError(HarnessError):
    """The lifecycle FSM was asked for a transition its table does not allow."""

    def __init__(self, state: str, target: str, allowed: tuple[str, ...]):
        self.state, self.target, self.allowed = state, target, allowed
        super().__init__(
            f"illegal lifecycle transition {state} -> {target}",
            hint=f"from {state} the allowed targets are: {', '.join(allowed) or 'none (final state)'}",
        )


class CheckpointError(HarnessError):
    """A checkpoint record that must not be used. Nothing in it was executed."""


class BadMagicError(CheckpointError):
    """The bytes do not start with the checkpoint magic: not a checkpoint at all."""


class UnsupportedVersionError(CheckpointError):
    """Written by a newer format version than this code can read."""

    def __init__(self, found: int, supported: int):
        self.found, self.supported = found, supported
        super().__init__(
            f"checkpoint format version {found} is newer than the supported version {supported}",
            hint="resume with the harness version that wrote it, or discard the checkpoint",
        )


class TruncatedCheckpointError(CheckpointError):
    """Fewer (or more) bytes than the header announces: a torn or partial write."""


class ChecksumMismatchError(CheckpointError):
    """The sha256 in the header does not match the bytes: corruption or tampering."""


class MalformedPayloadError(CheckpointError):
    """The checksum verifies but the payload is not a valid typed snapshot/delta."""


class BrokenChainError(CheckpointError):
    """An incremental record whose base is missing or unreadable, so it cannot be composed."""


class IntentConflictError(HarnessError):
    """On resume the agent proposed a different action at a sequence number the intent
    log already holds: the agent is not deterministic, so replay cannot be trusted."""
