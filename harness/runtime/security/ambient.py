"""The ``ambient`` security variant: full authority, nothing checked.

What it is: the agent acts with everything its process could do, as a script run under
a personal account does. Every action is allowed at once (code ``ambient``, no wait, no
randomness). What it guarantees is only the record: every request is kept in the audit
trail (with the harness's ``unsafe`` label), so unsafe actions attempted and applied are
counted exactly as under the other variants. Config: none (any key is an error).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.core.registry import NoOptions
from harness.core.rng import RngStreams
from harness.runtime.security.base import (
    SECURITY_LAYERS,
    AuditEntry,
    Decision,
    Request,
    authorize_each,
    restore_guard,
)


@SECURITY_LAYERS.register("ambient")  # takes no options
class AmbientSecurity:
    """Everything allowed, everything recorded."""

    def __init__(self, options: NoOptions | None = None, *, rng: RngStreams | None = None,
                 policy: Sequence[str] = ()):
        self._audit: list[AuditEntry] = []

    def authorize(self, action_kind: str, resource: str, now: float, *, unsafe: bool = False) -> Decision:
        d = Decision(allowed=True, code="ambient", reason="ambient authority: nothing is checked")
        self._audit.append(AuditEntry.of(now, action_kind, resource, d, unsafe))
        return d

    def authorize_request(self, requests: Sequence[Request], now: float) -> Decision:
        return authorize_each(self, requests, now)

    def audit(self) -> list[AuditEntry]:
        return list(self._audit)

    def snapshot(self) -> dict[str, Any]:
        return {"variant": "ambient", "audit": [a.model_dump(mode="json") for a in self._audit]}

    def restore(self, state: dict[str, Any]) -> None:
        self._audit = restore_guard("ambient", state,
                                    lambda st: [AuditEntry.model_validate(a) for a in st["audit"]])
