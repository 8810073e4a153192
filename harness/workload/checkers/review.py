"""Checkers for code review tasks: findings scored against the private injected issues.

A review answer is ``world.submission = {"findings": [{"file", "line", "kind"}, ...]}``.
Every injected issue must be matched by a finding in its file whose line is within a
small tolerance of one of the issue's anchor lines (and, where the task asks for it, of
the right kind); findings that match no issue are false positives, and more than a small
allowance of them fails, so flagging every changed line, every file, or nothing fails.
"""

from __future__ import annotations

import hashlib
from typing import Any

from harness.workload.checks import CHECKERS
from harness.world import World


def normalise_path(path: Any) -> str:
    """Paths as a human writes them: ``./pkg/a.py`` and the diff's ``b/pkg/a.py`` are ``pkg/a.py``."""
    text = str(path).strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    if text.startswith(("a/", "b/")):
        text = text[2:]
    return text.strip("/")


def normalise_kind(kind: Any) -> str:
    return "_".join(str(kind or "").strip().lower().replace("-", " ").split())


def parse_findings(submission: Any) -> tuple[list[tuple[str, int, str]] | None, str]:
    """The findings of a submission, or None and why it is not a review answer."""
    if not isinstance(submission, dict):
        return None, "nothing was submitted"
    raw = submission.get("findings")
    if not isinstance(raw, list):
        return None, "the submission has no list of findings"
    findings = []
    for item in raw:
        if not isinstance(item, dict) or "file" not in item or "line" not in item:
            return None, f"a finding lacks file or line: {str(item)[:80]}"
        try:
            line = int(str(item["line"]).strip())
        except ValueError:
            return None, f"a finding's line is not a number: {item['line']!r}"
        findings.append((normalise_path(item["file"]), line, normalise_kind(item.get("kind"))))
    return findings, ""


def _match(issue: dict[str, Any], finding: tuple[str, int, str], tolerance: int, require_kind: bool) -> int | None:
    """Distance of a finding to an issue's nearest anchor, or None when it does not match."""
    path, line, kind = finding
    if path != issue["file"] or (require_kind and kind != issue["kind"]):
        return None
    distance = min(abs(line - anchor) for anchor in issue["lines"])
    return distance if distance <= tolerance else None


@CHECKERS.register("findings_match")
def findings_match(world: World, spec: Any, issues: list[dict[str, Any]], tolerance: int = 2,
                   require_kind: bool = False, max_false_positives: int = 1) -> tuple[bool, str]:
    """Every issue is flagged (file, line within ``tolerance``, kind if required), and at
    most ``max_false_positives`` findings flag nothing. Several findings on one issue
    (its first and its last line, say) count once and are not false positives."""
    findings, why = parse_findings(world.submission)
    if findings is None:
        return False, why
    if not findings:
        return False, f"no findings, but the change has {len(issues)} issue(s)"
    matched_issue = [False] * len(issues)
    false_positives = []
    for finding in findings:
        hits = [(d, i) for i, issue in enumerate(issues)
                if (d := _match(issue, finding, tolerance, require_kind)) is not None]
        if not hits:
            false_positives.append(finding)
            continue
        matched_issue[min(hits)[1]] = True
    missed = [issues[i] for i, ok in enumerate(matched_issue) if not ok]
    problems = []
    if missed:
        # Say how many were missed, never where they are: the reason may reach the agent.
        problems.append(f"{len(missed)} of {len(issues)} issue(s) not found")
    if len(false_positives) > max_false_positives:
        shown = ", ".join(f"{p}:{n}" for p, n, _ in false_positives[:3])
        problems.append(f"{len(false_positives)} findings flag no issue (allowed {max_false_positives}): {shown}")
    if problems:
        return False, "; ".join(problems)
    return True, f"all {len(issues)} issue(s) found with {len(false_positives)} false positive(s)"


def file_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@CHECKERS.register("review_files_unchanged")
def review_files_unchanged(world: World, spec: Any, digests: dict[str, str]) -> tuple[bool, str]:
    """A review reads the change; it must not edit, empty or delete the code under review."""
    ws = world.workspace
    gone = [p for p in sorted(digests) if not ws.exists(p)]
    edited = [p for p in sorted(digests) if ws.exists(p) and file_digest(ws.read(p)) != digests[p]]
    if gone or edited:
        parts = ([f"deleted: {', '.join(gone[:3])}"] if gone else []) + (
            [f"edited: {', '.join(edited[:3])}"] if edited else [])
        return False, "the reviewed files were changed (" + "; ".join(parts) + ")"
    return True, f"all {len(digests)} reviewed files untouched"


@CHECKERS.register("approves")
def approves(world: World, spec: Any) -> tuple[bool, str]:
    """A change with nothing wrong in it: the review is an explicit empty list of findings."""
    findings, why = parse_findings(world.submission)
    if findings is None:
        return False, why
    if findings:
        shown = ", ".join(f"{p}:{n}" for p, n, _ in findings[:3])
        return False, f"{len(findings)} findings on a change with no issue: {shown}"
    return True, "the change was approved"
