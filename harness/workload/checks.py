"""Checkers: pure functions of the final world (and the task) that decide success.

Success of an episode is decided here and nowhere else. Checkers are registered by name
in ``CHECKERS`` (``@CHECKERS.register("tests_pass")`` in a module of
``harness.workload.checkers``, found by a folder scan) and referenced from a TaskSpec with
their arguments, so a spec stays plain data. A checker's arguments are task data the spec
carries, passed as keywords; no checker takes options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.core.errors import WallClockTimeout
from harness.core.registry import Registry
from harness.world import World

if TYPE_CHECKING:
    from harness.workload.spec import TaskSpec


@dataclass(frozen=True)
class CheckResult:
    checker: str
    passed: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"checker": self.checker, "passed": self.passed, "reason": self.reason}


CheckerFn = Callable[..., tuple[bool, str]]
# ``fn(world, spec, **args) -> (passed, reason)`` by name.
CHECKERS: Registry[tuple[bool, str]] = Registry("checker", plugins="harness.workload.checkers")


def get_checker(name: str, *, where: str = "") -> CheckerFn:
    """The checker registered as ``name``; an unknown name is a ConfigError listing the known ones."""
    return CHECKERS.entry(name, where=where).factory


def run_checkers(world: World, spec: TaskSpec) -> list[CheckResult]:
    """Every checker of the spec, in order; an exception inside a checker is a failure
    (a world broken by the agent must fail), except a wall-clock time-out, which says
    nothing about the world and is the harness's error."""
    results = []
    for ref in spec.checkers:
        fn = get_checker(ref.name)
        try:
            passed, reason = fn(world, spec, **ref.args)
        except WallClockTimeout:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken world must fail, not crash the run
            passed, reason = False, f"checker raised {type(exc).__name__}: {exc}"
        results.append(CheckResult(ref.name, bool(passed), reason))
    return results
