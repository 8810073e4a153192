"""code_review/real_review: review a change to a real package; some changes hide a bug.

Each change touches two functions of a released package (six, toolz, tabulate, boltons,
inflect). Two tasks in three carry a screened mutant (an operator, constant, condition,
off-by-one or swapped-argument edit the package's own suite kills) beside a benign
refactor; the third is a control, two benign refactors (a local renamed, a comment
added) that the suite still passes, to be approved. The workspace holds the package with
the change applied and ``review/change.diff``; the reviewer flags the line of the bug,
or approves with an empty list. Flagging the refactor is a false positive and fails.
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np

from harness.workload.checkers.review import file_digest
from harness.workload.deadlines import end_of_day
from harness.workload.families import real_common as rc
from harness.workload.families.review_common import DIFF_PATH, SCHEMA, TOLERANCE
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, GoldStep, TaskSpec
from harness.world import World

NAME = "code_review/real_review"
CONTROL_EVERY = 3  # every third task is a control


def _edits(params: dict[str, Any]) -> list[tuple[str, int, int, str, str]]:
    """(path, start, end, new text, role) of the change, in the original file's offsets."""
    out = []
    for key in params["controls"]:
        c = rc.find_control(key)
        out.append((c.path, c.start, c.end, c.new_text, "benign"))
    if params.get("mutant"):
        m = rc.find(params["mutant"])
        out.append((m.path, m.start, m.end, m.new, "bug"))
    return out


def _applied(package: str, params: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, Any]], list[dict]]:
    """The changed files, each bug's post-change line, and every line the change touched."""
    tree = rc.tree(package)
    files = dict(tree)
    issues, touched = [], []
    edits = _edits(params)
    for path in sorted({e[0] for e in edits}):
        mine = sorted((e for e in edits if e[0] == path), key=lambda e: e[1])
        text, shift = tree[path], 0
        for _, start, end, new, role in mine:
            at = start + shift
            text = text[:at] + new + text[end + shift:]
            first = text.count("\n", 0, at) + 1
            if role == "bug":
                issues.append({"file": path, "lines": [first], "line": first, "kind": "bug"})
            touched += [{"file": path, "line": n, "kind": "bug"} for n in range(first, first + new.count("\n") + 1)]
            shift += len(new) - (end - start)
        files[path] = text
    return files, issues, touched


def _diff(before: dict[str, str], after: dict[str, str]) -> str:
    parts = []
    for path in sorted(p for p in after if after[p] != before.get(p)):
        parts += difflib.unified_diff(before[path].splitlines(True), after[path].splitlines(True),
                                      f"a/{path}", f"b/{path}", n=3)
    return "".join(parts)


@family
class RealReview:
    name = NAME
    category = "code_review"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        return self.sample_params_at(rng, difficulty, int(rng.integers(30)))

    def sample_params_at(self, rng: np.random.Generator, difficulty: int, index: int) -> dict[str, Any]:
        if index % CONTROL_EVERY == CONTROL_EVERY - 1:
            first, second = rc.control_pair(index // CONTROL_EVERY)
            return {"mutant": None, "controls": [first.key, second.key]}
        n = index - index // CONTROL_EVERY
        m = rc.drawn("review", n)
        return {"mutant": m.key, "controls": [rc.control_beside(m, n).key]}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        package = rc.find_control(params["controls"][0]).package
        before = rc.tree(package)
        files, issues, added = _applied(package, params)
        changed = sorted(p for p in files if files[p] != before[p])
        if issues:
            checkers = (CheckerRef(name="findings_match", args={
                "issues": issues, "tolerance": TOLERANCE, "require_kind": False, "max_false_positives": 0}),)
            traps = {"approve": (GoldStep(op="submit", args={"answer": {"findings": [], "verdict": "approve"}}),),
                     "flag_everything": (GoldStep(op="submit", args={"answer": {"findings": added}}),)}
        else:
            checkers = (CheckerRef(name="approves", args={}),)
            traps = {"flag_everything": (GoldStep(op="submit", args={"answer": {"findings": added}}),)}
        m = rc.find(params["mutant"]) if params["mutant"] else None
        return TaskSpec(
            id=task_id, category=self.category, family=self.name,
            difficulty=rc.difficulty(m, before) if m else 2, seed=int(seed),
            params={**params, "package": package, "issues": issues},
            public={"package": package, "version": rc.version(package), "diff": DIFF_PATH},
            instructions=(
                f"A colleague's change to {package} {rc.version(package)} is applied in the workspace; its diff "
                f"is `{DIFF_PATH}`. Review it before it is merged: flag each line where the change "
                f"introduces a bug (kind \"bug\"). The package's own test suite is in the workspace. {SCHEMA}"),
            budget=end_of_day(30, "the review"),
            checkers=(*checkers, CheckerRef(name="review_files_unchanged",
                                             args={"digests": {p: file_digest(files[p]) for p in changed}})),
            gold=(GoldStep(op="submit", args={"answer": {"findings": [
                {"file": i["file"], "line": i["line"], "kind": "bug"} for i in issues]}}),),
            traps=traps,
        )

    def build_world(self, spec: TaskSpec) -> World:
        package = spec.params["package"]
        files, _, _ = _applied(package, spec.params)
        files[DIFF_PATH] = _diff(rc.tree(package), files)
        return rc.world_of(files, package)
