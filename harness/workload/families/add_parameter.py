"""code_modification/add_parameter: turn a hard-coded value into a parameter and pass it
explicitly at every call site.

One function hard-codes a value (a rounding step, a cap, an offset, a divisor). The task
makes it a keyword-only parameter (required from difficulty 3, otherwise with the old
value as default) and has every call site in the package and the tests pass the value
explicitly, so behaviour is unchanged; the tests gain a check of the new parameter.
Call sites grow with difficulty, in several call styles; from difficulty 3 a class
elsewhere has a method of the same name that must be left alone. From difficulty 4 the
task spans two sessions: the parameter's name and value are decided in the first and
needed in the second.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.workload.families import codemod_common as cc
from harness.workload.names import NOUNS, pick, randint
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, GoldStep, Probe, SessionSpec, TaskSpec
from harness.world import World

NAME = "code_modification/add_parameter"
INPUT_KEYS = ("difficulty", "n_modules", "n_sites", "param", "required", "sessions")
# parameter -> (body with {p}, range of the value callers pass, what the value is)
# The names are what a design review would settle on, not the obvious word for the value,
# so in a two-session task the name cannot be guessed from the code or the instructions.
PARAMS = {
    "granularity": ("total = sum(values) * scale;return total - total % {p}", (3, 10), "rounding step"),
    "ceiling": ("return min(sum(values), {p}) * scale", (40, 90), "cap on the sum"),
    "allowance": ("return (sum(values) + {p}) * scale", (2, 20), "fixed amount added to the sum"),
    "denominator": ("return sum(values) * scale // {p}", (2, 7), "divisor of the total"),
}
SITES = {1: (2, 3), 2: (3, 5), 3: (5, 7), 4: (7, 10), 5: (10, 14)}


def _function_source(fn: str, param: str, value: int, variant: str, required: bool) -> str:
    body, _, what = PARAMS[param]
    if variant == "initial":
        sig, filled = "", str(value)
    else:
        default = "" if required and variant == "solved" else f" = {value}"
        sig, filled = f", *, {param}: int{default}", param
    lines = "\n".join("    " + line for line in body.format(p=filled).split(";"))
    return (f"def {fn}(values: list[int], scale: int = 1{sig}) -> int:\n"
            f'    """The figure of ``values`` times ``scale``, using the {what}."""\n{lines}\n')


@cc.renderer(NAME)
def render(inputs: dict[str, Any], rng: np.random.Generator, variant: str) -> tuple[dict[str, str], dict[str, Any]]:
    n, param = int(inputs["n_modules"]), inputs["param"]
    pkg = cc.new_package(rng, n, reserved=(param,))
    fn = pkg.namer.function()
    home = pkg.names[0]
    low, high = PARAMS[param][1]
    value = randint(rng, low, high + 1)
    source = _function_source(fn, param, value, variant, bool(inputs["required"]))
    pkg.mods[0].blocks.append(source)
    ref = cc.run_reference(_function_source(fn, param, value, "solved", True), fn)
    passes = variant == "solved"
    arg = f", {param}={value}" if passes else ""

    def call(callee: str, values: str, scale: str = "") -> str:
        return f"{callee}({values}{', ' + scale if scale else ''}{arg})"

    pkg.tests.import_from(home, fn)
    v1, v2 = [randint(rng, 0, 30) for _ in range(5)], [randint(rng, 0, 30) for _ in range(4)]
    pkg.add_test(f"test_{fn}", f"assert {call(fn, str(v1))} == {ref(v1, **{param: value})}",
                 f"assert {call(fn, str(v2), '3')} == {ref(v2, 3, **{param: value})}")
    n_calls = 2  # the direct calls in the test module
    for site in range(int(inputs["n_sites"])):
        i = 1 + randint(rng, n - 1) if n > 1 else 0
        mod, caller, noun = pkg.mods[i], pkg.namer.function(), pick(rng, NOUNS)
        style = randint(rng, 4)
        if style == 1 and i != 0:
            mod.import_module(home)
            callee = f"{home}.{fn}"
        else:
            if i != 0:
                mod.import_from(home, fn)
            callee = fn
        k = randint(rng, 2, 5)
        vals = [randint(rng, 0, 30) for _ in range(4)]
        groups = [[randint(rng, 0, 30) for _ in range(3)] for _ in range(2)]
        if style == 2:
            mod.blocks.append(f'def {caller}(groups: list[list[int]]) -> list[int]:\n'
                              f'    """One {noun} figure per group."""\n'
                              f'    return [{call(callee, "group")} for group in groups]\n')
            expected = [ref(g, **{param: value}) for g in groups]
            test_arg = groups
        elif style == 3:
            mod.blocks.append(f'def {caller}(values: list[int]) -> int:\n'
                              f'    """The {noun} figure at scale {k}, minus the plain one."""\n'
                              f'    return {call(callee, "values", str(k))} - {call(callee, "values")}\n')
            expected, test_arg = ref(vals, k, **{param: value}) - ref(vals, **{param: value}), vals
            n_calls += 1
        else:
            mod.blocks.append(f'def {caller}(values: list[int]) -> int:\n'
                              f'    """The {noun} figure at scale {k}."""\n'
                              f'    return {call(callee, "values", f"scale={k}")}\n')
            expected, test_arg = ref(vals, k, **{param: value}), vals
        n_calls += 1
        pkg.tests.import_from(pkg.names[i], caller)
        pkg.add_test("test_callers", f"assert {caller}({test_arg}) == {expected}")
        del site
    decoy = None
    if int(inputs["difficulty"]) >= 3 and n > 1:
        i, decoy = 1 + randint(rng, n - 1), pkg.namer.klass()
        pkg.mods[i].blocks.append(f'class {decoy}:\n    """Keeps its own {fn}; unrelated to the module function."""\n\n'
                                  f'    def {fn}(self, values: list[int]) -> int:\n        return len(values)\n')
        pkg.tests.import_from(pkg.names[i], decoy)
        pkg.add_test("test_callers", f"assert {decoy}().{fn}([1, 2, 3]) == 3")
    other = value + randint(rng, 1, 5)
    probe = [randint(rng, 0, 30) for _ in range(5)]  # drawn in every variant: draws stay aligned
    if passes:
        pkg.add_test(f"test_{fn}_{param}", f"assert {fn}({probe}, {param}={other}) == {ref(probe, **{param: other})}")
    pkg.add_filler()
    hidden_cases = [([randint(rng, 0, 40) for _ in range(randint(rng, 2, 7))], randint(rng, 1, 4),
                     randint(rng, low, high + 1) + 1) for _ in range(5)]
    hidden = (f"from {pkg.name}.{home} import {fn}\n\n\ndef test_acceptance() -> None:\n"
              + "".join(f"    assert {fn}({v}, {s}, {param}={p}) == {ref(v, s, **{param: p})}\n" for v, s, p in hidden_cases))
    return pkg.files(), {"package": pkg.name, "test_module": pkg.test_path, "function": fn, "home": home,
                         "defining_module": pkg.path(0), "value": value, "n_calls": n_calls,
                         "decoy": decoy, "hidden": hidden}


@family
class AddParameter:
    name = NAME
    category = "code_modification"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        cc.check_difficulty(difficulty)
        return {"difficulty": difficulty, "n_modules": cc.between(rng, cc.MODULES[difficulty]),
                "n_sites": cc.between(rng, SITES[difficulty]), "param": sorted(PARAMS)[int(rng.integers(len(PARAMS)))],
                "required": difficulty >= 3, "sessions": 2 if difficulty >= 4 else 1}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        inputs = cc.pick_inputs(params, INPUT_KEYS, NAME)
        if inputs["param"] not in PARAMS or int(inputs["sessions"]) not in (1, 2) or int(inputs["n_sites"]) < 1:
            raise ValueError(f"add_parameter params must be valid, got {inputs}")
        initial, m = cc.rendered(NAME, inputs, seed, "initial")
        solved, _ = cc.rendered(NAME, inputs, seed, "solved")
        trap, _ = cc.rendered(NAME, inputs, seed, "default_only")
        pkg, test_path, fn, param, value = m["package"], m["test_module"], m["function"], inputs["param"], m["value"]
        home_path = m["defining_module"]
        what = PARAMS[param][2]
        required = bool(inputs["required"])
        form = "required keyword-only parameter (no default)" if required else f"keyword-only parameter with default {value}"
        decision = (f"the new parameter is called `{param}`; it is a {form}; every existing call site, "
                    f"including those in the tests, passes `{param}={value}` explicitly (the value used today)")
        task = (f"The function `{fn}` in the package `{pkg}/` hard-codes its {what}. Make it a parameter, "
                f"update every call of `{fn}` in the package and in `{test_path}`, and add a test that checks "
                f"`{fn}` with another value of the new parameter. Keep all existing tests.")
        if int(inputs["sessions"]) == 1:
            instructions, sessions, knowledge = f"{task} Decision: {decision}.", (SessionSpec(asks="do the task"),), ()
            probes: tuple[Probe, ...] = ()
        else:
            instructions = task + " The parameter's name and value were decided in the design review."
            sessions = (SessionSpec(asks=f"Design review outcome: {decision}. Survey the package for every call of "
                                         f"`{fn}` now; the change itself can wait for the next session."),
                        SessionSpec(asks="Carry out the change agreed in the design review and finish the task."))
            knowledge = (decision,)
            # The name and the value are the decision; the required/default form follows from them.
            probes = (Probe(told_in=0, question=f"What did the design review decide for the new parameter of "
                                                  f"`{fn}`: its name, and the value every call site passes?",
                            expect=(param, str(value))),)
        private = {**inputs, **{k: v for k, v in m.items() if k != "hidden"}, "tests": cc.test_asserts(initial[test_path])}
        return TaskSpec(
            id=task_id, category="code_modification", family=self.name, difficulty=int(inputs["difficulty"]),
            seed=int(seed), params=private,
            public={"package": pkg, "function": fn, "test_module": test_path},
            instructions=instructions, sessions=sessions, knowledge=knowledge, probes=probes,
            budget=cc.budget(int(inputs["n_modules"]), m["n_calls"]),
            checkers=(
                CheckerRef(name="signature_has_param", args={"path": home_path, "function": fn, "param": param,
                                                             "required": required}),
                # Package callers keep today's behaviour; the tests' calls must be explicit too,
                # but the new test passes another value on purpose.
                CheckerRef(name="call_sites_pass", args={
                    "function": fn, "module_names": [m["home"]], "param": param, "position": 99,
                    "value": str(value), "min_calls": m["n_calls"] - 2, "paths": [pkg]}),
                CheckerRef(name="call_sites_pass", args={
                    "function": fn, "module_names": [m["home"]], "param": param, "position": 99,
                    "value": None, "min_calls": 3, "paths": ["tests"], "other_than": str(value)}),
                CheckerRef(name="tests_pass", args={"module": test_path, "timeout_s": cc.TEST_TIMEOUT_S}),
                # Every call of the function in the original tests gains param=value.
                cc.tests_intact(test_path, initial[test_path],
                                {"drop_keyword": {"function": fn, "name": param, "value": value}}),
                CheckerRef(name="hidden_tests_pass", args={"path": cc.HIDDEN_TEST_PATH, "source": m["hidden"],
                                                           "timeout_s": cc.TEST_TIMEOUT_S}),
            ),
            gold=cc.gold_writes(initial, solved),
            traps={"default_only": (GoldStep(op="write", args={"path": home_path, "text": trap[home_path]}),)},
        )

    def build_world(self, spec: TaskSpec) -> World:
        files, _ = cc.rendered(NAME, cc.pick_inputs(spec.params, INPUT_KEYS, NAME), spec.seed, "initial")
        return World.from_snapshot({"files": files, "submission": None})

