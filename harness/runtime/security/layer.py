"""The ``capabilities`` security variant: every action checked against the agent's set.

What it is: the agent holds a ``CapabilitySet`` compiled from the task's stated policy
(the controlled-English text the task was deployed with, which an approver would read),
plus the deployment's own standing rules (config ``policy``) and/or listed capabilities
(``capabilities``). Every action is authorized
before it runs; a refusal is a ``Decision`` with a machine-readable ``code``
(``no_capability``, ``denied_by_rule``, ``expired``, ``exhausted``, ``revoked``,
``bad_resource``) and a reason naming the capability or rule involved, and it costs no
simulated time. Delegation (``derive``) and cascading revocation (``revoke``) are
exposed for sub-agents and for the operator.

Guarantees: an action is allowed only if a live capability covers it and no deny rule
does; consumed uses, revocations and the audit trail survive ``snapshot``/``restore``.
It draws no randomness.

Config (``CapabilitiesOptions``, all optional):
  policy: str | list[str]          standing rules added to the task's policy (see ``policy.DOCS``); default none
  capabilities: list[dict]         root capabilities {resource, actions, expiry?, uses?, id?}
  denials: list[dict]              deny rules {resource, actions}
  max_depth: int = 3               delegation depth limit
  now: float = 0.0                 simulated minute the policy is compiled at ("for N minutes")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.core.errors import ConfigError
from harness.core.rng import RngStreams
from harness.runtime.security.base import (
    SECURITY_LAYERS,
    AuditEntry,
    Decision,
    Request,
    authorize_each,
    restore_guard,
)
from harness.runtime.security.capabilities import (
    Capability,
    CapabilitySet,
    DelegationError,
    Denial,
)
from harness.runtime.security.policy import compile_policy


class CapabilitiesOptions(BaseModel):
    """``layers.security.config`` of the capabilities variant; checked by compiling it, so a
    bad sentence or capability is found before any episode runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy: str | list[str] | None = None
    capabilities: list[dict[str, Any]] = Field(default_factory=list)
    denials: list[dict[str, Any]] = Field(default_factory=list)
    max_depth: Annotated[int, Field(strict=True, ge=0)] = 3
    now: float = 0.0

    def standing_rules(self) -> list[str]:
        own = self.policy or []
        return [own] if isinstance(own, str) else list(own)

    @field_validator("policy")
    @classmethod
    def _sentences_compile(cls, v: str | list[str] | None) -> str | list[str] | None:
        try:
            compile_policy(v or [])
        except ConfigError as e:  # a PolicyError names the sentence and what was expected
            raise ValueError(e.message) from None
        return v

    @model_validator(mode="after")
    def _capabilities_build(self) -> CapabilitiesOptions:
        try:
            capability_set(self, ())
        except ConfigError as e:
            raise ValueError(e.message) from None
        return self


def capability_set(options: CapabilitiesOptions, task_policy: Sequence[str]) -> CapabilitySet:
    """The task's stated policy plus the deployment's standing rules and listed capabilities
    (a deny rule there wins over the task's grants, as every deny rule does)."""
    lines = [*task_policy, *options.standing_rules()]
    caps = compile_policy(lines, now=options.now, max_depth=options.max_depth)
    try:
        for spec in options.capabilities:
            spec = dict(spec)
            if spec.get("id") is None:
                caps.grant(spec.pop("resource"), spec.pop("actions"), **spec)
            else:
                caps.add(Capability.model_validate(spec))
        for spec in options.denials:
            caps.deny(Denial.model_validate(spec))
    except (ValidationError, TypeError, KeyError, DelegationError) as e:
        raise ConfigError(f"security.capabilities: bad capability or denial in config: {e}") from None
    return caps


@SECURITY_LAYERS.register("capabilities", options=CapabilitiesOptions)
class CapabilitiesSecurity:
    """Capability-based authorization (agent-native)."""

    def __init__(self, options: CapabilitiesOptions | None = None, *, rng: RngStreams | None = None,
                 policy: Sequence[str] = ()):
        self.caps = capability_set(options or CapabilitiesOptions(), policy)
        self._audit: list[AuditEntry] = []

    def authorize(self, action_kind: str, resource: str, now: float, *, unsafe: bool = False) -> Decision:
        # ``unsafe`` is only recorded: a mechanical check has no business reading the label.
        d = self.caps.authorize(resource, action_kind, now)
        self._audit.append(AuditEntry.of(now, action_kind, resource, d, unsafe))
        return d

    def authorize_request(self, requests: Sequence[Request], now: float) -> Decision:
        return authorize_each(self, requests, now)

    def derive(self, parent_id: str, resource: str, actions: list[str] | frozenset[str], *,
               expiry: float | None = None, uses: int | None = None, now: float = 0.0) -> Capability:
        """Attenuated delegation; raises ``DelegationError`` (with ``code``) if not narrower."""
        return self.caps.derive(parent_id, resource, actions, expiry=expiry, uses=uses, now=now)

    def revoke(self, cap_id: str) -> list[str]:
        return self.caps.revoke(cap_id)

    def audit(self) -> list[AuditEntry]:
        return list(self._audit)

    def snapshot(self) -> dict[str, Any]:
        return {"variant": "capabilities", "caps": self.caps.to_dict(),
                "audit": [a.model_dump(mode="json") for a in self._audit]}

    def restore(self, state: dict[str, Any]) -> None:
        def build(st: dict[str, Any]) -> tuple[CapabilitySet, list[AuditEntry]]:
            return CapabilitySet.from_dict(st["caps"]), [AuditEntry.model_validate(a) for a in st["audit"]]

        self.caps, self._audit = restore_guard("capabilities", state, build)
