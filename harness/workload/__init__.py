"""Task families, task specs, checkers, gold solutions and workloads."""

from harness.workload.checks import CheckResult, checker, run_checkers
from harness.workload.registry import FAMILIES, TaskFamily, family, get_family
from harness.workload.spec import Budget, CheckerRef, GoldStep, Probe, SessionSpec, TaskSpec

__all__ = [
    "FAMILIES",
    "Budget",
    "CheckResult",
    "CheckerRef",
    "GoldStep",
    "Probe",
    "SessionSpec",
    "TaskFamily",
    "TaskSpec",
    "checker",
    "family",
    "get_family",
    "run_checkers",
]
