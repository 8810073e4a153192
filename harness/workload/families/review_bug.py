"""code_review/review_bug: find the 1-3 bugs a change slips in among harmless edits.

Each bug is a small, correct function turned wrong by the change (an off-by-one, an
inverted condition, a wrong variable, a lost return); from difficulty 3 a buggy function
also carries a harmless edit, so a reviewer must read the hunk, not just spot it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.workload.families.review_common import (
    Block,
    Draft,
    ReviewFamily,
    benign,
    fill,
    sample_common,
)
from harness.workload.registry import family

# (kind, before, after): ``#@`` marks the line to flag, ``#+`` another acceptable line.
BUGS = (
    ("off_by_one", '''def $name($arg: list[int], window: int = $k) -> list[int]:
    """Rolling sums of the $noun amounts over ``window`` items."""
    sums = []
    for start in range(len($arg) - window + 1):
        sums.append(sum($arg[start:start + window]))
    return sums''', '''def $name($arg: list[int], window: int = $k) -> list[int]:
    """Rolling sums of the $noun amounts over ``window`` items."""
    sums = []
    for start in range(len($arg) - window):  #@
        sums.append(sum($arg[start:start + window]))
    return sums'''),
    ("off_by_one", '''def $name($arg: list[int], count: int = $k) -> list[int]:
    """The ``count`` largest $noun amounts, largest first."""
    ordered = sorted($arg, reverse=True)
    return ordered[:count]''', '''def $name($arg: list[int], count: int = $k) -> list[int]:
    """The ``count`` largest $noun amounts, largest first."""
    ordered = sorted($arg, reverse=True)
    return ordered[:count - 1]  #@'''),
    ("inverted_condition", '''def $name($arg: list[int], limit: int = $k) -> list[int]:
    """The $noun amounts within ``limit``; larger ones are held back for review."""
    kept = []
    for amount in $arg:
        if amount <= limit:
            kept.append(amount)
    return kept''', '''def $name($arg: list[int], limit: int = $k) -> list[int]:
    """The $noun amounts within ``limit``; larger ones are held back for review."""
    kept = []
    for amount in $arg:
        if amount > limit:  #@
            kept.append(amount)
    return kept'''),
    ("inverted_condition", '''def $name(balance: int, amount: int) -> bool:
    """Whether a $noun of ``amount`` can be taken from ``balance``."""
    if amount < 0:
        return False
    return balance >= amount''', '''def $name(balance: int, amount: int) -> bool:
    """Whether a $noun of ``amount`` can be taken from ``balance``."""
    if amount < 0:
        return False
    return balance < amount  #@'''),
    ("wrong_variable", '''def $name($arg: list[int], weights: list[int]) -> int:
    """Weighted total of the $noun amounts."""
    weighted = 0
    for amount, weight in zip($arg, weights):
        weighted += amount * weight
    return weighted''', '''def $name($arg: list[int], weights: list[int]) -> int:
    """Weighted total of the $noun amounts."""
    weighted = 0
    for amount, weight in zip($arg, weights):
        weighted += amount * amount  #@
    return weighted'''),
    ("wrong_variable", '''def $name($arg: list[int], floor: int = $k) -> int:
    """Spread of the $noun amounts, never below ``floor``."""
    largest = max($arg, default=0)
    smallest = min($arg, default=0)
    return max(largest - smallest, floor)''', '''def $name($arg: list[int], floor: int = $k) -> int:
    """Spread of the $noun amounts, never below ``floor``."""
    largest = max($arg, default=0)
    smallest = min($arg, default=0)
    return max(largest - floor, smallest)  #@'''),
    ("missing_return", '''def $name($arg: list[int], default: int = $k) -> int:
    """First positive $noun amount, or ``default``."""
    for amount in $arg:
        if amount > 0:
            return amount
    return default''', '''def $name($arg: list[int], default: int = $k) -> int:
    """First positive $noun amount, or ``default``."""
    for amount in $arg:  #+
        if amount > 0:
            return amount  #@'''),
    ("missing_return", '''def $name(totals: dict[str, int], label: str) -> int:
    """The $noun total for ``label``, created at zero."""
    if label not in totals:
        totals[label] = 0
    return totals[label]''', '''def $name(totals: dict[str, int], label: str) -> int:
    """The $noun total for ``label``, created at zero."""
    if label not in totals:
        totals[label] = 0
    totals[label]  #@'''),
)
N_BUGS = {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (2, 3), 5: (3, 3)}


@family
class ReviewBug(ReviewFamily):
    name = "code_review/review_bug"
    input_keys = ("n_bugs",)

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        params = sample_common(rng, difficulty)
        low, high = N_BUGS[difficulty]
        return {**params, "n_bugs": int(rng.integers(low, high + 1))}

    def compose(self, draft: Draft, params: dict[str, Any]) -> None:
        picks = draft.rng.permutation(len(BUGS))[: int(params["n_bugs"])]
        for i in picks:
            kind, before, after = BUGS[int(i)]
            fields = draft.fields()
            after_text = fill(after, fields)
            if int(params["difficulty"]) >= 3:
                after_text = benign(draft.rng, after_text, allow_extract=False)
            draft.add(Block(fill(before, fields), after_text, kind))

    def task_text(self, package: str) -> str:
        return (f"Review the change to the package `{package}/` shown in `review/change.diff` (the "
                f"workspace already holds the changed files). Some of its edits introduce bugs: code "
                f"that no longer does what its name and docstring say. Find every bug. The kind of "
                f"a finding is free text here (e.g. `off_by_one`, `inverted_condition`, "
                f"`wrong_variable`, `missing_return`); only file and line are judged.")
