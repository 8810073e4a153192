"""code_modification/follow_convention: a team convention told in session 1 must shape
the code written in session 2.

Session 1 tells a convention that is written nowhere in the workspace (legacy code
predates it): either money-returning functions of one module carry the suffix ``_cents``
and a docstring starting with ``Returns``, or new modules log through the package's
``get_logger(__name__)`` and never print. Session 2 asks for a feature (N functions)
without repeating it. Acceptance checks call the new functions by the names the
convention implies, so an agent that forgot it fails twice over.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from harness.workload.checkers.codemod import top_level
from harness.workload.families import codemod_common as cc
from harness.workload.names import NOUNS, pick, randint
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, GoldStep, Probe, SessionSpec, TaskSpec
from harness.world import World

NAME = "code_modification/follow_convention"
INPUT_KEYS = ("difficulty", "n_modules", "convention", "features", "n_legacy")
# stem -> (parameters, what it returns (asked for in session 2), body)
FEATURES = {
    "tax": ("amount: int, rate: int", "the tax on `amount` at `rate` percent, rounded down",
            "return amount * rate // 100"),
    "discounted": ("amount: int, percent: int", "`amount` after taking `percent` percent off (the part "
                   "taken off rounded down)", "return amount - amount * percent // 100"),
    "shipping": ("items: int", "the shipping cost of `items` items: 500 plus 25 per item",
                 "return 500 + 25 * items"),
    "refund": ("amount: int", "the refund for `amount`: the amount minus a fixed fee of 150, never below 0",
               "return max(amount - 150, 0)"),
    "installment": ("amount: int, parts: int", "one of `parts` equal installments of `amount`, rounded up",
                    "return -(-amount // parts)"),
}
STEMS = tuple(sorted(FEATURES))
N_FEATURES = {1: 2, 2: 2, 3: 3, 4: 3, 5: 4}
LEGACY = {1: (1, 2), 2: (2, 3), 3: (2, 4), 4: (3, 5), 5: (4, 6)}


def _args(stem: str, rng: np.random.Generator) -> list[int]:
    return [randint(rng, 1, 5000) if p.startswith("amount") else randint(rng, 1, 40)
            for p in FEATURES[stem][0].split(", ")]


def _feature(stem: str, name: str, doc: str, logger: str | None) -> str:
    params, _, body = FEATURES[stem]
    if logger is None:
        return f'def {name}({params}) -> int:\n    """{doc}"""\n    {body}\n'
    value = body.removeprefix("return ")
    return (f'def {name}({params}) -> int:\n    """{doc}"""\n    result = {value}\n'
            f'    {logger}("{stem} computed %s", result)\n    return result\n')


def _legacy(rng: np.random.Generator, name: str, printing: bool) -> str:
    noun, k = pick(rng, NOUNS), randint(rng, 2, 9)
    report = f'    print(f"{noun}: {{total}}")\n' if printing else ""
    return (f'def {name}(amounts: list[int]) -> int:\n    """Total {noun} amount, {k} per line added."""\n'
            f"    total = sum(amounts) + {k} * len(amounts)\n{report}    return total\n")


@cc.renderer(NAME)
def render(inputs: dict[str, Any], rng: np.random.Generator, variant: str) -> tuple[dict[str, str], dict[str, Any]]:
    n, kind, stems = int(inputs["n_modules"]), inputs["convention"], list(inputs["features"])
    pkg = cc.new_package(rng, n, reserved=tuple(stems) + ("cents", "logger", "Returns"))
    target = 0  # the module the convention (money) or the new module's neighbour (logging) is about
    legacy = []
    for j in range(int(inputs["n_legacy"])):
        name = pkg.namer.function()
        legacy.append(name)
        # Legacy code predates the convention: plain names, and (for logging) print; the
        # tested one stays quiet so test runs print nothing.
        pkg.mods[target].blocks.append(_legacy(rng, name, printing=kind == "logging" and j > 0))
    pkg.tests.import_from(pkg.names[target], legacy[0])
    vals = [randint(rng, 0, 40) for _ in range(3)]
    pkg.add_test("test_legacy_totals", f"assert {legacy[0]}([]) == 0", f"assert {legacy[0]}({vals}) >= {sum(vals)}")
    logs = pkg.namer.module() if kind == "logging" else ""
    new_module = pkg.namer.module() if kind == "logging" else ""
    pkg.add_filler()
    files = pkg.files()
    if logs:
        files[f"{pkg.name}/{logs}.py"] = ('"""Logging set-up shared by the package."""\n\nimport logging\n\n\n'
                                          "def get_logger(name: str) -> logging.Logger:\n"
                                          "    return logging.getLogger(name)\n")
    target_path = pkg.path(target)
    cases = {stem: [_args(stem, rng) for _ in range(3)] for stem in stems}
    follow = variant == "solved"
    if variant != "initial":
        if kind == "money":
            blocks = [_feature(s, f"{s}_cents" if follow else s,
                               ("Returns " if follow else "") + FEATURES[s][1].replace("`", "``"), None)
                      for s in stems]
            files[target_path] = files[target_path] + "\n\n" + "\n\n".join(blocks)
        else:
            head = f'"""Checkout figures."""\n\nfrom {pkg.name}.{logs} import get_logger\n\nlog = get_logger(__name__)\n'
            if not follow:
                head = '"""Checkout figures."""\n'
            call = "log.info" if follow else "print"
            body = [_feature(s, s, FEATURES[s][1].replace("`", "``"), call) for s in stems]
            files[f"{pkg.name}/{new_module}.py"] = head + "\n\n" + "\n\n".join(body)
    names = {s: f"{s}_cents" if kind == "money" else s for s in stems}
    home = pkg.names[target] if kind == "money" else new_module
    refs = {s: cc.run_reference(_feature(s, "f", "", None), "f") for s in stems}
    hidden = ("import contextlib\nimport io\n\n"
              f"from {pkg.name}.{home} import {', '.join(sorted(names.values()))}\n\n\n"
              "def test_acceptance() -> None:\n    with contextlib.redirect_stdout(io.StringIO()):\n"
              + "".join(f"        assert {names[s]}({', '.join(map(str, a))}) == {refs[s](*a)}\n"
                        for s in stems for a in cases[s]))
    return files, {"package": pkg.name, "test_module": pkg.test_path, "target": target_path, "legacy": legacy,
                   "logs_module": f"{pkg.name}/{logs}.py" if logs else None,
                   "new_module": f"{pkg.name}/{new_module}.py" if new_module else None, "hidden": hidden}


@family
class FollowConvention:
    name = NAME
    category = "code_modification"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        cc.check_difficulty(difficulty)
        chosen = sorted(STEMS[int(i)] for i in rng.permutation(len(STEMS))[: N_FEATURES[difficulty]])
        return {"difficulty": difficulty, "n_modules": cc.between(rng, cc.MODULES[difficulty]),
                "convention": "money" if rng.random() < 0.5 else "logging", "features": chosen,
                "n_legacy": cc.between(rng, LEGACY[difficulty])}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        inputs = cc.pick_inputs(params, INPUT_KEYS, NAME)
        if inputs["convention"] not in ("money", "logging") or not inputs["features"] \
                or any(s not in FEATURES for s in inputs["features"]):
            raise ValueError(f"follow_convention params must be valid, got {inputs}")
        initial, m = cc.rendered(NAME, inputs, seed, "initial")
        solved, _ = cc.rendered(NAME, inputs, seed, "solved")
        ignored, _ = cc.rendered(NAME, inputs, seed, "ignore_convention")
        pkg, test_path, stems = m["package"], m["test_module"], list(inputs["features"])
        listing = "".join(f"\n- `{s}({FEATURES[s][0]})`: returns {FEATURES[s][1]}." for s in stems)
        if inputs["convention"] == "money":
            convention = (f"every public function in `{m['target']}` that returns a money amount is named with the "
                          f"suffix `_cents` and has a docstring starting with `Returns`")
            ask = f"Add these functions to `{m['target']}` (the stem of each name is given):{listing}"
            path, checker_args = m["target"], {"kind": "money", "suffix": "_cents", "doc_prefix": "Returns"}
            # Not "Returns": session 2's feature list says "returns" too, so it would prove nothing.
            probe = Probe(told_in=0, question=f"What is the team convention for naming the public functions in "
                                              f"`{m['target']}` that return a money amount?", expect=("_cents",))
            existing = sorted(top_level(ast.parse(initial[path])))
        else:
            convention = (f"new modules log through `get_logger(__name__)` from `{m['logs_module']}` (one "
                          f"module-level logger), every function logs the figure it computed, and nobody uses print")
            ask = (f"Create the module `{m['new_module']}` with these functions; each reports the figure it "
                   f"computed:{listing}")
            path, checker_args, existing = m["new_module"], {"kind": "logging", "logger": "get_logger"}, []
            probe = Probe(told_in=0, question="How do new modules log, by the team convention?",
                          expect=("get_logger", "print"))
        changed = [p for p in sorted(solved) if initial.get(p) != solved[p]]
        tests = cc.test_asserts(initial[test_path])
        return TaskSpec(
            id=task_id, category="code_modification", family=self.name, difficulty=int(inputs["difficulty"]),
            seed=int(seed), params={**inputs, **{k: v for k, v in m.items() if k != "hidden"}, "tests": tests},
            public={"package": pkg, "test_module": test_path},
            instructions=(f"You maintain the package `{pkg}/` over two sessions. Code you write must follow the "
                          f"team's conventions, and the tests in `{test_path}` must keep passing."),
            sessions=(
                SessionSpec(asks=f"Team convention, not written down anywhere yet: {convention}. Older code predates "
                                 f"it and stays as it is. Get to know the package; no change is needed today."),
                SessionSpec(asks=ask),
            ),
            knowledge=(convention,),
            probes=(probe,),
            budget=cc.budget(int(inputs["n_modules"]), 2 * len(stems)),
            checkers=(
                CheckerRef(name="convention_followed", args={"path": path, "existing": existing,
                                                             "min_new": len(stems), **checker_args}),
                CheckerRef(name="hidden_tests_pass", args={"path": cc.HIDDEN_TEST_PATH, "source": m["hidden"],
                                                           "timeout_s": cc.TEST_TIMEOUT_S}),
                CheckerRef(name="tests_pass", args={"module": test_path, "timeout_s": cc.TEST_TIMEOUT_S}),
                cc.tests_intact(test_path, initial[test_path]),
            ),
            gold=cc.gold_writes(initial, solved),
            traps={"ignore_convention": tuple(GoldStep(op="write", args={"path": p, "text": ignored[p]})
                                              for p in changed)},
        )

    def build_world(self, spec: TaskSpec) -> World:
        files, _ = cc.rendered(NAME, cc.pick_inputs(spec.params, INPUT_KEYS, NAME), spec.seed, "initial")
        return World.from_snapshot({"files": files, "submission": None})
