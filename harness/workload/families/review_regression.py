"""code_review/review_regression: flag a performance regression or a broken return contract.

The change turns linear code quadratic (list membership in a loop, a sort or a sum redone
per item), brings in an N+1 query pattern, or changes what a public function returns
(``None`` becomes an exception, cents become euros). Kind ``performance`` or ``contract``.
From difficulty 2 the change also adds efficient code that looks like the regressions.
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

KINDS = ("performance", "contract")
# (kind, before, after); ``#@`` marks the line to flag, ``#+`` another acceptable line.
REGRESSIONS = (
    ("performance", '''def $name($arg: list[int]) -> list[int]:
    """The distinct $noun amounts, first occurrence first."""
    seen: set[int] = set()
    unique = []
    for amount in $arg:
        if amount not in seen:
            seen.add(amount)
            unique.append(amount)
    return unique''', '''def $name($arg: list[int]) -> list[int]:
    """The distinct $noun amounts, first occurrence first."""
    seen: list[int] = []  #+
    unique = []
    for amount in $arg:
        if amount not in seen:  #@
            seen.append(amount)
            unique.append(amount)
    return unique'''),
    ("performance", '''def $name($arg: list[int]) -> list[float]:
    """Each $noun amount as a share of the total."""
    total = sum($arg) or 1
    return [amount / total for amount in $arg]''', '''def $name($arg: list[int]) -> list[float]:
    """Each $noun amount as a share of the total."""
    return [amount / (sum($arg) or 1) for amount in $arg]  #@'''),
    ("performance", '''def $name(conn: sqlite3.Connection, ids: list[int]) -> list[tuple]:
    """The $noun rows for ``ids``, in one query."""
    marks = ", ".join("?" for _ in ids)
    return conn.execute(f"SELECT * FROM $table WHERE id IN ({marks})", ids).fetchall()''',
     '''def $name(conn: sqlite3.Connection, ids: list[int]) -> list[tuple]:
    """The $noun rows for ``ids``."""
    rows = []
    for row_id in ids:  #+
        rows.extend(conn.execute("SELECT * FROM $table WHERE id = ?", (row_id,)).fetchall())  #@
    return rows'''),
    ("performance", '''def $name($arg: list[int], probes: list[int]) -> list[int]:
    """For each probe, how many $noun amounts lie below it."""
    ordered = sorted($arg)
    return [bisect.bisect_left(ordered, probe) for probe in probes]''',
     '''def $name($arg: list[int], probes: list[int]) -> list[int]:
    """For each probe, how many $noun amounts lie below it."""
    return [bisect.bisect_left(sorted($arg), probe) for probe in probes]  #@'''),
    ("contract", '''def $name(table: dict[str, int], key: str) -> int | None:
    """The $noun amount for ``key``, or None when it is unknown."""
    return table.get(key)''', '''def $name(table: dict[str, int], key: str) -> int:  #+
    """The $noun amount for ``key``."""
    return table[key]  #@'''),
    ("contract", '''def $name($arg: list[int]) -> int:
    """Total $noun amount in cents."""
    return sum($arg)''', '''def $name($arg: list[int]) -> float:  #+
    """Total $noun amount in euros."""
    return sum($arg) / 100  #@'''),
)
# Efficient code the change adds that resembles the regressions.
DECOYS = (
    '''def $name($arg: list[int]) -> int:
    """How many $noun amounts occur more than once."""
    seen: set[int] = set()
    repeated: set[int] = set()
    for amount in $arg:
        if amount in seen:
            repeated.add(amount)
        seen.add(amount)
    return len(repeated)''',
    '''def $name($arg: list[int]) -> list[int]:
    """Each $noun amount minus the mean, in whole units."""
    mean = sum($arg) // max(len($arg), 1)
    return [amount - mean for amount in $arg]''',
    '''def $name(conn: sqlite3.Connection, since: int) -> list[tuple]:
    """The $noun rows changed since ``since``, in one query."""
    return conn.execute("SELECT * FROM $table WHERE changed >= ?", (since,)).fetchall()''',
    '''def $name($arg: list[int], probe: int) -> bool:
    """Whether ``probe`` is one of the $noun amounts."""
    ordered = sorted($arg)
    index = bisect.bisect_left(ordered, probe)
    return index < len(ordered) and ordered[index] == probe''',
)
N_ISSUES = {1: (1, 1), 2: (1, 1), 3: (1, 2), 4: (2, 2), 5: (2, 2)}
N_DECOYS = {1: (0, 0), 2: (1, 1), 3: (1, 2), 4: (2, 3), 5: (3, 4)}


@family
class ReviewRegression(ReviewFamily):
    name = "code_review/review_regression"
    input_keys = ("regressions", "n_decoys")
    require_kind = True
    kinds = KINDS

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        params = sample_common(rng, difficulty)
        low, high = N_ISSUES[difficulty]
        picks = rng.permutation(len(REGRESSIONS))[: int(rng.integers(low, high + 1))]
        low, high = N_DECOYS[difficulty]
        return {**params, "regressions": sorted(int(i) for i in picks),
                "n_decoys": int(rng.integers(low, high + 1))}

    def header_extra(self) -> str:
        return "import bisect\nimport sqlite3\n"

    def compose(self, draft: Draft, params: dict[str, Any]) -> None:
        for index in params["regressions"]:
            if not 0 <= int(index) < len(REGRESSIONS):
                raise ValueError(f"unknown regression {index!r}")
            kind, before, after = REGRESSIONS[int(index)]
            fields = draft.fields()
            after_text = fill(after, fields)
            if int(params["difficulty"]) >= 3:
                after_text = benign(draft.rng, after_text, allow_extract=False)
            draft.add(Block(fill(before, fields), after_text, kind))
        for i in draft.rng.permutation(len(DECOYS))[: int(params["n_decoys"])]:
            draft.add(Block(None, fill(DECOYS[int(i)], draft.fields())))

    def task_text(self, package: str) -> str:
        return (f"Regression review: check the change to the package `{package}/` shown in "
                f"`review/change.diff` (the workspace already holds the changed files) for "
                f"regressions. Flag each with its kind: `performance` (work that grows faster than "
                f"before, e.g. a quadratic loop, work repeated per item, one query per item) or "
                f"`contract` (a public function now returns or raises something its callers did "
                f"not get before).")
