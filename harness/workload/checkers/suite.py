"""The checker for tasks on real packages: the package's own test suite, run in the sandbox."""

from __future__ import annotations

from typing import Any

from harness.core.errors import WallClockTimeout
from harness.workload.checks import CHECKERS
from harness.world import World


@CHECKERS.register("suite_passes")
def suite_passes(world: World, spec: Any, expected: int, select: list[str] | None = None,
                 hidden: dict[str, str] | None = None, timeout_s: float = 300.0) -> tuple[bool, str]:
    """The package's own suite (or the selected files) passes, and at least ``expected``
    tests ran and passed: the count the released tree gives (plus the hidden ones), so
    deleting or skipping tests cannot turn it green. ``hidden`` test files, which the agent
    never sees, run beside the suite in the sandbox."""
    suite = world.parts.get("suite")
    if suite is None:
        return False, "the world holds no package suite to run"
    report = suite.run(world.workspace, tuple(select) if select else None, timeout_s=timeout_s, extra=hidden)
    if report.timed_out:
        raise WallClockTimeout(f"the suite of {suite.package} hit the {timeout_s:g} s wall-clock backstop",
                               hint="the machine is too slow or the code blocks outside Python")
    if report.problem:
        return False, report.problem
    failed = report.failed
    green = sum(n for k, n in report.counts.items() if k in ("passed", "xfailed"))
    if failed:
        names = ", ".join(f"{o.node_id} ({o.message[:80]})" for o in failed[:3])
        return False, f"{len(failed)} of {len(report.outcomes)} tests failed: {names}"
    if green < expected:
        return False, f"only {green} tests ran and passed; the released suite has {expected}"
    return True, f"the own suite of {suite.package} passed ({green} tests)"
