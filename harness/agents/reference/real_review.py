"""Strategy for reviewing a change to a real package: read it, tell refactors apart, run the tests.

The shared review flow reads the diff and the changed files. The judging is a reviewer's
who does not trust their eyes on someone else's code: a changed line that differs from
its old version only by one name renamed consistently (and comment lines added) is a
refactor; any other changed line is a suspect. With no suspect, the change is approved.
With suspects, the package's own tests that exercise the changed functions are run (the
test files that mention them most, then the file named after the module, at most
``MAX_TEST_FILES``): a failing test condemns the suspects, a green run clears them. A
reviewer who picks test files that do not reach the bug approves it: the skill this
family measures beside the infrastructure.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections import Counter

from harness.agents.reference import codemod_support as cs
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.review_diff import Hunk
from harness.agents.reference.review_flow import Finding, Review, run_review
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import Think

MAX_TEST_FILES = 3


@STRATEGIES.register("code_review/real_review")
def real_review(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    yield from run_review(brief, kit, errors, judge)


def judge(review: Review, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    suspects = [(path, line) for path, hunks in sorted(review.hunks.items()) if path.endswith(".py")
                for hunk in hunks for line in suspect_lines(hunk)]
    if not suspects:
        yield Think(step="every changed line is a rename or a comment: approve", confidence=0.8)
        return []
    names = [n for path, line in suspects if (n := _enclosing(review.files.get(path), line))]
    files = yield from _test_files(kit, names, [p for p, _ in suspects])
    yield Think(step="run the tests that exercise the changed code", evidence=tuple(files))
    for test_file in files:
        outcome = yield from cs.tests_pass(kit, errors, test_file)
        if outcome is not None and not outcome.ok and outcome.failed_tests:
            yield Think(step=f"{test_file} fails with the change: the suspect lines are bugs",
                        evidence=tuple(outcome.failed_tests[:3]))
            return [Finding(path, line, "bug") for path, line in suspects]
    yield Think(step="the tests pass with the change: approve", confidence=0.6)
    return []


def suspect_lines(hunk: Hunk) -> list[int]:
    """Post-change numbers of the hunk's added lines that are neither comments nor part of
    one consistent rename."""
    removed, added = [], []
    line = hunk.new_start
    for raw in hunk.lines:
        mark, text = raw[:1], raw[1:]
        if mark == "-":
            removed.append(text)
            continue
        if mark == "+" and not text.strip().startswith("#"):
            added.append((line, text))
        line += 1
    if len(removed) == len(added) and _one_rename(removed, [t for _, t in added]):
        return []
    return [n for n, _ in added]


def _names(text: str) -> list[tuple[int, str]] | None:
    try:
        return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(text.strip() + "\n").readline)
                if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER,
                                  tokenize.INDENT, tokenize.DEDENT)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None


def _one_rename(before: list[str], after: list[str]) -> bool:
    pairs: Counter[tuple[str, str]] = Counter()
    for old, new in zip(before, after, strict=True):
        a, b = _names(old), _names(new)
        if a is None or b is None or len(a) != len(b):
            return False
        for (ta, sa), (tb, sb) in zip(a, b, strict=True):
            if sa != sb:
                if ta != tokenize.NAME or tb != tokenize.NAME:
                    return False
                pairs[(sa, sb)] += 1
    return len(pairs) <= 1


def _enclosing(text: str | None, line: int) -> str | None:
    tree = cs.tree_of(text)
    found = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
             and n.lineno <= line <= (n.end_lineno or n.lineno)] if tree else []
    return max(found, key=lambda n: n.lineno).name if found else None


def _is_test_path(path: str) -> bool:
    parts = path.split("/")
    return any(p in ("test", "tests", "testing") for p in parts[:-1]) or parts[-1].startswith("test_")


def _test_files(kit: Toolkit, names: list[str], paths: list[str]) -> Steps:
    """Test files mentioning the changed functions most, then the one named after the module."""
    mentions: Counter[str] = Counter()
    for name in dict.fromkeys(names):
        hits = yield from kit.search(name, word=True)
        mentions.update(h.path for h in hits or () if _is_test_path(h.path) and h.path.endswith(".py"))
    chosen = [p for p, _ in sorted(mentions.items(), key=lambda kv: (-kv[1], kv[0]))][:MAX_TEST_FILES]
    if len(chosen) < MAX_TEST_FILES:
        listed = yield from kit.list_files("")
        for path in dict.fromkeys(paths):
            stem = path.rsplit("/", 1)[-1].removesuffix(".py")
            named = sorted(p for p in listed or () if _is_test_path(p) and p.endswith(f"test_{stem}.py"))
            chosen += [p for p in named if p not in chosen][:MAX_TEST_FILES - len(chosen)]
    return chosen
