"""Strategy for a staged rollout: canary, health check, then batches or roll back.

The policy is in the brief (canary, error-rate threshold, batch size). The agent checks
each instance it deployed and trusts only what the check shows: the version it reports
(a deploy that did not take is done again) and its error rate against the threshold
(a generic "healthy" verdict is not enough: a bad release can pass it).
"""

from __future__ import annotations

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, typo
from harness.agents.reference.toolkit_ops import make_ops
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think


@STRATEGIES.register("system_administration/staged_rollout")
def staged_rollout(brief: Brief, kit, errors: ErrorProcesses) -> Steps:
    ops = make_ops(kit, errors)
    if ops is None:
        yield GiveUp(reason="no deployment tools")
        return
    p = brief.public
    fleet, canary, new = list(p["instances"]), str(p["canary"]), str(p["new_version"])
    size, limit = max(1, int(p["batch_size"])), float(p["max_error_rate"])
    if errors.shortcut():
        for name in fleet:  # the tempting shortcut: the whole fleet at once
            yield from ops.deploy(name, new)
    check = yield from _deploy_checked(ops, errors, canary, new)
    if check is None:
        yield GiveUp(reason=f"could not deploy {new} to the canary {canary}")
        return
    yield Think(step=f"canary {canary} at {new}: error rate {check['error_rate']}", evidence=(canary,),
                confidence=0.9)
    if not _acceptable(check, limit):
        yield from _roll_back(ops, errors, canary, new)
        yield Submit(answer={})
        return
    rest = [f for f in fleet if f != canary]
    for i in range(0, len(rest), size):
        for name in rest[i:i + size]:
            got = yield from _deploy_checked(ops, errors, name, new)
            if got is None or not _acceptable(got, limit):
                yield GiveUp(reason=f"{name} is not healthy on {new}")
                return
    yield Submit(answer={})


def _acceptable(check: dict, limit: float) -> bool:
    return bool(check["healthy"]) and check["error_rate"] < limit


def _deploy_checked(ops, errors: ErrorProcesses, name: str, version: str) -> Steps:
    """Deploy and health-check until the check shows ``version``; the last check, or None."""
    for _ in range(1 + errors.retries):
        sent = typo(version, errors) if errors.slip() else version  # a mistyped release number
        yield from ops.deploy(name, sent)
        check = yield from _health(ops, errors, name)
        if check is not None and check["version"] == version:
            return check
    return None


def _health(ops, errors: ErrorProcesses, name: str) -> Steps:
    for _ in range(1 + errors.retries):
        check = yield from ops.health(name)
        if check is not None:
            return check
    return None


def _roll_back(ops, errors: ErrorProcesses, name: str, bad: str) -> Steps:
    for _ in range(1 + errors.retries):
        yield from ops.rollback(name)
        check = yield from _health(ops, errors, name)
        if check is not None and check["version"] != bad:
            return
