"""The five structural code_modification families: gold, traps, vandals, determinism,
public/private separation, sessions, and their checkers on hand-made worlds."""

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
from harness.workload.checkers.codemod import top_level
from harness.workload.checks import get_checker
from harness.workload.families import codemod_common as cc
from harness.workload.gold import apply_steps
from harness.workload.spec import GoldStep, TaskSpec
from harness.world import World, run_test_module

FAMILIES = ("add_parameter", "fix_bug", "dependency_upgrade", "follow_convention", "extract_helper")
CASES = [(f, d, s) for f in FAMILIES for d in range(1, 6) for s in range(4)]
# Families whose untouched package already passes its own tests (the work is structural).
SOUND_AT_START = {"add_parameter", "follow_convention", "extract_helper"}


@cache
def spec_for(fam: str, difficulty: int, seed: int) -> TaskSpec:
    family = get_family(f"code_modification/{fam}")
    task_id = f"{fam}-{difficulty}-{seed}"
    params = family.sample_params(stream(seed, task_id, 0, "params"), difficulty)
    return family.generate(task_id, params, 1000 * seed + difficulty)


def world_of(spec: TaskSpec, steps=()) -> World:
    return apply_steps(get_family(spec.family).build_world(spec), steps)


def verdicts(world: World, spec: TaskSpec) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for r in run_checkers(world, spec):
        out[r.checker] = out.get(r.checker, True) and r.passed
    return out


def solved(world: World, spec: TaskSpec) -> bool:
    return all(r.passed for r in run_checkers(world, spec))


# -- the checker contract on every generated task -----------------------------------------
@pytest.mark.parametrize(("fam", "difficulty", "seed"), CASES)
def test_gold_passes_and_initial_fails(fam, difficulty, seed):
    spec = spec_for(fam, difficulty, seed)
    initial = world_of(spec)
    report = run_test_module(initial.workspace, spec.public["test_module"])
    assert report.ok == (fam in SOUND_AT_START), report.to_dict()
    assert not solved(initial, spec)
    gold = world_of(spec, spec.gold)
    assert solved(gold, spec), [r for r in run_checkers(gold, spec) if not r.passed]
    initial.submit({})  # a do-nothing agent that submits
    assert not solved(initial, spec)


@pytest.mark.parametrize(("fam", "difficulty", "seed"), CASES)
def test_every_trap_fails(fam, difficulty, seed):
    spec = spec_for(fam, difficulty, seed)
    assert spec.traps  # every task of these families tempts with a shortcut
    for name, steps in spec.traps.items():
        assert not solved(world_of(spec, steps), spec), name


@pytest.mark.parametrize(("fam", "difficulty", "seed"), CASES[::2])
def test_generic_vandals_fail(fam, difficulty, seed):
    spec = spec_for(fam, difficulty, seed)
    for base in ((), spec.gold):  # vandalism also ruins a correct solution
        gone = world_of(spec, base)
        for path in gone.workspace.list("tests"):
            gone.workspace.delete(path)
        assert not solved(gone, spec)
        emptied = world_of(spec, base)
        for path in emptied.workspace.list():
            emptied.workspace.write(path, "")
        assert not solved(emptied, spec)
    echo = world_of(spec)
    echo.submit({"answer": spec.instructions})
    assert not solved(echo, spec)


@pytest.mark.parametrize(("fam", "difficulty", "seed"), CASES[::3])
def test_public_and_instructions_hold_no_answers(fam, difficulty, seed):
    spec = spec_for(fam, difficulty, seed)
    p = spec.params
    text = spec.instructions + json.dumps(spec.public)
    hidden = {
        "add_parameter": lambda: [p["defining_module"]] + ([] if p["decoy"] is None else [p["decoy"]]),
        "fix_bug": lambda: [p["bug_module"], p["function"], *p["failing_tests"]],
        "dependency_upgrade": lambda: [],
        "follow_convention": lambda: ["_cents", "get_logger", "Returns"],
        "extract_helper": lambda: [name for names in p["sites"].values() for name in names],
    }[fam]()
    for secret in hidden:
        assert secret not in text, secret
    dumped = spec.brief().model_dump_json()
    assert "gold" not in dumped and "checkers" not in dumped


def test_knowledge_of_session_one_is_needed_later_and_not_in_the_world():
    multi = 0
    for fam, difficulty, seed in CASES:
        spec = spec_for(fam, difficulty, seed)
        if len(spec.sessions) == 1:
            assert not spec.knowledge
            continue
        multi += 1
        assert spec.knowledge and len(spec.sessions) == 2
        world_text = "\n".join(world_of(spec).workspace.snapshot().values())
        if fam == "follow_convention":
            money = spec.params["convention"] == "money"
            secrets = ["_cents", "Returns"] if money else ["nobody uses print", "get_logger(__name__)"]
        else:
            secrets = [spec.params["param"]]
        for secret in secrets:
            assert secret in spec.sessions[0].asks
            assert secret not in spec.sessions[1].asks and secret not in spec.instructions
            assert secret not in world_text
        assert spec.sessions[0].asks in spec.brief(0).instructions
    assert multi == 20 + 8  # follow_convention always; add_parameter from difficulty 4


# -- family-specific wrong solutions ------------------------------------------------------
def _replace_in(world: World, path: str, old: str, new: str) -> None:
    text = world.workspace.read(path)
    assert old in text
    world.workspace.write(path, text.replace(old, new))


@pytest.mark.parametrize(("difficulty", "seed"), [(d, s) for d in range(1, 6) for s in range(3)])
def test_add_parameter_missing_one_call_site_fails(difficulty, seed):
    spec = spec_for("add_parameter", difficulty, seed)
    p = spec.params
    world = world_of(spec, spec.gold)
    arg = f", {p['param']}={p['value']}"
    victims = [f for f in world.workspace.list(p["package"]) if arg in world.workspace.read(f)]
    _replace_in(world, victims[-1], arg, "")
    result = verdicts(world, spec)
    assert not result["call_sites_pass"]


@pytest.mark.parametrize(("difficulty", "seed"), [(d, s) for d in range(1, 6) for s in range(3)])
def test_fix_bug_editing_the_test_or_special_casing_fails(difficulty, seed):
    spec = spec_for("fix_bug", difficulty, seed)
    test_path = spec.public["test_module"]
    world = world_of(spec, spec.gold)
    world.workspace.write(test_path, world.workspace.read(test_path) + "\n# reviewed\n")
    assert not verdicts(world, spec)["files_unchanged"]
    # Patching another function of the package instead of the bug fails too.
    world = world_of(spec, spec.gold)
    others = spec.checkers[2].args["digests"]
    path = sorted(others)[0]
    name = sorted(others[path])[0]
    tree = ast.parse(world.workspace.read(path))
    victim = top_level(tree)[name]
    tree.body = [n for n in tree.body if n is not victim]
    world.workspace.write(path, ast.unparse(tree))
    assert not verdicts(world, spec)["definitions_unchanged"]


@pytest.mark.parametrize(("difficulty", "seed"), [(d, s) for d in range(3, 6) for s in range(3)])
def test_dependency_upgrade_rename_only_leaves_order_bugs(difficulty, seed):
    """Renames alone (what a search for old names finds) miss the argument-order change."""
    spec = spec_for("dependency_upgrade", difficulty, seed)
    assert "order" in spec.params["changes"]
    world = world_of(spec, spec.gold)
    for path in world.workspace.list(spec.params["package"]):
        text = world.workspace.read(path)
        world.workspace.write(path, re.sub(r"bounded\(0, (\d+), amount\)", r"bounded(amount, 0, \1)", text))
    result = verdicts(world, spec)
    assert result["no_old_api"] and result["files_unchanged"]
    assert not result["tests_pass"]


@pytest.mark.parametrize(("difficulty", "seed"), [(d, s) for d in range(1, 6) for s in range(3)])
def test_extract_helper_one_copy_left_fails(difficulty, seed):
    spec = spec_for("extract_helper", difficulty, seed)
    initial, gold = world_of(spec), world_of(spec, spec.gold)
    path, names = sorted(spec.params["sites"].items())[-1]
    gold.workspace.write(path, initial.workspace.read(path))  # this module keeps its inline copies
    result = verdicts(gold, spec)
    assert not result["no_duplicate_block"] and not result["functions_call"]


@pytest.mark.parametrize(("difficulty", "seed"), [(d, s) for d in range(1, 6) for s in range(3)])
def test_follow_convention_ignored_fails_even_if_behaviour_is_right(difficulty, seed):
    spec = spec_for("follow_convention", difficulty, seed)
    world = world_of(spec, spec.traps["ignore_convention"])
    result = verdicts(world, spec)
    assert not result["convention_followed"]
    assert result["tests_pass"] and result["tests_intact"]


# -- parameters, determinism, speed ---------------------------------------------------------
@pytest.mark.parametrize("fam", FAMILIES)
def test_params_scale_and_bad_params_are_refused(fam):
    family = get_family(f"code_modification/{fam}")
    sizes = []
    for d in range(1, 6):
        params = family.sample_params(np.random.Generator(np.random.PCG64(3)), d)
        assert params == family.sample_params(np.random.Generator(np.random.PCG64(3)), d)
        low, high = cc.MODULES[d]
        assert low <= params["n_modules"] <= high
        sizes.append(spec_for(fam, d, 0).budget.max_actions)
    assert sizes == sorted(sizes) or sizes[-1] > sizes[0]
    with pytest.raises(Exception, match="difficulty"):
        family.sample_params(np.random.Generator(np.random.PCG64(3)), 6)
    with pytest.raises(Exception, match="lack"):
        family.generate("bad", {"difficulty": 1}, 1)


DIGEST_SCRIPT = """
import json, sys
from harness.workload import get_family
fam = get_family(sys.argv[1])
spec = fam.generate("det", json.loads(sys.argv[2]), 77)
print(spec.content_hash(), fam.build_world(spec).digest())
"""


@pytest.mark.parametrize("fam", FAMILIES)
def test_same_inputs_same_task_and_world_in_any_process(fam):
    family = get_family(f"code_modification/{fam}")
    params = family.sample_params(np.random.Generator(np.random.PCG64(5)), 4)
    a, b = family.generate("det", params, 77), family.generate("det", dict(params), 77)
    assert a.model_dump_json() == b.model_dump_json()
    w1, w2 = family.build_world(a), family.build_world(b)
    w1.workspace.write("scratch.py", "x = 1\n")  # worlds are independent copies
    assert family.build_world(a).digest() == w2.digest()
    assert family.build_world(family.generate("det", params, 78)).digest() != w2.digest()
    out = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT, family.name, json.dumps(params)],
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    assert out == [a.content_hash(), w2.digest()]


# -- the checkers on hand-made worlds -------------------------------------------------------
def _check(checker: str, files: dict[str, str], **args):
    return get_checker(checker)(World.from_snapshot({"files": files}), None, **args)


def test_signature_and_call_site_checkers():
    src = "def f(values, scale=1, *, step):\n    return 1\n"
    assert _check("signature_has_param", {"p/a.py": src}, path="p/a.py", function="f", param="step", required=True)[0]
    with_default = src.replace("step", "step=3")
    assert not _check("signature_has_param", {"p/a.py": with_default}, path="p/a.py", function="f",
                      param="step", required=True)[0]
    assert _check("signature_has_param", {"p/a.py": with_default}, path="p/a.py", function="f",
                  param="step", required=False)[0]
    calls = {"p/b.py": "from p import a\nx = a.f([1], step=3)\ny = obj.f([2])\n"}
    args = {"function": "f", "module_names": ["a"], "param": "step", "position": 99, "paths": ["p"]}
    assert _check("call_sites_pass", calls, value="3", min_calls=1, **args)[0]  # obj.f is another f
    assert not _check("call_sites_pass", calls, value="4", min_calls=1, **args)[0]
    assert not _check("call_sites_pass", calls, value="3", min_calls=2, **args)[0]  # a caller was deleted


def test_protection_and_old_api_checkers():
    files = {"vendor/l/__init__.py": "x = 1\n", "p/a.py": "from vendor.l import old\nold(1)\nnew(1, factor=2)\n"}
    digests = {"vendor/l/__init__.py": cc.sha("x = 1\n")}
    assert _check("files_unchanged", files, digests=digests, prefix="vendor")[0]
    assert not _check("files_unchanged", {**files, "vendor/l/shim.py": ""}, digests=digests, prefix="vendor")[0]
    ok, reason = _check("no_old_api", files, names=["old"], keywords={"new": ["factor"]}, paths=["p"])
    assert not ok and "p/a.py" in reason
    clean = {"p/a.py": "from vendor.l import renamed\nrenamed(1)\nnew(1, multiplier=2)\n"}
    assert _check("no_old_api", clean, names=["old"], keywords={"new": ["factor"]}, paths=["p"])[0]


def test_block_and_convention_checkers():
    block = "cleaned = [item for item in values if item >= 0]"
    from harness.workload.families.extract_helper import distinctive
    inline = {"p/a.py": f"def g(values):\n    {block}\n    return cleaned\n"}
    helper = {"p/a.py": f"def h(values):\n    {block}\n    return cleaned\n\n\ndef g(values):\n    return h(values)\n"}
    args = {"statements": distinctive(block), "helper": "h", "paths": ["p"]}
    assert not _check("no_duplicate_block", inline, **args)[0]
    assert _check("no_duplicate_block", helper, **args)[0]
    assert _check("functions_call", helper, sites={"p/a.py": ["g"]}, callee="h")[0]
    assert not _check("functions_call", inline, sites={"p/a.py": ["g"]}, callee="h")[0]
    assert _check("defined_once", helper, name="h", path="p/a.py", paths=["p"])[0]
    money = {"p/m.py": 'def old():\n    return 1\n\n\ndef tax_cents(a):\n    """Returns tax."""\n    return a\n'}
    args = {"path": "p/m.py", "kind": "money", "existing": ["old"], "min_new": 1, "suffix": "_cents",
            "doc_prefix": "Returns"}
    assert _check("convention_followed", money, **args)[0]
    assert not _check("convention_followed", {"p/m.py": money["p/m.py"].replace("_cents", "")}, **args)[0]
    logged = {"p/n.py": "from p.logs import get_logger\nlog = get_logger(__name__)\n\n\ndef f(a):\n"
                        "    log.info('x %s', a)\n    return a\n"}
    largs = {"path": "p/n.py", "kind": "logging", "existing": [], "min_new": 1, "logger": "get_logger"}
    assert _check("convention_followed", logged, **largs)[0]
    printed = {"p/n.py": logged["p/n.py"].replace("log.info('x %s', a)", "print(a)")}
    assert not _check("convention_followed", printed, **largs)[0]


def test_hidden_tests_run_on_a_copy():
    files = {"p/a.py": "def f(x):\n    return x + 1\n"}
    world = World.from_snapshot({"files": files})
    source = "from p.a import f\n\n\ndef test_f():\n    assert f(1) == 2\n"
    assert get_checker("hidden_tests_pass")(world, None, path="tests/_h.py", source=source)[0]
    assert not world.workspace.exists("tests/_h.py")
    assert not get_checker("hidden_tests_pass")(world, None, path="tests/_h.py", source=source.replace("== 2", "== 3"))[0]


def test_trap_steps_are_plain_world_operations():
    spec = spec_for("dependency_upgrade", 2, 0)
    assert all(isinstance(s, GoldStep) and s.op in ("write", "delete") for steps in spec.traps.values() for s in steps)


def test_add_parameter_needs_a_test_of_another_value():
    spec = spec_for("add_parameter", 3, 1)
    p = spec.params
    world = world_of(spec, spec.gold)
    test_path = spec.public["test_module"]
    tree = ast.parse(world.workspace.read(test_path))
    tree.body = [n for n in tree.body if getattr(n, "name", "") != f"test_{p['function']}_{p['param']}"]
    world.workspace.write(test_path, ast.unparse(tree))
    result = verdicts(world, spec)
    assert result["tests_pass"] and result["tests_intact"] and not result["call_sites_pass"]
