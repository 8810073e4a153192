"""Deadlines: every task's time budget is a deadline the task states, never a tuned number.

A budget's minutes come from a property of the task a person doing it would be told: a
working day for a change or a review due today, an incident's response objective, a
maintenance window, the time until a disk fills at its current rate. The brief states
it (``Budget.deadline``), so the agent knows it as a person would. Actions are the
agent's effort budget and are set by each family from the work the task needs.
"""

from __future__ import annotations

from harness.workload.spec import Budget

WORKING_DAY_MINUTES = 480.0


def end_of_day(max_actions: int, what: str = "the work") -> Budget:
    """Work due by the end of the working day (8 hours from the start)."""
    return Budget(max_actions=max_actions, max_minutes=WORKING_DAY_MINUTES,
                  deadline=f"{what} is due by the end of the working day")


def within(max_actions: int, minutes: float, deadline: str) -> Budget:
    """A deadline stated by the task itself, ``minutes`` from the start."""
    return Budget(max_actions=max_actions, max_minutes=float(minutes), deadline=deadline)
