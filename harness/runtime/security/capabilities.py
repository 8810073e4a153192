"""Capabilities: κ = (resource pattern, actions), delegation that only narrows, cascading
revocation.

A ``Capability`` grants its ``actions`` on every resource its ``resource`` pattern matches
(``patterns`` documents the glob language), until simulated minute ``expiry`` (exclusive)
and for at most ``uses`` authorizations. A ``CapabilitySet`` holds an agent's capabilities
plus ``Denial`` rules; deny rules win over every capability.

Guarantees (tested, and the delegation ones by hypothesis):

* ``derive`` succeeds only if the child is provably narrower than its parent: pattern
  contained (exact automaton check, refusing when unproven), actions a subset, expiry no
  later, uses no more than the parent has left, depth within ``max_depth``. Otherwise it
  raises ``DelegationError`` with a machine-readable ``code`` and nothing is added.
* Authorizing through a capability requires every ancestor to be live too and consumes
  one use of it and of every use-limited ancestor, so children can never multiply their
  parent's budget; a derived capability never authorizes anything its parent would not.
* ``revoke`` marks the capability and every descendant revoked; nothing in the subtree
  authorizes afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, field_serializer, field_validator

from harness.core.errors import HarnessError
from harness.runtime.security import patterns
from harness.runtime.security.base import Decision


class DelegationError(HarnessError):
    """A derivation that would not narrow its parent. ``code`` says which rule failed."""

    def __init__(self, code: str, message: str, field: str | None = None):
        self.code, self.field = code, field
        super().__init__(f"{code}: {message}")

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "field": self.field}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("resource", check_fields=False)
    @classmethod
    def _valid_pattern(cls, v: str) -> str:
        patterns.split(v)  # raises PatternError (a ValueError -> ValidationError)
        return v

    @field_validator("actions", check_fields=False)
    @classmethod
    def _nonempty(cls, v: frozenset[str]) -> frozenset[str]:
        if not v:
            raise ValueError("at least one action is required")
        return v

    @field_serializer("actions", check_fields=False)
    def _sorted(self, v: frozenset[str]) -> list[str]:
        return sorted(v)  # frozenset order is per process; checkpoints must be stable


class Capability(_Frozen):
    id: str
    resource: str
    actions: frozenset[str]
    expiry: float | None = None  # simulated minute at which it stops working
    uses: int | None = None  # authorizations granted at creation (None: unlimited)
    depth: int = 0
    parent: str | None = None

    def covers(self, resource: str, action: str) -> bool:
        return action in self.actions and patterns.matches(self.resource, resource)


class Denial(_Frozen):
    resource: str
    actions: frozenset[str]
    source: str = ""  # the policy sentence it came from, for the reason text

    def covers(self, resource: str, action: str) -> bool:
        return action in self.actions and patterns.matches(self.resource, resource)


class CapabilitySet:
    """An agent's capabilities and deny rules, with use counters and revocations."""

    def __init__(self, capabilities: Iterable[Capability] = (), denials: Iterable[Denial] = (),
                 *, max_depth: int = 3):
        self.max_depth = max_depth
        self.caps: dict[str, Capability] = {}
        self.denials: list[Denial] = []
        self.used: dict[str, int] = {}
        self.revoked: set[str] = set()
        self.children: dict[str, list[str]] = {}
        self._index: dict[tuple[str, str | None], list[str]] = {}
        self._seq: dict[str, int] = {}
        self._match: dict[str, tuple[str, Any, frozenset[str]]] = {}
        self._counter = 0
        for cap in capabilities:
            self.add(cap)
        for d in denials:
            self.deny(d)

    # -- building -----------------------------------------------------------------------
    def _next_id(self) -> str:
        while True:
            self._counter += 1
            cid = f"cap-{self._counter}"
            if cid not in self.caps:
                return cid

    def add(self, cap: Capability) -> Capability:
        if cap.id in self.caps:
            raise DelegationError("duplicate_id", f"capability id {cap.id!r} already exists", "id")
        if cap.parent is not None and cap.parent not in self.caps:
            raise DelegationError("unknown_parent", f"parent {cap.parent!r} of {cap.id!r} is unknown", "parent")
        self.caps[cap.id] = cap
        self._seq[cap.id] = len(self._seq)
        self.children.setdefault(cap.id, [])
        if cap.parent is not None:
            self.children[cap.parent].append(cap.id)
        kind, glob = patterns.split(cap.resource)
        # compiled once here so authorize() never pays for a regex compile
        self._match[cap.id] = (kind, patterns.compiled(glob), cap.actions)
        self._index.setdefault((kind, patterns.literal_head(cap.resource)), []).append(cap.id)
        return cap

    def grant(self, resource: str, actions: Iterable[str], *, expiry: float | None = None,
              uses: int | None = None) -> Capability:
        """A root capability (depth 0): what a policy or the task's owner hands out."""
        return self.add(Capability(id=self._next_id(), resource=resource, actions=frozenset(actions),
                                   expiry=expiry, uses=uses))

    def deny(self, denial: Denial) -> None:
        self.denials.append(denial)

    # -- state of one capability ----------------------------------------------------------
    def chain(self, cap_id: str) -> list[Capability]:
        """The capability and its ancestors, nearest first."""
        out, cur = [], self.caps.get(cap_id)
        while cur is not None:
            out.append(cur)
            cur = self.caps.get(cur.parent) if cur.parent else None
        return out

    def uses_left(self, cap_id: str) -> int | None:
        """Fewest uses left along the chain (None: unlimited)."""
        left = [c.uses - self.used.get(c.id, 0) for c in self.chain(cap_id) if c.uses is not None]
        return min(left) if left else None

    def status(self, cap_id: str, now: float) -> str:
        """``live``, ``revoked``, ``expired`` or ``exhausted`` (checked along the chain)."""
        chain = self.chain(cap_id)
        if any(c.id in self.revoked for c in chain):
            return "revoked"
        if any(c.expiry is not None and now >= c.expiry for c in chain):
            return "expired"
        left = self.uses_left(cap_id)
        if left is not None and left <= 0:
            return "exhausted"
        return "live"

    def permits(self, cap_id: str, resource: str, action: str, now: float) -> bool:
        """Would this one capability authorize the action now (deny rules aside)?"""
        cap = self.caps.get(cap_id)
        return cap is not None and cap.covers(resource, action) and self.status(cap_id, now) == "live"

    # -- delegation and revocation ---------------------------------------------------------
    def derive(self, parent_id: str, resource: str, actions: Iterable[str], *,
               expiry: float | None = None, uses: int | None = None, now: float = 0.0) -> Capability:
        """A child capability that can only narrow ``parent_id``; refuses with a
        ``DelegationError`` otherwise. ``expiry=None`` inherits the parent's expiry."""
        parent = self.caps.get(parent_id)
        if parent is None:
            raise DelegationError("unknown_parent", f"no capability {parent_id!r}", "parent")
        state = self.status(parent_id, now)
        if state != "live":
            raise DelegationError(f"parent_{state}", f"parent {parent_id!r} is {state}", "parent")
        try:
            patterns.split(resource)
        except patterns.PatternError as e:
            raise DelegationError("bad_pattern", str(e), "resource") from None
        if not patterns.contains(parent.resource, resource):
            raise DelegationError("resource_not_contained",
                                  f"{resource!r} is not provably within {parent.resource!r}", "resource")
        acts = frozenset(actions)
        if not acts or not acts <= parent.actions:
            extra = sorted(acts - parent.actions) or ["(none given)"]
            raise DelegationError("actions_not_subset",
                                  f"actions {extra} are not granted by {parent_id!r} "
                                  f"(it grants {sorted(parent.actions)})", "actions")
        if expiry is None:
            expiry = parent.expiry
        elif parent.expiry is not None and expiry > parent.expiry:
            raise DelegationError("expiry_exceeds_parent",
                                  f"expiry {expiry} is later than the parent's {parent.expiry}", "expiry")
        left = self.uses_left(parent_id)
        if uses is not None and (uses < 0 or (left is not None and uses > left)):
            raise DelegationError("uses_exceed_parent",
                                  f"uses {uses} exceed what {parent_id!r} has left ({left})", "uses")
        if parent.depth + 1 > self.max_depth:
            raise DelegationError("depth_limit", f"delegation depth {parent.depth + 1} exceeds "
                                  f"the limit {self.max_depth}", "parent")
        return self.add(Capability(id=self._next_id(), resource=resource, actions=acts, expiry=expiry,
                                   uses=uses, depth=parent.depth + 1, parent=parent_id))

    def revoke(self, cap_id: str) -> list[str]:
        """Revoke a capability and its whole subtree; returns the ids revoked (in order)."""
        if cap_id not in self.caps:
            raise DelegationError("unknown_capability", f"no capability {cap_id!r}", "id")
        done, todo = [], [cap_id]
        while todo:
            cur = todo.pop()
            if cur not in self.revoked:
                self.revoked.add(cur)
                done.append(cur)
            todo.extend(reversed(self.children.get(cur, [])))
        return done

    # -- authorization ---------------------------------------------------------------------
    def _candidates(self, resource: str, action: str) -> list[str]:
        """Ids of the capabilities covering (resource, action), in creation order."""
        kind, path = patterns.split(resource)
        head = path.partition("/")[0]
        ids: list[str] = []
        for key in ((kind, head), (kind, None), ("*", head), ("*", None)):
            for cid in self._index.get(key, ()):
                _, rx, acts = self._match[cid]
                if action in acts and rx.fullmatch(path) is not None:
                    ids.append(cid)
        # creation order, so the choice among several matching capabilities is stable
        return sorted(ids, key=self._seq.__getitem__)

    def authorize(self, resource: str, action: str, now: float, *, via: str | None = None) -> Decision:
        """Decide one action and consume a use of the capability that allows it.

        Among live matching capabilities one without a use limit is preferred, so
        limited uses are spent only when nothing else would do. ``via`` restricts the
        choice to one capability: what a sub-agent holding only a derived capability
        presents."""
        try:
            patterns.split(resource)
        except patterns.PatternError as e:
            return Decision(allowed=False, code="bad_resource", reason=str(e))
        for d in self.denials:
            if d.covers(resource, action):
                why = f" ({d.source})" if d.source else ""
                return Decision(allowed=False, code="denied_by_rule",
                                reason=f"{action} on {resource} is denied by rule {d.resource}{why}")
        limited, blocked = None, None
        for cid in self._candidates(resource, action):
            if via is not None and cid != via:
                continue
            state = self.status(cid, now)
            if state != "live":
                blocked = blocked or (cid, state)
            elif self.uses_left(cid) is None:
                return self._allow(cid, resource, action)
            elif limited is None:
                limited = cid
        if limited is not None:
            return self._allow(limited, resource, action)
        if blocked is not None:
            cid, state = blocked
            return Decision(allowed=False, code=state, capability_id=cid,
                            reason=f"capability {cid} covers {action} on {resource} but is {state}")
        return Decision(allowed=False, code="no_capability",
                        reason=f"no capability grants {action} on {resource}")

    def _allow(self, cap_id: str, resource: str, action: str) -> Decision:
        for c in self.chain(cap_id):
            if c.uses is not None:
                self.used[c.id] = self.used.get(c.id, 0) + 1
        return Decision(allowed=True, code="allowed", capability_id=cap_id,
                        reason=f"{action} on {resource} granted by {cap_id} ({self.caps[cap_id].resource})")

    # -- checkpoints -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "max_depth": self.max_depth,
            "counter": self._counter,
            "capabilities": [c.model_dump(mode="json") for c in self.caps.values()],
            "denials": [d.model_dump(mode="json") for d in self.denials],
            "used": dict(sorted(self.used.items())),
            "revoked": sorted(self.revoked),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CapabilitySet:
        s = cls([Capability.model_validate(c) for c in data["capabilities"]],
                [Denial.model_validate(d) for d in data["denials"]], max_depth=int(data["max_depth"]))
        s._counter = int(data["counter"])
        s.used = {str(k): int(v) for k, v in data["used"].items()}
        s.revoked = set(data["revoked"])
        unknown = (set(s.used) | s.revoked) - set(s.caps)
        if unknown:
            raise ValueError(f"use counts or revocations for unknown capabilities {sorted(unknown)}")
        return s
