"""Which episodes measure the task: agent and harness errors are not failures.

An ``agent_error`` (the agent's own code raised) or a ``harness_error`` (the harness
broke) says nothing about whether the infrastructure let the agent finish the task, so
such an episode is left out of every rate, gap and decomposition (DESIGN §5, invariant
8) and counted beside them instead. A task is then valued by the repeats that remain;
a task left with no episode in some condition has no paired value and is left out of
every condition, so comparisons stay paired.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from harness.core.models import ERROR_TERMINATIONS


@dataclass(frozen=True)
class Exclusions:
    """What was left out: error episodes per (condition, termination), and the tasks that
    lost their pairing because every episode of theirs in some condition errored."""

    errors: dict[tuple[str, str], int] = field(default_factory=dict)
    unpaired_tasks: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.errors.values())


def is_error(episodes: pd.DataFrame) -> pd.Series:
    return episodes["termination"].isin(sorted(ERROR_TERMINATIONS))


def analysable(episodes: pd.DataFrame) -> tuple[pd.DataFrame, Exclusions]:
    """The episodes every analysis uses, and what was left out of them."""
    if episodes.empty or "termination" not in episodes:
        return episodes, Exclusions()
    bad = is_error(episodes)
    counts = episodes[bad].groupby(["condition", "termination"]).size()
    # A (task, condition) whose every stored episode errored has no value; a task with no
    # stored episode at all in a condition is an unfinished run, which analyses refuse.
    all_errors = episodes.assign(_bad=bad).groupby(["task_id", "condition"])["_bad"].all()
    unpaired = tuple(sorted(set(all_errors[all_errors].index.get_level_values("task_id"))))
    kept = episodes[~bad & ~episodes["task_id"].isin(unpaired)]
    errors = {(str(c), str(t)): int(n) for (c, t), n in counts.items()}
    return kept.reset_index(drop=True), Exclusions(errors, unpaired)
