"""The shape every code review shares: read the change, judge it, place each finding, submit.

A strategy supplies only the judging (``Judge``): which added or modified definitions
break something, at which post-change line. Reading is done here: the diff first, then
each changed file whole (a block is judged in full, not by its hunk lines), in rounds of
at most ``errors.capacity`` files, the diff looked at again each round.

Placing a finding is where a reviewer slips: a unified diff shows two line numbers for
every position and the before-side one is the plausible wrong argument. Each finding is
therefore checked by searching its file for the flagged line and taking the hit nearest
the number written down; a tool that answers in structure makes that check exact, while
grep output is read line by line and a hit can be overlooked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.review_diff import Change, Hunk, changes, old_number, parse_diff
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think

DEFAULT_DIFF = "review/change.diff"


@dataclass(frozen=True)
class Finding:
    path: str
    line: int  # post-change line number
    kind: str


@dataclass
class Review:
    """What the agent read: hunks per file, the files as they are now, the changed blocks."""

    hunks: dict[str, list[Hunk]]
    files: dict[str, str] = field(default_factory=dict)
    changed: list[Change] = field(default_factory=list)


Judge = Callable[[Review, Toolkit, ErrorProcesses], Steps]  # -> list[Finding]


def pure(fn: Callable[[Review], list[Finding]]) -> Judge:
    """A judge that needs no tools: it decides from what was read."""

    def judge(review: Review, kit: Toolkit, errors: ErrorProcesses) -> Steps:
        return fn(review)
        yield  # pragma: no cover - makes this a generator

    return judge


def run_review(brief: Brief, kit: Toolkit, errors: ErrorProcesses, judge: Judge) -> Steps:
    """Read, judge, place, submit; give up only when the change itself cannot be read."""
    diff_path = str(brief.public.get("diff") or DEFAULT_DIFF)
    yield Think(step=f"read {diff_path}, pair each changed definition with its old version, judge, submit")
    text = yield from read_retry(kit, errors, diff_path)
    if text is None:
        yield GiveUp(reason=f"could not read {diff_path}")
        return
    if errors.shortcut():
        # The tempting shortcut of a review: rubber-stamp the change without reading it.
        yield Think(step="the change looks routine: approve it without reading further", confidence=0.3)
        yield Submit(answer={"findings": [], "verdict": "approve"})
        return
    review = yield from gather(kit, errors, diff_path, parse_diff(text))
    findings = yield from judge(review, kit, errors)
    yield Think(step="findings before placing them",
                evidence=tuple(f"{f.path}:{f.line} {f.kind}" for f in findings))
    placed = yield from place(kit, errors, review, findings)
    yield Submit(answer={"findings": [{"file": f.path, "line": f.line, "kind": f.kind} for f in placed]})


def read_retry(kit: Toolkit, errors: ErrorProcesses, path: str) -> Steps:
    """A file's text, asking again when the read fails; None if it never succeeds."""
    for _ in range(1 + errors.retries):
        text = yield from kit.read(path)
        if text is not None:
            return text
    return None


def gather(kit: Toolkit, errors: ErrorProcesses, diff_path: str, hunks: dict[str, list[Hunk]]) -> Steps:
    """Read every changed Python file and pair its blocks, ``capacity`` files a round."""
    review = Review(hunks)
    paths = sorted(p for p in hunks if p.endswith(".py"))
    size = max(1, errors.capacity)
    for start in range(0, len(paths), size):
        if start:
            yield from read_retry(kit, errors, diff_path)  # the next files' hunks, looked at again
        for path in paths[start:start + size]:
            after = yield from read_retry(kit, errors, path)
            found = None if after is None else changes(path, after, hunks[path])
            if found is None:
                yield Think(step=f"cannot line the diff up with {path}; skipping it", confidence=0.4)
                continue
            review.files[path] = after
            review.changed.extend(found)
    return review


def place(kit: Toolkit, errors: ErrorProcesses, review: Review, findings: list[Finding]) -> Steps:
    """Each finding at the line a search confirms, nearest the number written down."""
    placed = []
    for f in findings:
        claimed = old_number(review.hunks.get(f.path, []), f.line) if errors.slip() else f.line
        lines = review.files[f.path].splitlines()
        text = lines[f.line - 1].strip() if 0 < f.line <= len(lines) else ""
        hits = (yield from kit.search(text, [f.path])) if text else None
        near = [h.line for h in hits or () if h.path.removeprefix("./") == f.path]
        line = min(near, key=lambda n: (abs(n - claimed), n)) if near else claimed
        placed.append(Finding(f.path, line, f.kind))
    return placed


def def_line(change: Change) -> int:
    """Post-change line of a changed definition's ``def`` (past its decorators)."""
    return change.after.node.lineno
