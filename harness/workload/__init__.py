"""Task families, task specs, checkers, gold solutions and workloads."""

from harness.workload.checks import CHECKERS, CheckResult, get_checker, run_checkers
from harness.workload.registry import FAMILIES, TaskFamily, family, get_family
from harness.workload.spec import Budget, CheckerRef, GoldStep, Probe, SessionSpec, TaskSpec

__all__ = [
    "CHECKERS",
    "FAMILIES",
    "Budget",
    "CheckResult",
    "CheckerRef",
    "GoldStep",
    "Probe",
    "SessionSpec",
    "TaskFamily",
    "TaskSpec",
    "family",
    "get_checker",
    "get_family",
    "run_checkers",
]
