"""The five code_review families: gold, traps, vandals, line truth, knowledge, determinism."""

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
from harness.workload.checks import get_checker
from harness.workload.families.review_common import DIFF_PATH, MARK
from harness.workload.families.review_convention import RULE_IDS
from harness.workload.gold import apply_steps
from harness.workload.spec import GoldStep, TaskSpec
from harness.world import World, run_test_module

NAMES = ["code_review/review_bug", "code_review/review_security", "code_review/review_convention",
         "code_review/review_untested", "code_review/review_regression"]
CASES = [(n, d, s) for n in NAMES for d in range(1, 6) for s in range(6)]


def short(name: str) -> str:
    return name.split("/")[-1]


@cache
def spec_for(name: str, difficulty: int, seed: int) -> TaskSpec:
    fam = get_family(name)
    task_id = f"{short(name)}-{difficulty}-{seed}"
    params = fam.sample_params(stream(seed, task_id, 0, "params"), difficulty)
    return fam.generate(task_id, params, 1000 * seed + difficulty)


def world_of(spec: TaskSpec) -> World:
    return get_family(spec.family).build_world(spec)


def verdicts(world: World, spec: TaskSpec) -> dict[str, bool]:
    return {r.checker: r.passed for r in run_checkers(world, spec)}


def passes(world: World, spec: TaskSpec) -> bool:
    return all(verdicts(world, spec).values())


def submitted(spec: TaskSpec, answer) -> World:
    return apply_steps(world_of(spec), [GoldStep(op="submit", args={"answer": answer})])


def gold_findings(spec: TaskSpec) -> list[dict]:
    return [dict(f) for f in spec.gold[-1].args["answer"]["findings"]]


# -- the checker contract on every generated task ---------------------------------------
@pytest.mark.parametrize(("name", "difficulty", "seed"), CASES)
def test_gold_passes_and_shortcuts_fail(name, difficulty, seed):
    spec = spec_for(name, difficulty, seed)
    gold = apply_steps(world_of(spec), spec.gold)
    assert passes(gold, spec), run_checkers(gold, spec)
    assert not passes(world_of(spec), spec)  # untouched
    assert not passes(submitted(spec, {}), spec)  # do-nothing submission
    assert set(spec.traps) == {"flag_everything", "approve"}
    for trap, steps in spec.traps.items():
        assert not passes(apply_steps(world_of(spec), steps), spec), trap
    # echoing the question or the diff, flagging every file, or every changed file twice
    files = sorted({i["file"] for i in spec.params["issues"]})
    for answer in ({"findings": spec.instructions}, {"findings": world_of(spec).workspace.read(DIFF_PATH)},
                   {"answer": spec.instructions}, {"findings": [{"file": p, "line": 1, "kind": "bug"} for p in files]}):
        assert not passes(submitted(spec, answer), spec)


@pytest.mark.parametrize(("name", "difficulty", "seed"), CASES[::2])
def test_vandals_fail_even_with_the_right_findings(name, difficulty, seed):
    spec = spec_for(name, difficulty, seed)
    for vandal in ("delete", "empty"):
        world = apply_steps(world_of(spec), spec.gold)
        ws = world.workspace
        for path in ws.list():
            if vandal == "delete" and (path.startswith("tests/") or path == DIFF_PATH):
                ws.delete(path)
            elif vandal == "empty":
                ws.write(path, "")
        assert not verdicts(world, spec)["review_files_unchanged"], vandal


@pytest.mark.parametrize(("name", "difficulty", "seed"), CASES)
def test_issue_lines_point_at_the_injected_code(name, difficulty, seed):
    spec = spec_for(name, difficulty, seed)
    ws = world_of(spec).workspace
    diff = ws.read(DIFF_PATH)
    added = {line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")}
    for path in ws.list():
        assert MARK.strip() not in ws.read(path) and "#+" not in ws.read(path)
        if path.endswith(".py"):
            ast.parse(ws.read(path))  # every generated file is valid Python
    for issue in spec.params["issues"]:
        lines = ws.read(issue["file"]).splitlines()
        text = lines[issue["line"] - 1]
        assert f"+++ b/{issue['file']}" in diff
        if issue["kind"] in ("untested", "max_function_length"):  # whole-function findings
            assert text.startswith("def ")
        elif issue["kind"] != "missing_return":  # a deleted line has no line of its own
            assert any(lines[n - 1] in added for n in issue["lines"]), (issue, text)
    lines = [(i["file"], i["line"]) for i in spec.params["issues"]]
    assert len(set(lines)) == len(lines)


# -- family-specific knowledge and traps ----------------------------------------------------
@pytest.mark.parametrize(("difficulty", "seed"), [(d, s) for d in range(1, 6) for s in range(6)])
def test_convention_rules_live_only_in_session_one(difficulty, seed):
    spec = spec_for("code_review/review_convention", difficulty, seed)
    rules = spec.params["rules"]
    assert len(spec.sessions) == 2 and len(spec.knowledge) == len(rules)
    first, second = spec.brief(0).instructions, spec.brief(1).instructions
    world_text = "\n".join(world_of(spec).workspace.read(p) for p in world_of(spec).workspace.list())
    for rule in RULE_IDS:
        assert rule not in second and rule not in world_text and rule not in json.dumps(spec.public)
        assert (rule in first) == (rule in rules)
    assert {i["kind"] for i in spec.params["issues"]} <= set(rules)
    if difficulty >= 2:  # the change breaks a rule the team does not have: flagging it costs
        unstated = spec.params["unstated_violation"]
        assert unstated not in rules
        marker = {"no_bare_except": "except:", "no_print": "print(", "typed_public_api": "=",
                  "max_function_length": "summary:", "no_mutable_default": "= [])"}[unstated]
        assert marker in world_text
    # A reviewer who forgot the rules finds the right lines but cannot name the rules.
    forgot = [{**f, "kind": "convention"} for f in gold_findings(spec)]
    assert not passes(submitted(spec, {"findings": forgot}), spec)


@pytest.mark.parametrize(("difficulty", "seed"), [(d, s) for d in range(1, 6) for s in range(4)])
def test_untested_functions_are_never_called_and_the_tests_pass(difficulty, seed):
    spec = spec_for("code_review/review_untested", difficulty, seed)
    ws = world_of(spec).workspace
    module = spec.params["test_module"]
    report = run_test_module(ws, module, timeout_s=10)
    assert report.ok and report.collected >= 3, report.to_dict()
    tree = ast.parse(ws.read(module))
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    imported = {a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names}
    for name in spec.params["untested"]:
        assert name not in called
    changed_defs = set()
    for path, text in ((p, ws.read(p)) for p in ws.list(spec.params["package"])):
        for issue in spec.params["issues"]:
            if issue["file"] == path:
                changed_defs.add(re.match(r"def (\w+)", text.splitlines()[issue["line"] - 1]).group(1))
    assert changed_defs == set(spec.params["untested"])
    if difficulty >= 4:
        assert spec.params["untested"][0] in imported  # imported, never called
    if difficulty >= 3:
        assert spec.params["untested"][-1] in ws.read(module)  # named in a comment


# -- checker semantics on hand-made worlds -----------------------------------------------
ISSUES = [{"file": "p/a.py", "line": 10, "lines": [10, 13], "kind": "injection"},
          {"file": "p/b.py", "line": 5, "lines": [5], "kind": "secret"}]


def _match(findings, require_kind=True, allowance=1):
    world = World.from_snapshot({"files": {}, "submission": {"findings": findings}})
    return get_checker("findings_match")(world, None, issues=ISSUES, tolerance=2,
                                      require_kind=require_kind, max_false_positives=allowance)


def test_findings_match_tolerates_what_a_human_would():
    good = [{"file": "b/p/a.py", "line": "12", "kind": "Injection"}, {"file": "./p/b.py", "line": 4, "kind": "SECRET "}]
    assert _match(good)[0]
    assert _match([{"file": "p/a.py", "line": 15, "kind": "injection"}, ISSUES[1]])[0]  # near the alt line
    dup = [*good, {"file": "p/a.py", "line": 10, "kind": "injection"}]
    assert _match(dup, allowance=0)[0]  # a second finding on one issue is not a false positive


def test_findings_match_refuses_misses_wrong_kinds_and_noise():
    ok, reason = _match([ISSUES[0]])
    assert not ok and "1 of 2" in reason and "p/b.py" not in reason  # never says where
    assert not _match([{**ISSUES[0], "kind": "secret"}, ISSUES[1]])[0]
    assert _match([{**ISSUES[0], "kind": "secret"}, ISSUES[1]], require_kind=False)[0]
    assert not _match([{**ISSUES[0], "line": 17}, ISSUES[1]])[0]
    noisy = [ISSUES[0], ISSUES[1], {"file": "p/a.py", "line": 30}, {"file": "p/c.py", "line": 1}]
    assert not _match(noisy)[0] and _match(noisy, allowance=2)[0]
    assert not _match([])[0]
    for junk in (None, "approve", {"findings": "p/a.py:10"}, {"findings": [{"file": "p/a.py"}]},
                 {"findings": [{"file": "p/a.py", "line": "ten"}]}):
        world = World.from_snapshot({"files": {}, "submission": junk})
        assert not get_checker("findings_match")(world, None, issues=ISSUES)[0]


# -- parameters, public/private, budget, determinism --------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_brief_budget_and_params(name):
    fam = get_family(name)
    for difficulty in range(1, 6):
        spec = spec_for(name, difficulty, 0)
        assert set(spec.public) <= {"package", "diff", "kinds"}
        text = " ".join(spec.brief(k).instructions for k in range(len(spec.sessions)))
        for issue in spec.params["issues"]:
            assert f"{issue['file']}:{issue['line']}" not in text and issue["file"] not in text
        dumped = spec.brief().model_dump_json()
        assert "issues" not in dumped and "gold" not in dumped
        assert spec.budget.max_minutes == 480 and "end of the working day" in spec.brief().instructions
        p = fam.sample_params(np.random.Generator(np.random.PCG64(3)), difficulty)
        assert p == fam.sample_params(np.random.Generator(np.random.PCG64(3)), difficulty)
    with pytest.raises(Exception, match="lack"):
        fam.generate("bad", {"difficulty": 1}, 1)
    with pytest.raises(Exception, match="difficulty must be"):
        fam.sample_params(np.random.Generator(np.random.PCG64(3)), 6)


def test_multi_session_and_trap_shares():
    for name in NAMES:
        specs = [spec_for(name, d, s) for d in range(1, 6) for s in range(6)]
        multi = sum(len(s.sessions) > 1 for s in specs) / len(specs)
        assert multi == (1.0 if name.endswith("convention") else 0.0)
        assert all(s.traps for s in specs)


DIGEST_SCRIPT = """
import json, sys
from harness.workload import get_family
fam = get_family(sys.argv[1])
spec = fam.generate("det", json.loads(sys.argv[2]), int(sys.argv[3]))
print(spec.content_hash(), fam.build_world(spec).digest())
"""


@pytest.mark.parametrize("name", NAMES)
def test_same_inputs_same_task_and_world_in_any_process(name):
    fam = get_family(name)
    params = fam.sample_params(np.random.Generator(np.random.PCG64(5)), 4)
    a, b = fam.generate("det", params, 77), fam.generate("det", json.loads(json.dumps(params)), 77)
    assert a.model_dump_json() == b.model_dump_json()
    w1 = fam.build_world(a)
    w1.workspace.write("scratch.py", "x = 1\n")  # worlds are independent copies
    assert fam.build_world(a).digest() == fam.build_world(b).digest() != w1.digest()
    assert fam.build_world(fam.generate("det", params, 78)).digest() != fam.build_world(a).digest()
    out = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT, name, json.dumps(params), "77"],
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    assert out == [a.content_hash(), fam.build_world(a).digest()]
