"""The security-layer protocol, its decision record, and the registry of variants.

The seam: before the runtime lets a tool call touch the world, it names what the call
would do as an *action kind* (``read``, ``write``, ``delete``, ``restart``, ``deploy``,
``query``, ``execute``, ...) on a typed *resource* (``file:src/app.py``,
``service:prod/api``, ``table:orders``; see ``patterns``) and asks
``layer.authorize(action_kind, resource, now)``. The layer answers with a ``Decision``:

* ``allowed`` False means the call must not run; the runtime turns the decision into a
  structured (typed tools) or text (shell) refusal, ``applied=False``.
* ``waited_minutes`` is simulated time the decision itself took (an approver's queue);
  the runtime advances its ``SimClock`` by it whether or not the call was allowed. A
  layer never advances the clock itself and never reads wall time.
* ``approver_rubber_stamped`` marks a privileged request approved without being read,
  so episode metrics can count unsafe actions that got through.

Every layer keeps an audit trail of what it was asked and what it answered (even
``ambient``, which checks nothing) so "unsafe attempted / blocked / applied" can be
counted the same way under every variant. ``snapshot()`` returns JSON-able data from
which ``restore()`` rebuilds the layer's mutable state (uses consumed, revocations,
audit trail); RNG states live in the episode's ``RngStreams`` and are checkpointed there.

Layers are per episode: they hold consumed uses and an episode's RNG streams, so build
one at deploy time, not once per ``Runtime``:
``SECURITY_LAYERS.build(variant, config, rng=streams, policy=task_policy)``. ``rng`` is
the environment's streams (required by variants that draw, e.g. ``approval``; ignored by
the others); ``policy`` is the task's stated policy, which ``capabilities`` compiles and
``approval`` judges by. Each variant registers itself with its options model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from harness.core.errors import HarnessError
from harness.core.registry import Registry


class SnapshotError(HarnessError):
    """A snapshot that cannot be restored (another variant's, truncated, tampered with).
    Nothing of the layer's state is changed when this is raised."""


class Decision(BaseModel):
    """One authorization answer. ``code`` is machine-readable, ``reason`` is for people."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed: bool
    code: str  # allowed, ambient, no_capability, denied_by_rule, expired, exhausted,
    #            revoked, not_privileged, approved, approval_denied, approval_timeout
    reason: str
    waited_minutes: float = 0.0
    approver_rubber_stamped: bool = False
    capability_id: str | None = None


@dataclass(frozen=True)
class Request:
    """One (action, resource) a tool call asks for; ``unsafe`` is the harness's label
    (not sanctioned by the task's stated policy), recorded in the audit trail only."""

    action: str
    resource: str
    unsafe: bool = False


def authorize_each(layer: Any, requests: Sequence[Request], now: float) -> Decision:
    """A call's requests one by one: the first refusal, else the last approval (a layer
    that decides each action on its own, mechanically)."""
    decision = Decision(allowed=True, code="nothing_asked", reason="the call asks for nothing")
    for r in requests:
        decision = layer.authorize(r.action, r.resource, now, unsafe=r.unsafe)
        if not decision.allowed:
            return decision
    return decision


class AuditEntry(BaseModel):
    """What a layer was asked at simulated time ``at`` and what it answered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: float
    action: str
    resource: str
    allowed: bool
    code: str
    waited_minutes: float = 0.0
    rubber_stamped: bool = False
    capability_id: str | None = None
    unsafe: bool = False  # the harness's label, recorded so unsafe applied/blocked can be counted

    @classmethod
    def of(cls, at: float, action: str, resource: str, d: Decision, unsafe: bool = False) -> AuditEntry:
        return cls(at=at, action=action, resource=resource, allowed=d.allowed, code=d.code,
                   waited_minutes=d.waited_minutes, rubber_stamped=d.approver_rubber_stamped,
                   capability_id=d.capability_id, unsafe=unsafe)


@runtime_checkable
class SecurityLayer(Protocol):
    """What the runtime calls before every tool call, and for checkpoints."""

    def authorize(self, action_kind: str, resource: str, now: float, *, unsafe: bool = False) -> Decision:
        """Decide one action at simulated minute ``now``. Never raises for anything the
        agent asked; a malformed resource is a denial with code ``bad_resource``.

        ``unsafe`` is the harness's label: the task's stated policy does not sanction
        this action. It is recorded in the audit trail and never decides anything (an
        approver judges by reading the policy itself)."""

    def authorize_request(self, requests: Sequence[Request], now: float) -> Decision:
        """Decide everything one tool call asks for at once (one change request for a
        layer that models a change process; each action in turn for a mechanical one)."""

    def audit(self) -> list[AuditEntry]:
        """Every decision so far, in order."""

    def snapshot(self) -> dict[str, Any]:
        """JSON-able mutable state (no live objects)."""

    def restore(self, state: dict[str, Any]) -> None:
        """Rebuild the mutable state from ``snapshot()`` output."""


SECURITY_LAYERS: Registry[SecurityLayer] = Registry("security variant", plugins="harness.runtime.security",
                                                    skip={"bench"})


def restore_guard(variant: str, state: Any, build: Callable[[dict[str, Any]], Any]) -> Any:
    """Validate a snapshot fully (``build`` parses it) before anything is replaced."""
    if not isinstance(state, dict) or state.get("variant") != variant:
        got = state.get("variant") if isinstance(state, dict) else type(state).__name__
        raise SnapshotError(f"cannot restore a {got!r} snapshot into the {variant!r} security layer")
    try:
        return build(state)
    except (KeyError, TypeError, ValueError) as e:  # pydantic's ValidationError is a ValueError
        raise SnapshotError(f"corrupt {variant!r} security snapshot: {e}") from None
