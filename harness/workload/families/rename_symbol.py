"""code_modification/rename_symbol: rename a class or function across a generated package.

The package is realistic bulk around one symbol that is defined in one module and used
in many others, beside near-miss names that contain the old name (package names such as
``LedgerError`` and, from difficulty 3, standard-library names such as ``JSONDecoder``),
so a textual replace breaks things as it would in life. The rendering lives in
``rename_render``/``rename_parts``; this module turns it into a TaskSpec.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from functools import lru_cache
from typing import Any

import numpy as np

from harness.core.errors import TaskGenerationError
from harness.core.hashing import canonical_json
from harness.workload.deadlines import end_of_day
from harness.workload.families.rename_render import MAX_NEAR_MISSES, Rendered, render
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, GoldStep, TaskSpec
from harness.workload.test_fingerprint import fingerprint_tests
from harness.workload.test_normalise import count_asserts
from harness.world import World
from harness.world.pycode import identifier_counts

# The inputs of the renderer; everything else in a spec's params is derived from them.
INPUT_KEYS = ("difficulty", "kind", "n_modules", "use_fraction", "n_near_misses", "n_stdlib_uses")
MODULES = {1: (5, 10), 2: (10, 25), 3: (25, 50), 4: (50, 100), 5: (100, 150)}
USE_FRACTION = {1: (0.3, 0.5), 2: (0.35, 0.55), 3: (0.4, 0.6), 4: (0.5, 0.7), 5: (0.6, 0.8)}
NEAR_MISSES = {1: (1, 2), 2: (2, 3), 3: (2, 4), 4: (3, 5), 5: (4, 5)}
# Standard-library near-misses only from difficulty 3: the old name is then a stem such
# as ``Decoder`` and helpers import ``JSONDecoder``.
STDLIB_USES = {1: (0, 0), 2: (0, 0), 3: (1, 1), 4: (1, 2), 5: (2, 3)}
TEST_TIMEOUT_S = 10.0


def _between(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


@lru_cache(maxsize=64)
def _rendered(inputs_json: str, seed: int) -> Rendered:
    """Shared by generate and build_world; callers must not mutate the result."""
    return render(json.loads(inputs_json), seed)


def _inputs(params: dict[str, Any]) -> dict[str, Any]:
    try:
        inputs = {k: params[k] for k in INPUT_KEYS}
    except KeyError as exc:
        raise TaskGenerationError(f"rename_symbol params lack {exc.args[0]!r}",
                                  "build params with sample_params") from None
    if inputs["kind"] not in ("class", "function"):
        raise TaskGenerationError(f"kind must be 'class' or 'function', got {inputs['kind']!r}")
    if not 5 <= int(inputs["n_modules"]) <= 150:
        raise TaskGenerationError(f"n_modules must be in 5..150, got {inputs['n_modules']}")
    if not 1 <= int(inputs["n_near_misses"]) <= MAX_NEAR_MISSES[inputs["kind"]]:
        raise TaskGenerationError(f"n_near_misses must be in 1..{MAX_NEAR_MISSES[inputs['kind']]}")
    if not 0.0 < float(inputs["use_fraction"]) <= 1.0:
        raise TaskGenerationError(f"use_fraction must be in (0, 1], got {inputs['use_fraction']}")
    return inputs


@family
class RenameSymbol:
    name = "code_modification/rename_symbol"
    category = "code_modification"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        if difficulty not in MODULES:
            raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")
        kind = "class" if rng.random() < 0.5 else "function"
        low, high = USE_FRACTION[difficulty]
        return {
            "difficulty": difficulty,
            "kind": kind,
            "n_modules": _between(rng, MODULES[difficulty]),
            "use_fraction": round(float(rng.uniform(low, high)), 2),
            "n_near_misses": min(_between(rng, NEAR_MISSES[difficulty]), MAX_NEAR_MISSES[kind]),
            "n_stdlib_uses": _between(rng, STDLIB_USES[difficulty]),
        }

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        inputs = _inputs(params)
        r = _rendered(canonical_json(inputs), int(seed))
        m = r.meta
        old, new, pkg, test_path = m["old_name"], m["new_name"], m["package"], m["test_module"]
        totals = _identifier_totals(r.files, (old, new))
        near = {k: totals[k] for k in sorted(totals) if old in k and k != old}
        if not totals[old] or not near or any(new in k for k in totals):
            raise TaskGenerationError(f"rename_symbol rendered an unusable package for seed {seed}")
        tests = _test_asserts(r.files[test_path])
        word = re.compile(rf"\b{re.escape(old)}\b")
        gold = tuple(
            GoldStep(op="replace", args={"path": path, "old": word.pattern, "new": new, "regex": True})
            for path, text in sorted(r.files.items()) if path.endswith(".py") and word.search(text)
        )
        n = int(inputs["n_modules"])
        private = {
            **inputs,
            "old_name": old, "new_name": new, "package": pkg, "test_module": test_path,
            "defining_module": m["defining_module"], "n_users": len(m["user_modules"]),
            "affected_files": len(gold), "old_identifier_count": totals[old],
            # copies: the rendering is cached and shared by every spec built from it
            "near_misses": dict(near), "near_miss_homes": dict(m["near_miss_homes"]),
            "stdlib_near_misses": list(m["stdlib_near_misses"]), "tests": dict(tests),
        }
        kind_word = m["kind"]
        instructions = (
            f"Rename the {kind_word} `{old}` to `{new}` everywhere in the package `{pkg}/`: its "
            f"definition, every import and every use, and the tests. Do not change any other "
            f"name, including longer names that merely contain `{old}`. The tests in "
            f"`{test_path}` must pass afterwards."
        )
        return TaskSpec(
            id=task_id,
            category="code_modification",
            family=self.name,
            difficulty=int(inputs["difficulty"]),
            seed=int(seed),
            params=private,
            public={"old_name": old, "new_name": new, "kind": kind_word, "package": pkg,
                    "test_module": test_path},
            instructions=instructions,
            # A careful agent looks around, then edits each affected file about once and
            # runs the tests a few times: the budget grows with the package, never with
            # the condition.
            budget=end_of_day(40 + n, "the change"),
            checkers=(
                CheckerRef(name="no_identifier", args={"name": old, "paths": [pkg, "tests"]}),
                CheckerRef(name="defines_symbol", args={"path": m["defining_module"], "name": new}),
                CheckerRef(name="preserved_identifiers", args={"counts": near}),
                CheckerRef(name="tests_pass", args={"module": test_path, "timeout_s": TEST_TIMEOUT_S}),
                # The tests rename the symbol too: compared with the rename applied.
                CheckerRef(name="tests_intact", args={
                    "module": test_path, "normalise": {"rename": {old: new}},
                    "expected": fingerprint_tests(r.files[test_path], {"rename": {old: new}})}),
            ),
            gold=gold,
            # The shortcut a hurried engineer takes: a plain textual replace in every file,
            # which also rewrites the longer names that merely contain the old one.
            traps={"textual_replace": tuple(
                GoldStep(op="replace", args={"path": path, "old": old, "new": new})
                for path, text in sorted(r.files.items()) if path.endswith(".py") and old in text
            )},
        )

    def build_world(self, spec: TaskSpec) -> World:
        r = _rendered(canonical_json(_inputs(spec.params)), int(spec.seed))
        return World.from_snapshot({"files": r.files, "submission": None})


def _identifier_totals(files: dict[str, str], words: tuple[str, ...]) -> Counter[str]:
    """Identifier counts over the files that mention any of ``words`` (the others cannot
    hold a name containing one of them, and parsing is most of generate's time)."""
    totals: Counter[str] = Counter()
    for path, text in files.items():
        if path.endswith(".py") and any(w in text for w in words):
            totals.update(identifier_counts(text))
    return totals


def _test_asserts(source: str) -> dict[str, int]:
    tree = ast.parse(source)
    return {n.name: count_asserts(n) for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
