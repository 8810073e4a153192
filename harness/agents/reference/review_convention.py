"""Strategy for a convention review against team rules told one session earlier.

Session 1 states the rules (id and wording) and asks for nothing else: the agent keeps
them in memory in the words it was given. Session 2 asks for the review: the agent gets
the rules back (carried state, else memory, else a rules document in the workspace if
there is one) and checks every added or modified definition against each rule, reading
the rule's wording to know what to look for; the kind of a finding is the rule's id.
Without the rules it can only review against common conventions in its own words, which
is the plausible guess of a reviewer who forgot what the team asked for.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.knowledge import keep, recall_fact
from harness.agents.reference.review_diff import Block
from harness.agents.reference.review_flow import Finding, Review, pure, read_retry, run_review
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import Think

Rules = dict[str, str]  # rule id -> its wording
Violation = tuple[int, str]  # (line, the offending code) - the code tells old from new
Check = Callable[[ast.AST], Iterator[Violation]]
_RULE = re.compile(r"\((\d+)\) `(\w+)`: (.*?)(?=\s*\(\d+\) `\w+`:|\s*Nothing needs|\n|$)", re.DOTALL)
KEY = "team review rules"
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_MUTABLE = ("list", "dict", "set")


@STRATEGIES.register("code_review/review_convention")
def review_convention(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    told = parse_rules(brief.instructions)
    if brief.sessions > 1 and brief.session < brief.sessions - 1:
        if told:
            yield Think(step="learn the team's review rules; keep them for the review", evidence=tuple(told))
            yield from keep(kit, errors, KEY, render(told))
        return  # nothing to submit in this session
    rules = told or (yield from recall_fact(kit, brief, f"{KEY} (id: rule)", parse_rules))
    if not rules:
        rules = yield from rediscover(kit, errors)
    if rules:
        yield Think(step="review against the team's rules", evidence=tuple(f"{k}: {v}" for k, v in rules.items()))
        checks = {rule_id: check for rule_id, text in rules.items() if (check := check_for(text)) is not None}
    else:
        yield Think(step="the team's rules are gone; review against common conventions", confidence=0.3)
        checks = dict(COMMON)
    yield from run_review(brief, kit, errors, pure(lambda review: find_violations(review, checks)))


def parse_rules(text: str) -> Rules | None:
    rules = {m[2]: " ".join(m[3].split()) for m in _RULE.finditer(text)}
    return rules or None


def render(rules: Rules) -> str:
    """The rules in the words they were given, in a form ``parse_rules`` reads back."""
    return "The team's review rules (id: rule) are: " + " ".join(
        f"({i}) `{rule_id}`: {text}" for i, (rule_id, text) in enumerate(sorted(rules.items()), start=1))


def rediscover(kit: Toolkit, errors: ErrorProcesses) -> Steps:
    """Rules written down in the workspace after all (a contributing guide, say); else None."""
    hits = yield from kit.search("review rules")
    for path in sorted({h.path for h in hits or () if not h.path.endswith(".py")}):
        text = yield from read_retry(kit, errors, path)
        rules = parse_rules(text or "")
        if rules:
            return rules
    return None


def find_violations(review: Review, checks: dict[str, Check]) -> list[Finding]:
    found = []
    for change in review.changed:
        for rule_id, check in sorted(checks.items()):
            old = {code for _, code in _run(check, change.before)}
            found += [Finding(change.path, line, rule_id)
                      for line, code in _run(check, change.after) if code not in old]
    return found


def _run(check: Check, block: Block | None) -> list[Violation]:
    return sorted(set(check(block.node))) if block is not None else []


# -- what each rule's wording asks a reviewer to look for ------------------------------------
def check_for(text: str) -> Check | None:
    """The check a rule's wording describes; None for a rule this reviewer cannot apply."""
    lower = text.lower()
    if m := re.search(r"longer than (\d+) lines", lower):
        return _max_length(int(m[1]))
    for words, check in _BY_WORDING:
        if all(w in lower for w in words):
            return check
    return None


def _bare_except(root: ast.AST) -> Iterator[Violation]:
    for node in ast.walk(root):
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            yield node.lineno, "except:"


def _print(root: ast.AST) -> Iterator[Violation]:
    for node in ast.walk(root):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            yield node.lineno, ast.unparse(node)


def _untyped(root: ast.AST) -> Iterator[Violation]:
    for fn in _functions(root):
        if fn.name.startswith("_"):
            continue
        args = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
        bare = [a.arg for a in args if a.annotation is None and a.arg not in ("self", "cls")]
        if bare or fn.returns is None:
            yield fn.lineno, f"{fn.name}({','.join(bare)}) -> {fn.returns is not None}"


def _mutable_default(root: ast.AST) -> Iterator[Violation]:
    for fn in _functions(root):
        for default in [*fn.args.defaults, *(d for d in fn.args.kw_defaults if d is not None)]:
            empty_call = isinstance(default, ast.Call) and getattr(default.func, "id", "") in _MUTABLE
            if isinstance(default, (ast.List, ast.Dict, ast.Set)) or empty_call:
                yield fn.lineno, f"{fn.name}={ast.unparse(default)}"


def _max_length(limit: int) -> Check:
    def check(root: ast.AST) -> Iterator[Violation]:
        for fn in _functions(root):
            if (fn.end_lineno or fn.lineno) - fn.lineno + 1 > limit:
                yield fn.lineno, f"{fn.name} longer than {limit}"

    return check


def _functions(root: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    return (n for n in ast.walk(root) if isinstance(n, _FUNCS))


_BY_WORDING: tuple[tuple[tuple[str, ...], Check], ...] = (
    (("except",), _bare_except),
    (("print",), _print),
    (("annotat",), _untyped),
    (("mutable", "default"), _mutable_default),
)
# A reviewer's own names for common conventions, used when the team's rules are lost.
COMMON: dict[str, Check] = {
    "bare_except": _bare_except, "print_call": _print, "missing_type_hints": _untyped,
    "mutable_default_argument": _mutable_default, "long_function": _max_length(40),
}
