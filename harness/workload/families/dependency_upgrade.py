"""code_modification/dependency_upgrade: migrate a package to a vendored library's new API.

The vendored library ``vendor/<lib>/`` was upgraded to 2.0: functions were renamed,
a keyword renamed, argument orders changed, all documented in its CHANGELOG. The package
still calls the 1.x API, so its tests fail. The migration edits every call site; the
vendor directory must stay exactly as shipped. Changes and call sites grow with
difficulty; an argument-order change is invisible to a rename search and only the tests
catch a call left in the old order. Acceptance checks the agent never sees call every
migrated function on fresh amounts, so answering the visible tests' inputs (or rewriting
the tests) is no way through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.workload.families import codemod_common as cc
from harness.workload.names import NOUNS, pick, randint
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, GoldStep, TaskSpec
from harness.world import World

NAME = "code_modification/dependency_upgrade"
INPUT_KEYS = ("difficulty", "n_modules", "changes", "sites_per_change")
LIBS = ("moneta", "tallyho", "numerix", "ledgerlite", "pennywise")


@dataclass(frozen=True)
class Change:
    key: str
    old: str  # old function name
    new: str  # new function name
    source: str  # the 2.0 definition
    note: str  # CHANGELOG entry
    removed_keywords: tuple[str, ...] = ()


CHANGES = (
    Change("rename", "to_cents", "as_cents",
           "def as_cents(amount: float) -> int:\n    return int(round(amount * 100))\n",
           "`to_cents(amount)` was renamed to `as_cents(amount)`; the old name is gone."),
    Change("keyword", "scaled", "scaled",
           "def scaled(value: int, multiplier: int = 1) -> int:\n    return value * multiplier\n",
           "`scaled(value, factor=1)`: the keyword `factor` is now called `multiplier`.", ("factor",)),
    Change("order", "bounded", "bounded",
           "def bounded(low: int, high: int, value: int) -> int:\n    return max(low, min(value, high))\n",
           "`bounded(value, low, high)` now takes the bounds first: `bounded(low, high, value)`."),
    Change("rename_order", "ratio", "share",
           "def share(whole: int, part: int) -> int:\n    return part * 100 // whole if whole else 0\n",
           "`ratio(part, whole)` was replaced by `share(whole, part)` (note the order); `ratio` is gone."),
)
BY_KEY = {c.key: c for c in CHANGES}
N_CHANGES = {1: 1, 2: 2, 3: 3, 4: 3, 5: 4}
SITES = {1: 2, 2: 2, 3: 3, 4: 4, 5: 5}


def _call(key: str, callee: str, new: bool, x: str, k: int) -> str:
    """The call text of ``callee`` (with its module prefix if any) in the old or new API."""
    if key == "rename":
        return f"{callee}({x} / 100)"
    if key == "keyword":
        return f"{callee}({x}, {'multiplier' if new else 'factor'}={k})"
    if key == "order":
        return f"{callee}(0, {k * 10}, {x})" if new else f"{callee}({x}, 0, {k * 10})"
    return f"{callee}({x}, {x} // {k})" if new else f"{callee}({x} // {k}, {x})"


def _reference(key: str, x: int, k: int) -> int:
    if key == "rename":
        return int(round(x / 100 * 100))
    if key == "keyword":
        return x * k
    if key == "order":
        return max(0, min(x, k * 10))
    part = x // k
    return part * 100 // x if x else 0


@cc.renderer(NAME)
def render(inputs: dict[str, Any], rng: np.random.Generator, variant: str) -> tuple[dict[str, str], dict[str, Any]]:
    n, keys = int(inputs["n_modules"]), list(inputs["changes"])
    pkg = cc.new_package(rng, n, reserved=tuple(c.old for c in CHANGES) + tuple(c.new for c in CHANGES))
    lib = pick(rng, LIBS)
    new = variant == "solved"
    n_sites = 0
    drawn: list[tuple[int, str, str, int]] = []  # (module, function, change, k) of every call site
    for key in keys:
        change = BY_KEY[key]
        name = change.new if new else change.old
        for _ in range(int(inputs["sites_per_change"])):
            i = randint(rng, n)
            mod, fn, noun = pkg.mods[i], pkg.namer.function(), pick(rng, NOUNS)
            if rng.random() < 0.5:
                mod.import_std(f"from vendor.{lib} import {name}")
                callee = name
            else:
                mod.import_std(f"from vendor import {lib}")
                callee = f"{lib}.{name}"
            k = randint(rng, 2, 6)
            mod.blocks.append(f'def {fn}(amount: int) -> int:\n    """The {noun} figure of ``amount``."""\n'
                              f'    return {_call(key, callee, new, "amount", k)}\n')
            # Inputs above the bound, so a call left in the old order gives another answer.
            xs = [randint(rng, k * 10 + 1, k * 10 + 80) for _ in range(2)]
            pkg.tests.import_from(pkg.names[i], fn)
            pkg.add_test(f"test_{key}_callers", *(f"assert {fn}({x}) == {_reference(key, x, k)}" for x in xs))
            drawn.append((i, fn, key, k))
            n_sites += 1
    pkg.add_filler()
    version = f"2.{randint(rng, 10)}.0"
    vendor = {
        f"vendor/{lib}/__init__.py": (f'"""{lib} {version}: small money helpers (vendored; do not edit)."""\n\n'
                                      f'__version__ = "{version}"\n\n\n'
                                      + "\n\n".join(c.source for c in CHANGES)),
        f"vendor/{lib}/CHANGELOG.md": (f"# {lib} changelog\n\n## {version}\n\nBreaking changes:\n\n"
                                       + "".join(f"- {c.note}\n" for c in CHANGES)
                                       + "\n## 1.9.0\n\n- Faster rounding in `to_cents`.\n"),
    }
    if variant == "patch_vendor":  # the shortcut: teach the vendored module the old API
        vendor[f"vendor/{lib}/__init__.py"] += (
            "\n\n# compatibility shims for 1.x callers\nto_cents = as_cents\n\n\n"
            "def ratio(part: int, whole: int) -> int:\n    return share(whole, part)\n\n\n"
            "_scaled = scaled\n\n\ndef scaled(value: int, multiplier: int = 1, factor: int | None = None) -> int:\n"
            "    return _scaled(value, multiplier if factor is None else factor)\n")
    pkg.extra_files.update(vendor)
    return pkg.files(), {"package": pkg.name, "test_module": pkg.test_path, "lib": lib, "version": version,
                         "n_sites": n_sites, "hidden": _hidden(rng, pkg, drawn)}


def _hidden(rng: np.random.Generator, pkg: cc.Package, drawn: list[tuple[int, str, str, int]]) -> str:
    """Acceptance checks on fresh inputs (drawn last, so the package is the same with or
    without them): every migrated function on several amounts above its bound, where a
    call left in the old argument order gives another answer, and one within it. A site
    that answers only the visible tests' inputs fails."""
    by_module: dict[int, list[str]] = {}
    for i, fn, _, _ in drawn:
        by_module.setdefault(i, []).append(fn)
    lines = [f"from {pkg.name}.{pkg.names[i]} import {', '.join(sorted(fns))}" for i, fns in sorted(by_module.items())]
    tests = []
    for j, (_, fn, key, k) in enumerate(drawn):
        xs = [randint(rng, k * 10 + 1, k * 10 + 300) for _ in range(3)] + [randint(rng, 1, k * 10 + 1)]
        tests.append(f"def test_site_{j}() -> None:\n"
                     + "".join(f"    assert {fn}({x}) == {_reference(key, x, k)}\n" for x in xs))
    return "\n".join(lines) + "\n\n\n" + "\n\n".join(tests)


@family
class DependencyUpgrade:
    name = NAME
    category = "code_modification"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        cc.check_difficulty(difficulty)
        keys = [c.key for c in CHANGES]
        chosen = sorted(int(i) for i in rng.permutation(len(keys))[: N_CHANGES[difficulty]])
        if difficulty >= 3 and keys.index("order") not in chosen:  # the change a rename search misses
            chosen[0] = keys.index("order")
        return {"difficulty": difficulty, "n_modules": cc.between(rng, cc.MODULES[difficulty]),
                "changes": [keys[i] for i in sorted(set(chosen))], "sites_per_change": SITES[difficulty]}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        inputs = cc.pick_inputs(params, INPUT_KEYS, NAME)
        if not inputs["changes"] or any(k not in BY_KEY for k in inputs["changes"]):
            raise ValueError(f"changes must be a non-empty subset of {sorted(BY_KEY)}")
        initial, m = cc.rendered(NAME, inputs, seed, "initial")
        solved, _ = cc.rendered(NAME, inputs, seed, "solved")
        trap, _ = cc.rendered(NAME, inputs, seed, "patch_vendor")
        pkg, test_path, lib = m["package"], m["test_module"], m["lib"]
        used = [BY_KEY[k] for k in inputs["changes"]]
        vendor = {p: cc.sha(t) for p, t in initial.items() if p.startswith("vendor/")}
        tests = cc.test_asserts(initial[test_path])
        meta = {k: v for k, v in m.items() if k != "hidden"}
        init_path = f"vendor/{lib}/__init__.py"
        return TaskSpec(
            id=task_id, category="code_modification", family=self.name, difficulty=int(inputs["difficulty"]),
            seed=int(seed), params={**inputs, **meta, "tests": tests},
            public={"package": pkg, "library": lib, "vendor_dir": f"vendor/{lib}", "test_module": test_path},
            instructions=(
                f"The vendored library `vendor/{lib}/` was upgraded to {m['version']} and its API changed; see "
                f"`vendor/{lib}/CHANGELOG.md`. The package `{pkg}/` still uses the old API and the tests in "
                f"`{test_path}` fail. Migrate every use in the package to the new API. Do not edit anything "
                f"under `vendor/` and do not change the tests."),
            budget=cc.budget(int(inputs["n_modules"]), m["n_sites"]),
            checkers=(
                CheckerRef(name="no_old_api", args={
                    "names": sorted({c.old for c in used if c.old != c.new}),
                    "keywords": {c.new: list(c.removed_keywords) for c in used if c.removed_keywords},
                    "paths": [pkg]}),
                CheckerRef(name="files_unchanged", args={"digests": vendor, "prefix": "vendor"}),
                CheckerRef(name="tests_pass", args={"module": test_path, "timeout_s": cc.TEST_TIMEOUT_S}),
                cc.tests_intact(test_path, initial[test_path]),
                CheckerRef(name="hidden_tests_pass", args={"path": cc.HIDDEN_TEST_PATH, "source": m["hidden"],
                                                           "timeout_s": cc.TEST_TIMEOUT_S}),
            ),
            gold=cc.gold_writes(initial, solved),
            traps={"patch_vendor": (GoldStep(op="write", args={"path": init_path, "text": trap[init_path]}),)},
        )

    def build_world(self, spec: TaskSpec) -> World:
        files, _ = cc.rendered(NAME, cc.pick_inputs(spec.params, INPUT_KEYS, NAME), spec.seed, "initial")
        return World.from_snapshot({"files": files, "submission": None})
