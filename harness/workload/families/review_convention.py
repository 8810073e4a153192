"""code_review/review_convention: review a change against team rules told one session earlier.

Two sessions. Session 1's asks states the team's review rules (ids and wording); they are
written nowhere in the world. Session 2 asks for the review without repeating them; the
findings are the changed code's violations of exactly those rules, with the rule id as
kind. From difficulty 2 the change also breaks a rule the team does not have (flagging it
is a false positive: a reviewer must remember which rules were stated, not guess common
ones); from difficulty 3 old, unchanged code breaks a stated rule (not part of the change).
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
    unmark,
)
from harness.workload.registry import family
from harness.workload.spec import Probe, SessionSpec

MAX_LINES = 15
RULES = {
    "no_bare_except": "no bare `except:`; always name the exceptions caught.",
    "no_print": "no `print` calls in library code; use the module's logger.",
    "typed_public_api": "every public function (name not starting with `_`) annotates all its "
                        "parameters and its return type.",
    "max_function_length": f"no function longer than {MAX_LINES} lines, counted from its `def` "
                           f"line to its last line.",
    "no_mutable_default": "no mutable default argument values (`[]`, `{}`, `set()`); default to None.",
}
RULE_IDS = tuple(RULES)
# rule -> (before, after); ``#@`` marks the line to flag (the def line for function-wide rules).
VIOLATIONS = {
    "no_bare_except": ('''def $name(raw: str) -> int:
    """Parse a $noun amount; zero when malformed."""
    try:
        return int(raw)
    except ValueError:
        return 0''', '''def $name(raw: str) -> int:
    """Parse a $noun amount; zero when malformed."""
    try:
        return int(raw.strip())
    except:  #@
        return 0'''),
    "no_print": ('''def $name($arg: list[int]) -> int:
    """Total $noun amount."""
    total = sum($arg)
    return total''', '''def $name($arg: list[int]) -> int:
    """Total $noun amount."""
    total = sum($arg)
    print(f"$noun total: {total}")  #@
    return total'''),
    "typed_public_api": ('''def $name($arg: list[int], factor: int = $k) -> list[int]:
    """Each $noun amount scaled by ``factor``."""
    return [amount * factor for amount in $arg]''', '''def $name($arg, factor=$k):  #@
    """Each $noun amount scaled by ``factor``, rounded down to even."""
    return [amount * factor // 2 * 2 for amount in $arg]'''),
    "max_function_length": ('''def $name($arg: list[int]) -> dict[str, int]:
    """Summary figures of the $noun amounts."""
    return {
        "count": len($arg),
        "total": sum($arg),
        "largest": max($arg, default=0),
    }''', '''def $name($arg: list[int]) -> dict[str, int]:  #@
    """Summary figures of the $noun amounts."""
    summary: dict[str, int] = {}
    summary["count"] = len($arg)
    summary["total"] = sum($arg)
    summary["largest"] = max($arg, default=0)
    summary["smallest"] = min($arg, default=0)
    positives = [amount for amount in $arg if amount > 0]
    negatives = [amount for amount in $arg if amount < 0]
    summary["positive"] = len(positives)
    summary["negative"] = len(negatives)
    summary["zero"] = len($arg) - len(positives) - len(negatives)
    summary["spread"] = summary["largest"] - summary["smallest"]
    if summary["count"]:
        summary["mean"] = summary["total"] // summary["count"]
    else:
        summary["mean"] = 0
    return summary'''),
    "no_mutable_default": ('''def $name(amount: int, seen: list[int] | None = None) -> list[int]:
    """Record one $noun amount; the amounts seen so far."""
    seen = [] if seen is None else seen
    seen.append(amount)
    return seen''', '''def $name(amount: int, seen: list[int] = []) -> list[int]:  #@
    """Record one $noun amount; the amounts seen so far."""
    seen.append(amount)
    return seen'''),
}
# rule -> what a reply must name besides the rule id: the one number the rule fixes.
RULE_DETAILS = {"max_function_length": (str(MAX_LINES),)}
N_STATED = {1: 3, 2: 3, 3: 4, 4: 4, 5: 4}
N_VIOLATIONS = {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (2, 3), 5: (3, 3)}


@family
class ReviewConvention(ReviewFamily):
    name = "code_review/review_convention"
    input_keys = ("rules", "violations", "unstated_violation", "old_violation")
    require_kind = True

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        params = sample_common(rng, difficulty)
        order = [RULE_IDS[int(i)] for i in rng.permutation(len(RULE_IDS))]
        stated, unstated = sorted(order[: N_STATED[difficulty]]), order[N_STATED[difficulty]:]
        low, high = N_VIOLATIONS[difficulty]
        n = int(rng.integers(low, high + 1))
        violations = [stated[int(i)] for i in rng.permutation(len(stated))[:n]]
        return {**params, "rules": stated, "violations": violations,
                "unstated_violation": unstated[0] if difficulty >= 2 else None,
                "old_violation": stated[int(rng.integers(len(stated)))] if difficulty >= 3 else None}

    def header_extra(self) -> str:
        return "\nlogger = logging.getLogger(__name__)\n"

    def compose(self, draft: Draft, params: dict[str, Any]) -> None:
        for rule in params["rules"] + params["violations"]:
            if rule not in RULES:
                raise ValueError(f"unknown rule {rule!r}")
        for rule in params["violations"]:
            before, after = VIOLATIONS[rule]
            fields = draft.fields()
            after_text = fill(after, fields)
            if int(params["difficulty"]) >= 3:
                after_text = benign(draft.rng, after_text, allow_extract=False)
            draft.add(Block(fill(before, fields), after_text, rule))
        if params["unstated_violation"]:
            before, after = VIOLATIONS[params["unstated_violation"]]
            fields = draft.fields()
            draft.add(Block(fill(before, fields), fill(after, fields)))  # not a finding: no such rule
        if params["old_violation"]:
            old = unmark(fill(VIOLATIONS[params["old_violation"]][1], draft.fields()))
            draft.add(Block(old, old))  # predates the change: not part of this review

    def task_text(self, package: str) -> str:
        return (f"Convention review: check the change to the package `{package}/` shown in "
                f"`review/change.diff` (the workspace already holds the changed files) against the "
                f"team's review rules. Flag every place where the change breaks one of those rules; "
                f"the kind of a finding is the id of the rule it breaks. Only the team's rules count, "
                f"and only code the change adds or modifies.")

    def sessions(self, params: dict[str, Any]) -> tuple[tuple[SessionSpec, ...], tuple[str, ...]]:
        knowledge = tuple(f"`{rule}`: {RULES[rule]}" for rule in params["rules"])
        first = ("Before you review anything, learn the team's review rules; you will need them in "
                 "the next session and they are written down nowhere else. The rules (id: rule) are: "
                 + " ".join(f"({i}) {k}" for i, k in enumerate(knowledge, start=1))
                 + " Nothing needs to be submitted in this session.")
        second = ("Review the change now, against the team's review rules you were given earlier, "
                  "and submit your findings.")
        return (SessionSpec(asks=first), SessionSpec(asks=second)), knowledge

    def probes(self, params: dict[str, Any]) -> tuple[Probe, ...]:
        # By position, as the rules were told: naming a rule's subject would tell which rules
        # the team has, which is the very thing to remember (an unstated rule is a decoy).
        return tuple(Probe(told_in=0, question=f"What is rule ({i}) of the team's review rules, its id and "
                                               f"what it says?", expect=(rule, *RULE_DETAILS.get(rule, ())))
                     for i, rule in enumerate(params["rules"], start=1))
