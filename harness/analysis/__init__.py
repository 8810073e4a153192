"""Pure functions on episode DataFrames: task-clustered bootstrap intervals, the exact
gap decomposition, pass^k, analytic cross-checks, power and the regression gate.
``harness.analysis.suite`` computes every estimate of a run in one place."""

from harness.analysis.bootstrap import OVERALL, Estimate, StratifiedBootstrap, TaskTable

__all__ = ["OVERALL", "Estimate", "StratifiedBootstrap", "TaskTable"]
