"""The checkers, one module per kind of task; ``harness.workload.checks.CHECKERS`` finds
them by importing every module here, so nothing imports a checker module to register it."""
