"""code_modification/fix_bug: one injected bug makes a test fail; fix it, not the test.

The package holds several small functions from a catalog (counting, windows, paging,
fees), each tested. In one of them a bug is injected: an off-by-one, a wrong comparison
operator or a wrong constant. From difficulty 3 a caller in a later module uses the buggy
function, so the first failing test may point at the caller rather than the bug. The
test module must stay byte-identical; acceptance checks the agent never sees exercise
the fixed function on fresh inputs, so special-casing the visible test values fails.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.workload.checkers.codemod import node_digest, top_level
from harness.workload.families import codemod_common as cc
from harness.workload.names import NOUNS, pick, plural, randint
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, GoldStep, TaskSpec
from harness.world import World

NAME = "code_modification/fix_bug"
INPUT_KEYS = ("difficulty", "n_modules", "n_functions", "bug", "with_caller")


@dataclass(frozen=True)
class Bug:
    key: str
    kind: str  # off_by_one | comparison | constant
    name: str  # "{verb}_{nouns}" style template over {nouns}
    body: str  # uses ``values`` and ``k``; ``{C}`` is the module constant
    wrong: tuple[str, str]  # body text -> buggy text (empty for constant bugs)
    k: tuple[int, int]  # range of the second argument
    doc: str
    const: int = 0


CATALOG = (
    Bug("count_over", "comparison", "count_{nouns}_over", "return sum(1 for item in values if item > k)",
        ("item > k", "item >= k"), (3, 20), "How many values exceed ``k``."),
    Bug("below", "comparison", "{nouns}_below", "return [item for item in values if item < k]",
        ("item < k", "item <= k"), (3, 20), "The values strictly below ``k``, in order."),
    Bug("window", "off_by_one", "window_{nouns}",
        "return [sum(values[i:i + k]) for i in range(len(values) - k + 1)]",
        ("len(values) - k + 1", "len(values) - k"), (1, 4), "The sum of every window of ``k`` consecutive values."),
    Bug("latest", "off_by_one", "latest_{nouns}", "return values[len(values) - k:]",
        ("len(values) - k:", "len(values) - k + 1:"), (1, 4), "The last ``k`` values."),
    Bug("pages", "off_by_one", "{noun}_pages", "return (len(values) + k - 1) // k",
        ("+ k - 1)", "+ k)"), (2, 5), "How many pages of ``k`` values the values fill."),
    Bug("fee", "constant", "{nouns}_with_fee",
        "subtotal = sum(values) + k;return subtotal + subtotal * {C} // 100", ("", ""), (0, 9),
        "The total plus ``k``, with the percentage fee on top.", 3),
    Bug("step", "constant", "rounded_{nouns}", "total = sum(values) * k;return total - total % {C}",
        ("", ""), (1, 4), "The total times ``k``, rounded down to the step.", 5),
)
KEYS = tuple(b.key for b in CATALOG)
BY_KEY = {b.key: b for b in CATALOG}
N_FUNCTIONS = {1: (1, 2), 2: (2, 3), 3: (3, 4), 4: (4, 5), 5: (5, 7)}


@dataclass
class Placed:
    bug: Bug
    name: str
    const_name: str
    module: int
    ref: Callable[..., Any]
    source_ok: str
    source_bad: str


def _sources(bug: Bug, name: str, const_name: str) -> tuple[str, str]:
    body = bug.body.replace("{C}", const_name)
    head = (f"def {name}(values: list[int], k: int) -> {'list[int]' if bug.key in ('below', 'window', 'latest') else 'int'}:\n"
            f'    """{bug.doc}"""\n')
    ok = head + "\n".join("    " + line for line in body.split(";")) + "\n"
    if bug.kind == "constant":
        const = f"{const_name} = {bug.const}\n"
        wrong = f"{const_name} = {bug.const + 1 if bug.key == 'fee' else bug.const * 2}\n"
        return const + "\n\n" + ok, wrong + "\n\n" + ok
    return ok, ok.replace(bug.wrong[0], bug.wrong[1])


def _values(rng: np.random.Generator) -> list[int]:
    return [randint(rng, 0, 30) for _ in range(randint(rng, 4, 9))]


def _revealing(rng: np.random.Generator, good: Callable, bad: Callable, bug: Bug) -> tuple[list[int], int]:
    for _ in range(200):
        values, k = _values(rng), randint(rng, bug.k[0], bug.k[1] + 1)
        if bug.key in ("count_over", "below"):
            values[randint(rng, len(values))] = k  # the boundary case the comparison gets wrong
        if good(values, k) != bad(values, k):
            return values, k
    raise AssertionError(f"no revealing input for {bug.key}")  # pragma: no cover - catalog bug


@cc.renderer(NAME)
def render(inputs: dict[str, Any], rng: np.random.Generator, variant: str) -> tuple[dict[str, str], dict[str, Any]]:
    n, d = int(inputs["n_modules"]), int(inputs["difficulty"])
    solved = variant == "solved"
    pkg = cc.new_package(rng, n)
    keys = [inputs["bug"]] + [k for k in (KEYS[int(i)] for i in rng.permutation(len(KEYS))) if k != inputs["bug"]]
    keys = keys[: int(inputs["n_functions"])]
    placed: list[Placed] = []
    for j, key in enumerate(keys):
        bug = BY_KEY[key]
        name = pkg.namer.draw(lambda r, b=bug: b.name.format(nouns=plural(pick(r, NOUNS)), noun=pick(r, NOUNS)), "function")
        suffix = "FEE_PERCENT" if key == "fee" else "STEP"
        const = pkg.namer.draw(lambda r, s=suffix: f"{pick(r, NOUNS).upper()}_{s}", "constant")
        ok, bad = _sources(bug, name, const)
        module = randint(rng, max(1, n - 1)) if j == 0 or rng.random() < 0.5 else randint(rng, n)
        good_fn, bad_fn = cc.run_reference(ok, name), cc.run_reference(bad, name)
        buggy = j == 0
        pkg.mods[module].blocks.append(bad if buggy and not solved else ok)
        pkg.tests.import_from(pkg.names[module], name)
        cases = [_revealing(rng, good_fn, bad_fn, bug) if buggy else (_values(rng), randint(rng, bug.k[0], bug.k[1] + 1))
                 for _ in range(2)]
        pkg.add_test(f"test_{name}", *(f"assert {name}({v}, {k}) == {good_fn(v, k)!r}" for v, k in cases))
        placed.append(Placed(bug, name, const, module, good_fn, ok, bad))
    target = placed[0]
    failing = [f"test_{target.name}"]
    caller = None
    if inputs["with_caller"]:
        at = randint(rng, target.module + 1, n)
        caller = pkg.namer.function()
        k = randint(rng, target.bug.k[0], target.bug.k[1] + 1)
        pkg.mods[at].import_from(pkg.names[target.module], target.name)
        pkg.mods[at].blocks.append(f'def {caller}(groups: list[list[int]]) -> list:\n'
                                   f'    """One {target.bug.key.replace("_", " ")} figure per group."""\n'
                                   f'    return [{target.name}(group, {k}) for group in groups]\n')
        groups = [_revealing(rng, target.ref, cc.run_reference(target.source_bad, target.name), target.bug)[0]
                  for _ in range(2)]
        pkg.tests.import_from(pkg.names[at], caller)
        pkg.add_test(f"test_{caller}", f"assert {caller}({groups}) == {[target.ref(g, k) for g in groups]!r}")
        failing.append(f"test_{caller}")
    pkg.add_filler((1, 2 + d // 2))
    hidden_cases = [(_values(rng), randint(rng, target.bug.k[0], target.bug.k[1] + 1)) for _ in range(6)]
    hidden_cases.append(_revealing(rng, target.ref, cc.run_reference(target.source_bad, target.name), target.bug))
    hidden = (f"from {pkg.name}.{pkg.names[target.module]} import {target.name}\n\n\n"
              "def test_acceptance() -> None:\n"
              + "".join(f"    assert {target.name}({v}, {k}) == {target.ref(v, k)!r}\n" for v, k in hidden_cases))
    files = pkg.files()
    meta = {"package": pkg.name, "test_module": pkg.test_path, "bug_module": pkg.path(target.module),
            "function": target.name, "constant": target.const_name if target.bug.kind == "constant" else None,
            "failing_tests": failing, "caller": caller, "hidden": hidden,
            "tested_modules": sorted({pkg.path(p.module) for p in placed} | ({pkg.path(at)} if caller else set()))}
    return files, meta


def _drop_tests(source: str, names: list[str]) -> str:
    tree = ast.parse(source)
    tree.body = [n for n in tree.body if not (isinstance(n, ast.FunctionDef) and n.name in names)]
    return ast.unparse(tree) + "\n"


@family
class FixBug:
    name = NAME
    category = "code_modification"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        cc.check_difficulty(difficulty)
        return {"difficulty": difficulty, "n_modules": cc.between(rng, cc.MODULES[difficulty]),
                "n_functions": cc.between(rng, N_FUNCTIONS[difficulty]),
                "bug": KEYS[int(rng.integers(len(KEYS)))], "with_caller": difficulty >= 3}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        inputs = cc.pick_inputs(params, INPUT_KEYS, NAME)
        if inputs["bug"] not in BY_KEY:
            raise ValueError(f"bug must be one of {KEYS}, got {inputs['bug']!r}")
        initial, m = cc.rendered(NAME, inputs, seed, "initial")
        solved, _ = cc.rendered(NAME, inputs, seed, "solved")
        pkg, test_path = m["package"], m["test_module"]
        site = {m["function"], m["constant"]} - {None}
        others = {}
        # Other definitions are pinned where a compensating edit could hide the bug: the
        # modules under test (the fixed function itself is judged by acceptance checks).
        for path, text in sorted(solved.items()):
            if path in m["tested_modules"]:
                defs = {k: node_digest(v) for k, v in top_level(ast.parse(text)).items() if k not in site}
                if defs:
                    others[path] = defs
        private = {**inputs, **{k: v for k, v in m.items() if k != "hidden"}, "tests": cc.test_asserts(initial[test_path])}
        failing = m["failing_tests"]
        n = int(inputs["n_modules"])
        return TaskSpec(
            id=task_id, category="code_modification", family=self.name, difficulty=int(inputs["difficulty"]),
            seed=int(seed), params=private,
            # Which tests fail is for the agent to find out by running them: their names
            # would point straight at the buggy function.
            public={"package": pkg, "test_module": test_path},
            instructions=(
                f"Some tests in `{test_path}` fail. The tests are right; a bug in the package `{pkg}/` "
                f"is wrong. Find the bug and fix it where it is. Do "
                f"not edit the test module, and do not change code that is not part of the bug."),
            budget=cc.budget(n, 2 * len(failing)),
            checkers=(
                CheckerRef(name="tests_pass", args={"module": test_path, "timeout_s": cc.TEST_TIMEOUT_S}),
                CheckerRef(name="files_unchanged", args={"digests": {test_path: cc.sha(initial[test_path])}}),
                CheckerRef(name="definitions_unchanged", args={"digests": others}),
                CheckerRef(name="hidden_tests_pass", args={"path": cc.HIDDEN_TEST_PATH, "source": m["hidden"],
                                                           "timeout_s": cc.TEST_TIMEOUT_S}),
            ),
            gold=cc.gold_writes(initial, solved),
            traps={"delete_failing_test": (GoldStep(op="write", args={
                "path": test_path, "text": _drop_tests(initial[test_path], failing)}),)},
        )

    def build_world(self, spec: TaskSpec) -> World:
        files, _ = cc.rendered(NAME, cc.pick_inputs(spec.params, INPUT_KEYS, NAME), spec.seed, "initial")
        return World.from_snapshot({"files": files, "submission": None})
