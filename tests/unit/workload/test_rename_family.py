"""code_modification/rename_symbol: generation, checkers, gold, vandals, determinism."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from functools import cache

import numpy as np
import pytest

from harness.core.rng import stream
from harness.workload import get_family, run_checkers
from harness.workload.checks import CHECKERS, get_checker
from harness.workload.codegen import STDLIB_USES, render_helper
from harness.workload.families.rename_symbol import MODULES, RenameSymbol
from harness.workload.gold import apply_gold
from harness.workload.names import is_free_module_name
from harness.workload.spec import TaskSpec
from harness.world import World, run_test_module
from harness.world.pycode import identifier_counts, rename_identifier

NAME = "code_modification/rename_symbol"
CASES = [(d, s) for d in range(1, 6) for s in range(10)]
FAMILY = get_family(NAME)


@cache
def spec_for(difficulty: int, seed: int) -> TaskSpec:
    task_id = f"rename-{difficulty}-{seed}"
    params = FAMILY.sample_params(stream(seed, task_id, 0, "params"), difficulty)
    return FAMILY.generate(task_id, params, 1000 * seed + difficulty)


def verdicts(world: World, spec: TaskSpec) -> dict[str, bool]:
    return {r.checker: r.passed for r in run_checkers(world, spec)}


def gold_world(spec: TaskSpec) -> World:
    return apply_gold(FAMILY.build_world(spec), spec.gold)


def careless(world: World, old: str, new: str) -> World:
    ws = world.workspace
    for path in ws.list():
        ws.write(path, ws.read(path).replace(old, new))
    return world


def empty_tests(world: World, test_path: str) -> World:
    tree = ast.parse(world.workspace.read(test_path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            node.body = [ast.Pass()]
    world.workspace.write(test_path, ast.unparse(tree))
    return world


# -- the checker contract on every generated task ---------------------------------------
@pytest.mark.parametrize(("difficulty", "seed"), CASES)
def test_initial_world_is_sound_but_unsolved(difficulty, seed):
    spec = spec_for(difficulty, seed)
    world = FAMILY.build_world(spec)
    report = run_test_module(world.workspace, spec.public["test_module"], timeout_s=10)
    assert report.ok, report.to_dict()  # the tests pass before anything is renamed
    assert report.collected == len(spec.params["tests"])
    result = verdicts(world, spec)
    assert not result["no_identifier"]
    assert result["defines_symbol"] is False
    # A do-nothing agent that just submits fails too.
    world.submit({"done": True})
    assert not all(verdicts(world, spec).values())


@pytest.mark.parametrize(("difficulty", "seed"), CASES)
def test_gold_passes_every_checker_and_keeps_near_misses(difficulty, seed):
    spec = spec_for(difficulty, seed)
    world = gold_world(spec)
    assert all(r.passed for r in run_checkers(world, spec)), run_checkers(world, spec)
    totals: dict[str, int] = {}
    for path in world.workspace.list():
        if path.endswith(".py"):
            for name, n in identifier_counts(world.workspace.read(path)).items():
                totals[name] = totals.get(name, 0) + n
    assert {k: totals.get(k, 0) for k in spec.params["near_misses"]} == spec.params["near_misses"]
    assert totals.get(spec.params["new_name"]) == spec.params["old_identifier_count"]


@pytest.mark.parametrize(("difficulty", "seed"), CASES[::2])
def test_token_rename_passes_too(difficulty, seed):
    """The typed tool layer renames by token (pycode.rename_identifier): that must solve it."""
    spec = spec_for(difficulty, seed)
    world = FAMILY.build_world(spec)
    ws = world.workspace
    for path in ws.list():
        ws.write(path, rename_identifier(ws.read(path), spec.params["old_name"], spec.params["new_name"])[0])
    assert all(verdicts(world, spec).values())


@pytest.mark.parametrize(("difficulty", "seed"), CASES)
def test_careless_textual_replace_fails(difficulty, seed):
    spec = spec_for(difficulty, seed)
    assert spec.params["near_misses"]  # every task has some
    world = careless(FAMILY.build_world(spec), spec.params["old_name"], spec.params["new_name"])
    result = verdicts(world, spec)
    assert not result["preserved_identifiers"]
    if difficulty >= 3:  # a stdlib name such as JSONDecoder broke: the tests fail as well
        assert spec.params["stdlib_near_misses"]
        assert not result["tests_pass"]


@pytest.mark.parametrize(("difficulty", "seed"), CASES)
def test_vandals_fail_even_after_a_correct_rename(difficulty, seed):
    spec = spec_for(difficulty, seed)
    test_path = spec.public["test_module"]
    deleted = gold_world(spec)
    deleted.workspace.delete(test_path)
    result = verdicts(deleted, spec)
    assert not result["tests_pass"] and not result["tests_intact"]
    emptied = empty_tests(gold_world(spec), test_path)
    assert run_test_module(emptied.workspace, test_path).ok  # the emptied tests "pass" ...
    assert not verdicts(emptied, spec)["tests_intact"]  # ... and are caught anyway


# -- parameters, public/private, budget ---------------------------------------------------
@pytest.mark.parametrize("difficulty", range(1, 6))
def test_sample_params_scale_with_difficulty(difficulty):
    for seed in range(20):
        params = FAMILY.sample_params(np.random.Generator(np.random.PCG64(seed)), difficulty)
        low, high = MODULES[difficulty]
        assert low <= params["n_modules"] <= high
        assert (params["n_stdlib_uses"] > 0) == (difficulty >= 3)
        assert params == FAMILY.sample_params(np.random.Generator(np.random.PCG64(seed)), difficulty)
    spec = spec_for(difficulty, 0)
    world = FAMILY.build_world(spec)
    assert len(world.workspace) == spec.params["n_modules"] + 2  # + __init__ + test module
    assert spec.budget.max_actions == 40 + spec.params["n_modules"]
    assert spec.budget.max_minutes == 480 and "end of the working day" in spec.brief().instructions


@pytest.mark.parametrize(("difficulty", "seed"), CASES[::3])
def test_brief_holds_only_public_knowledge(difficulty, seed):
    spec = spec_for(difficulty, seed)
    brief = spec.brief()
    p = spec.params
    assert set(brief.public) == {"old_name", "new_name", "kind", "package", "test_module"}
    assert brief.public == {k: p[k] for k in brief.public}
    text = brief.instructions
    for needed in (p["old_name"], p["new_name"], p["package"] + "/", p["test_module"], p["kind"]):
        assert needed in text
    assert p["defining_module"] not in text
    for hidden in [*p["near_misses"], *p["tests"], *p["near_miss_homes"].values()]:
        assert hidden not in text
    dumped = brief.model_dump_json()
    assert "gold" not in dumped and "checkers" not in dumped and "near_misses" not in dumped


def test_names_never_collide():
    for difficulty, seed in CASES:
        p = spec_for(difficulty, seed).params
        assert is_free_module_name(p["package"])
        assert p["package"] not in sys.stdlib_module_names
        assert p["old_name"] != p["new_name"]
        assert p["old_name"] not in p["near_misses"] and p["new_name"] not in p["near_misses"]
        assert all(p["new_name"] not in name for name in p["near_misses"])


def test_generate_rejects_bad_params():
    good = FAMILY.sample_params(np.random.Generator(np.random.PCG64(1)), 2)
    for bad in ({"kind": "module"}, {"n_modules": 3}, {"n_near_misses": 0}, {"use_fraction": 0}):
        with pytest.raises(Exception, match="must be"):
            FAMILY.generate("bad", {**good, **bad}, 1)
    with pytest.raises(Exception, match="lack"):
        FAMILY.generate("bad", {"difficulty": 1}, 1)


# -- determinism ------------------------------------------------------------------------
DIGEST_SCRIPT = """
import json, sys
from harness.workload import get_family
fam = get_family("code_modification/rename_symbol")
params, seed = json.loads(sys.argv[1]), int(sys.argv[2])
spec = fam.generate("det", params, seed)
print(spec.content_hash(), fam.build_world(spec).workspace.digest())
"""


def test_same_inputs_same_task_and_world_in_any_process():
    params = FAMILY.sample_params(np.random.Generator(np.random.PCG64(5)), 4)
    a, b = FAMILY.generate("det", params, 77), RenameSymbol().generate("det", dict(params), 77)
    assert a.model_dump_json() == b.model_dump_json()
    w1, w2 = FAMILY.build_world(a), FAMILY.build_world(b)
    assert w1.workspace.digest() == w2.workspace.digest()
    w1.workspace.write("scratch.py", "x = 1\n")  # worlds are independent copies
    assert FAMILY.build_world(a).workspace.digest() == w2.workspace.digest()
    assert FAMILY.build_world(FAMILY.generate("det", params, 78)).workspace.digest() != w2.workspace.digest()
    out = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT, json.dumps(params), "77"],
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    assert out == [a.content_hash(), w2.workspace.digest()]


def test_registered_under_its_name():
    assert FAMILY.name == NAME and FAMILY.category == "code_modification"
    assert {"no_identifier", "defines_symbol", "preserved_identifiers", "tests_pass", "tests_intact"} <= set(CHECKERS.names())
    spec = spec_for(1, 0)
    assert [c.name for c in spec.checkers] == [
        "no_identifier", "defines_symbol", "preserved_identifiers", "tests_pass", "tests_intact"]


# -- the stdlib near-miss table ---------------------------------------------------------
@pytest.mark.parametrize("use", STDLIB_USES, ids=lambda u: f"{u.kind}:{u.stems[0]}:{u.verb}")
def test_stdlib_use_is_a_real_near_miss(use):
    code = "\n".join(use.imports) + "\n\n" + render_helper("helper", use)
    namespace: dict = {}
    exec(compile(code, "<use>", "exec"), namespace)
    assert namespace["helper"](eval(use.arg)) == eval(use.expected)
    counts = identifier_counts(code)
    for stem in use.stems:
        assert counts[stem] == 0  # never the old name itself ...
        assert any(stem in name and name != stem for name in counts)  # ... but inside one
        # the correct rename (whole words only) must leave what the test asserts alone
        assert not re.search(rf"\b{stem}\b", use.arg + " " + use.expected)


# -- the checkers on hand-made worlds -----------------------------------------------------
def _check(checker: str, files: dict[str, str], **args):
    return get_checker(checker)(World.from_snapshot({"files": files}), None, **args)


def test_no_identifier_names_files_and_broken_ones():
    ok, reason = _check("no_identifier", {"p/a.py": "x = 1  # Old\ns = 'Old'\n"}, name="Old", paths=["p"])
    assert ok, reason
    ok, reason = _check("no_identifier", {"p/a.py": "from q import Old\n"}, name="Old", paths=["p"])
    assert not ok and "p/a.py" in reason
    ok, reason = _check("no_identifier", {"p/a.py": "def f(:\n"}, name="Old", paths=["p"])
    assert not ok and "p/a.py" in reason and "parse" in reason
    ok, reason = _check("no_identifier", {"q/a.py": "x = 1\n"}, name="Old", paths=["p"])
    assert not ok  # nothing left to check is not a success


def test_preserved_identifiers_and_defines_symbol():
    files = {"p/a.py": "class OldError(Exception):\n    pass\n\n\nclass New:\n    pass\n"}
    assert _check("preserved_identifiers", files, counts={"OldError": 1})[0]
    ok, reason = _check("preserved_identifiers", files, counts={"OldError": 2})
    assert not ok and "OldError" in reason
    assert _check("defines_symbol", files, path="p/a.py", name="New")[0]
    assert not _check("defines_symbol", files, path="p/a.py", name="Old")[0]
    assert not _check("defines_symbol", files, path="p/b.py", name="New")[0]


def test_tests_intact_refuses_trivial_asserts_and_tests_pass_names_the_place():
    files = {"t/test_a.py": "from t.a import f\n\n\ndef test_a():\n    assert f(1) == 2\n    assert f(2) > 1\n"}
    assert _check("tests_intact", files, module="t/test_a.py", tests={"test_a": 2})[0]
    for weak_assert in ("assert True", "assert 2 > 1", "assert 1 + 1 == 2", "assert f(1) == f(1)", "assert (f(1), 'x')"):
        weak = {"t/test_a.py": files["t/test_a.py"].replace("assert f(1) == 2", weak_assert)}
        assert not _check("tests_intact", weak, module="t/test_a.py", tests={"test_a": 2})[0], weak_assert
    assert not _check("tests_intact", files, module="t/test_a.py", tests={"test_b": 1})[0]
    failing = {"t/test_a.py": "def test_a():\n    assert 1 + 1 == 3\n"}
    ok, reason = _check("tests_pass", failing, module="t/test_a.py", timeout_s=5)
    assert not ok and "t/test_a.py:2" in reason
