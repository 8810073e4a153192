"""code_modification/extract_helper: one block is copied into k functions; move it into a
named helper and call that from every former copy.

The copies sit in functions across the package (k grows with difficulty), each followed
by its own use of the result, among filler code. Success is structural: the helper is
defined once where asked, no function but the helper still holds a statement of the
block (compared by syntax tree), every former site calls the helper, and the tests pass
untouched. Acceptance checks the agent never sees call the helper and every former site
on fresh inputs, so a helper that is called but computes nothing (the copies kept in a
disguise) or sites that answer only the visible tests' inputs fail.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from harness.workload.checkers.codemod import node_digest
from harness.workload.families import codemod_common as cc
from harness.workload.names import NOUNS, pick, plural, randint
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, GoldStep, TaskSpec
from harness.world import World

NAME = "code_modification/extract_helper"
INPUT_KEYS = ("difficulty", "n_modules", "n_sites", "block")
# block -> (statements over ``values`` leaving ``cleaned``; {a} {b} are literals, what it does)
BLOCKS = {
    "cap": ("cleaned = [item for item in values if item >= 0]\ncleaned.sort()\ncleaned = cleaned[:{a}]",
            "keeps the non-negative amounts, sorts them and keeps the {a} smallest"),
    "dedupe": ("seen = set()\ncleaned = []\nfor item in values:\n    if item not in seen and item != {a}:\n"
               "        seen.add(item)\n        cleaned.append(item)",
               "drops repeated amounts and the sentinel {a}, keeping first occurrences in order"),
    "clamp": ("cleaned = [min(max(item, {a}), {b}) for item in values]\ncleaned = [item for item in cleaned if item != {a}]",
              "clamps every amount into [{a}, {b}] and drops those at the lower bound"),
}
SITES = {1: (2, 2), 2: (3, 3), 3: (3, 4), 4: (5, 6), 5: (7, 9)}
USES = ("sum(cleaned) * {k}", "len(cleaned) + {k}", "max(cleaned, default=0) - {k}", "sum(cleaned[:{k}])")


def block_text(key: str, a: int, b: int) -> str:
    return BLOCKS[key][0].format(a=a, b=b)


def distinctive(block: str) -> list[str]:
    """Digests of the block's statements that read the input: the ones a copy must hold."""
    return [node_digest(s) for s in ast.parse(block).body if "values" in ast.dump(s)]


@cc.renderer(NAME)
def render(inputs: dict[str, Any], rng: np.random.Generator, variant: str) -> tuple[dict[str, str], dict[str, Any]]:
    n, key = int(inputs["n_modules"]), inputs["block"]
    pkg = cc.new_package(rng, n, reserved=("cleaned",))
    a, b = randint(rng, 2, 6), randint(rng, 20, 40)
    block = block_text(key, a, b)
    helper = pkg.namer.draw(lambda r: f"clean_{plural(pick(r, NOUNS))}", "helper name")
    home = 0
    ref_src = f"def {helper}(values: list[int]) -> list[int]:\n{cc.indent(block)}\n    return cleaned\n"
    ref = cc.run_reference(ref_src, helper)
    if variant == "solved":
        pkg.mods[home].blocks.append(ref_src.replace("-> list[int]:\n", '-> list[int]:\n    """The amounts '
                                                     'cleaned the shared way."""\n', 1))
    sites: dict[str, list[str]] = {}
    drawn: list[tuple[int, str, str]] = []  # (module, function, use of ``cleaned``) of every copy
    for _ in range(int(inputs["n_sites"])):
        i, fn, noun = randint(rng, n), pkg.namer.function(), pick(rng, NOUNS)
        k = randint(rng, 1, 5)
        use = USES[randint(rng, len(USES))].format(k=k)
        cases = [[randint(rng, -5, 45) for _ in range(randint(rng, 5, 10))] for _ in range(2)]
        drawn.append((i, fn, use))
        if variant == "delete_sites":
            continue
        if variant == "solved":
            body = f"    cleaned = {helper}(values)\n"
            if i != home:
                pkg.mods[i].import_from(pkg.names[home], helper)
        else:
            body = cc.indent(block) + "\n"
        pkg.mods[i].blocks.append(f'def {fn}(values: list[int]) -> int:\n    """The {noun} figure of the '
                                  f'cleaned amounts."""\n{body}    return {use}\n')
        sites.setdefault(pkg.path(i), []).append(fn)
        pkg.tests.import_from(pkg.names[i], fn)
        expect = cc.run_reference(f"def f(cleaned):\n    return {use}\n", "f")
        pkg.add_test(f"test_{fn}", *(f"assert {fn}({c}) == {expect(ref(c))}" for c in cases))
    pkg.add_filler()
    return pkg.files(), {"package": pkg.name, "test_module": pkg.test_path, "helper": helper,
                         "helper_module": pkg.path(home), "sites": sites, "block_source": block,
                         "what": BLOCKS[key][1].format(a=a, b=b),
                         "hidden": _hidden(rng, pkg, helper, home, ref, drawn, (a, b))}


def _fresh(rng: np.random.Generator, bounds: tuple[int, int]) -> list[int]:
    """Amounts no visible test used, with what every block treats specially: negatives,
    repeats, the sentinel / lower bound and values above the upper bound."""
    values = [randint(rng, -5, 46) for _ in range(randint(rng, 5, 11))]
    values += [values[0], bounds[0], -randint(rng, 1, 6), bounds[1] + randint(rng, 1, 9)]
    return [values[int(j)] for j in rng.permutation(len(values))]


def _hidden(rng: np.random.Generator, pkg: cc.Package, helper: str, home: int, ref: Any,
            drawn: list[tuple[int, str, str]], bounds: tuple[int, int]) -> str:
    """Acceptance checks on fresh inputs (drawn after everything else, so the package is
    the same with or without them): the helper computes what the block computed, and
    every former copy's function still returns what it did."""
    lines = [f"from {pkg.name}.{pkg.names[home]} import {helper}"]
    by_module: dict[int, list[str]] = {}
    for i, fn, _ in drawn:
        by_module.setdefault(i, []).append(fn)
    lines += [f"from {pkg.name}.{pkg.names[i]} import {', '.join(sorted(fns))}" for i, fns in sorted(by_module.items())]
    helper_cases = [_fresh(rng, bounds) for _ in range(6)] + [[]]
    tests = [f"def test_{helper}() -> None:\n"
             + "".join(f"    assert list({helper}({c})) == {ref(c)}\n" for c in helper_cases)]
    for j, (_, fn, use) in enumerate(drawn):
        expect = cc.run_reference(f"def f(cleaned):\n    return {use}\n", "f")
        cases = [_fresh(rng, bounds) for _ in range(3)]
        tests.append(f"def test_site_{j}() -> None:\n"
                     + "".join(f"    assert {fn}({c}) == {expect(ref(c))}\n" for c in cases))
    return "\n".join(lines) + "\n\n\n" + "\n\n".join(tests)


@family
class ExtractHelper:
    name = NAME
    category = "code_modification"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        cc.check_difficulty(difficulty)
        return {"difficulty": difficulty, "n_modules": cc.between(rng, cc.MODULES[difficulty]),
                "n_sites": cc.between(rng, SITES[difficulty]), "block": sorted(BLOCKS)[int(rng.integers(len(BLOCKS)))]}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        inputs = cc.pick_inputs(params, INPUT_KEYS, NAME)
        if inputs["block"] not in BLOCKS or int(inputs["n_sites"]) < 2:
            raise ValueError(f"extract_helper needs a known block and at least 2 sites, got {inputs}")
        initial, m = cc.rendered(NAME, inputs, seed, "initial")
        solved, _ = cc.rendered(NAME, inputs, seed, "solved")
        vandal, _ = cc.rendered(NAME, inputs, seed, "delete_sites")
        pkg, test_path, helper = m["package"], m["test_module"], m["helper"]
        tests = cc.test_asserts(initial[test_path])
        meta = {k: v for k, v in m.items() if k != "hidden"}
        n_sites = int(inputs["n_sites"])
        return TaskSpec(
            id=task_id, category="code_modification", family=self.name, difficulty=int(inputs["difficulty"]),
            seed=int(seed), params={**inputs, **meta, "tests": tests},
            public={"package": pkg, "helper": helper, "helper_module": m["helper_module"], "test_module": test_path},
            instructions=(
                f"The package `{pkg}/` repeats the same block of code in several functions; it {m['what']}:\n\n"
                f"{cc.indent(m['block_source'])}\n\nExtract it into one helper `{helper}(values)` in "
                f"`{m['helper_module']}` that returns `cleaned`, and make every function that holds a copy call "
                f"the helper instead. Behaviour must not change; the tests in `{test_path}` must pass unchanged."),
            budget=cc.budget(int(inputs["n_modules"]), n_sites),
            checkers=(
                CheckerRef(name="defined_once", args={"name": helper, "path": m["helper_module"], "paths": [pkg]}),
                CheckerRef(name="no_duplicate_block", args={"statements": distinctive(m["block_source"]),
                                                            "helper": helper, "paths": [pkg]}),
                CheckerRef(name="functions_call", args={"sites": m["sites"], "callee": helper}),
                CheckerRef(name="tests_pass", args={"module": test_path, "timeout_s": cc.TEST_TIMEOUT_S}),
                cc.tests_intact(test_path, initial[test_path]),
                CheckerRef(name="hidden_tests_pass", args={"path": cc.HIDDEN_TEST_PATH, "source": m["hidden"],
                                                           "timeout_s": cc.TEST_TIMEOUT_S}),
            ),
            gold=cc.gold_writes(initial, solved),
            traps={"delete_sites": tuple(GoldStep(op="write", args={"path": p, "text": t})
                                         for p, t in sorted(vandal.items()) if initial.get(p) != t)},
        )

    def build_world(self, spec: TaskSpec) -> World:
        files, _ = cc.rendered(NAME, cc.pick_inputs(spec.params, INPUT_KEYS, NAME), spec.seed, "initial")
        return World.from_snapshot({"files": files, "submission": None})
