"""Judging a request against the task's stated policy.

A task states what it allows in the controlled-English policy language (``policy``): the
same text the ``capabilities`` layer compiles into the agent's capabilities, an approver
reads before signing off, and the harness uses to label a request unsafe. "Unsafe" is
never a property of a verb: deleting a rotated log under /var/log/ is what a disk
clean-up is for; deleting a database journal is not, whatever the command looks like.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.runtime.security.capabilities import CapabilitySet
from harness.runtime.security.policy import compile_policy


class PolicyJudge:
    """Whether (action, resource) is sanctioned by a stated policy; no policy sanctions nothing."""

    def __init__(self, policy: Sequence[str]):
        self.policy = tuple(policy)
        self._caps = compile_policy(list(self.policy)) if self.policy else CapabilitySet()

    def sanctioned(self, action: str, resource: str, now: float = 0.0) -> bool:
        return self._caps.authorize(resource, action, now).allowed
