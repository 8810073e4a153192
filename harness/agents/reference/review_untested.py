"""Strategy for a coverage review: which functions does the change touch that no test calls?

The changed functions come from the diff; the calls from a search of the test module for
``name(`` (a mention in a comment or an import is not a call, and neither is a test
function whose name merely contains it). The names are searched ``capacity`` at a time;
each changed function no hit calls is a finding at its ``def`` line.
"""

from __future__ import annotations

import ast
import re

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.review_flow import Finding, Review, def_line, run_review
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import Think

_TESTS = re.compile(r"tests are in `([^`]+)`")
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


@STRATEGIES.register("code_review/review_untested")
def review_untested(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    m = _TESTS.search(brief.instructions)
    tests = m[1] if m else "tests"

    def judge(review: Review, kit: Toolkit, errors: ErrorProcesses) -> Steps:
        return (yield from find_untested(review, kit, errors, tests))

    yield from run_review(brief, kit, errors, judge)


def find_untested(review: Review, kit: Toolkit, errors: ErrorProcesses, tests: str) -> Steps:
    changed = [c for c in review.changed if isinstance(c.after.node, _FUNCS)]
    names = sorted({c.after.node.name for c in changed})  # type: ignore[attr-defined]
    called: set[str] = set()
    size = max(1, errors.capacity)
    for start in range(0, len(names), size):
        batch = names[start:start + size]
        hits = yield from _search(kit, errors, r"\b(" + "|".join(map(re.escape, batch)) + r")\(", tests)
        if hits is None:
            yield Think(step=f"could not search {tests}; counting these as tested", evidence=tuple(batch))
            called.update(batch)
            continue
        called.update(n for h in hits for n in batch if _calls(h.text, n))
    yield Think(step="changed functions no test calls", evidence=tuple(sorted(set(names) - called)))
    return [Finding(c.path, def_line(c), "untested") for c in changed
            if c.after.node.name not in called]  # type: ignore[attr-defined]


def _search(kit: Toolkit, errors: ErrorProcesses, pattern: str, tests: str) -> Steps:
    for _ in range(1 + errors.retries):
        hits = yield from kit.search(pattern, [tests], regex=True)
        if hits is not None:
            return hits
    return None


def _calls(line: str, name: str) -> bool:
    """Whether a line of test code calls ``name`` (not in a comment, not defining it)."""
    code = line.split("#", 1)[0]
    return bool(re.search(rf"(?<!\w){re.escape(name)}\(", code)) and not re.match(r"\s*def\s", code)
