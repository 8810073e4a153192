"""The session's ledger of applied effects: did a tool call have its intended effect?

DESIGN §4 counts a call as accurate when it was well-formed and had its intended effect.
The harness cannot read an agent's intent, so "intended effect" is judged from the world,
the same way for every agent and every interface:

- a call that failed (malformed, refused, denied, unavailable, non-zero exit) is not
  accurate;
- a call that only reads is accurate when it succeeded;
- a call that writes is accurate when it changed at least one resource it names and
  none of those changes was later undone, i.e. no later call put a resource back to
  exactly the content it had before this call. A write that changed nothing (a ``sed``
  whose pattern matched nothing) or whose change was reverted (a slip found by a failing
  test and rolled back) did not have the effect its caller wanted.

Resources are the typed strings of ``harness.runtime.access``; their content is read by
``World.resource_digest``. Only the resources of write accesses are digested, so the
cost is a few hashes per effectful call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.world import World


@dataclass(frozen=True)
class Write:
    seq: int
    before: dict[str, str]  # resource -> digest before the call
    after: dict[str, str]  # resource -> digest after the call


@dataclass
class EffectLedger:
    writes: list[Write] = field(default_factory=list)

    @staticmethod
    def digests(world: World, resources: tuple[str, ...]) -> dict[str, str]:
        return {r: world.resource_digest(r) for r in resources}

    def record(self, seq: int, before: dict[str, str], after: dict[str, str]) -> None:
        self.writes.append(Write(seq, before, after))

    def ineffective(self) -> set[int]:
        """Seqs of writes that changed nothing or whose change a later write undid.

        One backward pass: for each resource, the contents later writes left it in."""
        out: set[int] = set()
        later: dict[str, set[str]] = {}
        for w in reversed(self.writes):
            changed = [r for r in w.before if w.after.get(r) != w.before[r]]
            if not changed or any(w.before[r] in later.get(r, ()) for r in changed):
                out.add(w.seq)
            for r, digest in w.after.items():
                later.setdefault(r, set()).add(digest)
        return out
