"""Pure functions on episode DataFrames: task-clustered bootstrap intervals, the exact
gap decomposition, pass^k, analytic cross-checks, power and the regression gate.
``harness.analysis.suite`` computes every estimate of a run in one place;
``harness.analysis.report`` reads a stored run, runs them, stores the estimates and
assembles the report's tables as data (``report_tables``), for the CLI, paper and notebooks."""

from harness.analysis.bootstrap import OVERALL, Estimate, StratifiedBootstrap, TaskTable

__all__ = ["OVERALL", "Estimate", "StratifiedBootstrap", "TaskTable"]
