"""The ``suite`` part of a world built on a real package: its own pytest suite is the test run.

A world whose workspace holds a vendored package (``harness.world.vendored``) carries this
part, naming the package. Every test run of that world, the agent's (typed ``run_tests``,
shell ``pytest``) and the checkers' alike, then goes to the package's own suite in the
sandbox (``harness.world.pytest_suite``) instead of the in-process runner for generated
modules, and comes back as the same ``TestReport`` the tools already show. The part holds
no files of its own: the dependencies a suite imports are rebuilt from the package's name,
checked against their recorded hashes.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Any

from harness.world.pytest_suite import (
    STEPS_PER_TEST,
    SuiteConfig,
    SuiteReport,
    TestOutcome,
    run_suite,
)
from harness.world.state import COMPONENTS
from harness.world.testrun import TestFailure, TestReport
from harness.world.vendored import dependency_files, load_manifest, suite_config
from harness.world.workspace import Workspace


@COMPONENTS.register("suite")
class Suite:
    def __init__(self, package: str):
        self.package = package

    def snapshot(self) -> dict[str, Any]:
        return {"package": self.package}

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Suite:
        return cls(str(data["package"]))

    def digest(self) -> str:
        entry = load_manifest().package(self.package)
        return hashlib.sha256(f"suite\0{entry.name}\0{entry.version}\0{entry.sha256}".encode()).hexdigest()

    @cached_property
    def config(self) -> SuiteConfig:
        return suite_config(self.package)

    def files(self, workspace: Workspace) -> dict[str, str]:
        """What the sandbox holds: the workspace, and the dependencies beside it."""
        return {**dependency_files(self.package), **workspace.snapshot()}

    def run(self, workspace: Workspace, select: tuple[str, ...] | None = None, timeout_s: float = 180.0,
            extra: dict[str, str] | None = None) -> SuiteReport:
        """The suite (or the selection) on the workspace; ``extra`` files (a checker's hidden
        tests) are put beside it in the sandbox only, and run with the whole suite."""
        files = self.files(workspace)
        if extra:
            files.update(extra)
            select = (*(select or self.config.tests), *sorted(extra))
        return run_suite(files, self.config, select=select, timeout_s=timeout_s)

    def test_report(self, workspace: Workspace, target: str, timeout_s: float) -> TestReport:
        """One test file (or node id) of the suite, as the tools' ``TestReport``."""
        module = target.split("::")[0]
        report = self.run(workspace, (target,), timeout_s=max(timeout_s, 60.0))
        if report.timed_out:
            return TestReport(module=module, timed_out=True)
        if report.problem:
            return TestReport(module, collection_error=TestFailure("<collect>", "PytestError", report.problem))
        return as_test_report(module, report.of_file(module))


def as_test_report(module: str, outcomes: tuple[TestOutcome, ...]) -> TestReport:
    collect = [o for o in outcomes if o.node_id.startswith("<collect>")]
    if collect:
        return TestReport(module, collection_error=TestFailure("<collect>", *_split(collect[0].message)))
    tests = [o for o in outcomes if o.outcome != "skipped"]
    return TestReport(
        module=module,
        collected=len(tests),
        passed=[_name(o) for o in tests if not o.failing],
        failures=[TestFailure(_name(o), *_split(o.message), o.path, o.line) for o in tests if o.failing],
        over_budget=any(o.message.startswith("StepBudgetExceeded") for o in tests),
    )


def _name(outcome: TestOutcome) -> str:
    return outcome.node_id.split("::", 1)[1] if "::" in outcome.node_id else outcome.node_id


def _split(message: str) -> tuple[str, str]:
    """pytest's crash line ``AssertionError: assert 1 == 2`` as (error type, message)."""
    head, sep, rest = message.partition(": ")
    if sep and head.replace(".", "").replace("_", "").isalnum() and " " not in head:
        return head.rsplit(".", 1)[-1], rest.strip()
    return "Error", message.strip()


__all__ = ["STEPS_PER_TEST", "Suite", "as_test_report"]
