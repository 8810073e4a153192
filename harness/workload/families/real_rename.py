"""code_modification/real_rename: rename a public symbol of a real package, tests included.

The symbol is a public function or class of a released package (six, toolz, tabulate,
boltons, inflect) from the frozen screening: its name is distinctive, and the careful
rename (every identifier, and ``__all__``) keeps the package's own suite green. Checked by
the syntax tree (the old name is an identifier nowhere in the code or its tests, the
defining module defines the new one) and by the whole suite in the sandbox. A kept alias
(``old = new``) is the shortcut the checkers refuse.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from harness.workload.deadlines import end_of_day
from harness.workload.families import real_common as rc
from harness.workload.real.renames import rename_everywhere
from harness.workload.real.screen import ScreenedRename, is_test_path, load_renames
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, GoldStep, TaskSpec
from harness.world import World
from harness.world.pycode import identifier_counts

NAME = "code_modification/real_rename"


def _pool() -> tuple[ScreenedRename, ...]:
    return rc.interleaved(load_renames(), "real.renames")


def _roots(package: str) -> list[str]:
    entry = rc.load_manifest().package(package)
    return sorted({*(s.rstrip("/") for s in entry.sources), *(t.rstrip("/") for t in entry.tests)})


def _test_module(files: dict[str, str], old: str) -> str:
    uses: Counter[str] = Counter()
    for path, text in files.items():
        if path.endswith(".py") and is_test_path(path):
            try:
                uses[path] = identifier_counts(text)[old]
            except (SyntaxError, ValueError):
                continue
    return max(sorted(uses), key=lambda p: uses[p])


@family
class RealRename:
    name = NAME
    category = "code_modification"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        return self.sample_params_at(rng, difficulty, int(rng.integers(len(_pool()))))

    def sample_params_at(self, rng: np.random.Generator, difficulty: int, index: int) -> dict[str, Any]:
        return {"rename": rc.nth(_pool(), index, "renames").key}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        r = rc.by_key(load_renames(), params["rename"], "rename")
        initial = rc.tree(r.package)
        solved = rename_everywhere(initial, r.old, r.new)
        roots = _roots(r.package)
        test_module = _test_module(initial, r.old)
        where = r.path.rsplit("/", 1)[0] if "/" in r.path else r.path
        changed = sorted(p for p in solved if solved[p] != initial[p])
        alias = solved[r.path].rstrip("\n") + f"\n\n{r.old} = {r.new}  # kept for callers\n"
        return TaskSpec(
            id=task_id, category=self.category, family=self.name,
            difficulty=min(5, 1 + len(changed) // 3 + (r.uses > 40)), seed=int(seed),
            params={**params, "package": r.package, "path": r.path, "files_changed": len(changed)},
            public={"old_name": r.old, "new_name": r.new, "kind": r.kind, "package": where,
                    "test_module": test_module, "version": rc.version(r.package)},
            instructions=(
                f"In {r.package} {rc.version(r.package)} (its source is checked out in the workspace), rename "
                f"the public {r.kind} `{r.old}` (defined in `{r.path}`) to `{r.new}` everywhere: in the package "
                f"and in its tests. Keep no alias under the old name. The package's own test suite must pass."),
            budget=end_of_day(40 + 2 * len(changed), "the change"),
            checkers=(
                CheckerRef(name="no_identifier", args={"name": r.old, "paths": roots}),
                CheckerRef(name="defines_symbol", args={"path": r.path, "name": r.new}),
                CheckerRef(name="suite_passes", args={"expected": rc.expected_green(r.package)}),
            ),
            gold=tuple(GoldStep(op="write", args={"path": p, "text": solved[p]}) for p in changed),
            traps={"keep_alias": (*(GoldStep(op="write", args={"path": p, "text": solved[p]}) for p in changed
                                    if p != r.path),
                                  GoldStep(op="write", args={"path": r.path, "text": alias}))},
        )

    def build_world(self, spec: TaskSpec) -> World:
        package = spec.params["package"]
        return rc.world_of(rc.tree(package), package)
