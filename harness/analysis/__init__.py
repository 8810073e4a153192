"""Pure functions on episode DataFrames: rates, paired gaps, intervals."""

from harness.analysis.completion import completion_table, paired_gap, task_success

__all__ = ["completion_table", "paired_gap", "task_success"]
