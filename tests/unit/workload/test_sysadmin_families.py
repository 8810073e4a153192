"""The five system_administration families: gold, traps, vandals, sessions, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache

import numpy as np
import pytest

from harness.core.hashing import canonical_json
from harness.core.rng import stream
from harness.workload import get_family, run_checkers
from harness.workload.gold import apply_steps
from harness.workload.spec import GoldStep, TaskSpec
from harness.world import World

FAMILIES = ("incident_diagnosis", "config_fix", "disk_cleanup", "credential_rotation", "staged_rollout")
CASES = [(f, d, s) for f in FAMILIES for d in range(1, 6) for s in range(6)]


@cache
def spec_for(fam: str, difficulty: int, seed: int) -> TaskSpec:
    family = get_family(f"system_administration/{fam}")
    task_id = f"{fam}-{difficulty}-{seed}"
    return family.generate(task_id, family.sample_params(stream(seed, task_id, 0, "params"), difficulty),
                           1000 * seed + difficulty)


def build(spec: TaskSpec) -> World:
    return get_family(spec.family).build_world(spec)


def passes(world: World, spec: TaskSpec) -> bool:
    return all(r.passed for r in run_checkers(world, spec))


@pytest.mark.parametrize(("fam", "difficulty", "seed"), CASES)
def test_gold_passes_and_shortcuts_fail(fam, difficulty, seed):
    spec = spec_for(fam, difficulty, seed)
    solved = apply_steps(build(spec), spec.gold)
    assert passes(solved, spec), [r for r in run_checkers(solved, spec) if not r.passed]
    assert not passes(build(spec), spec)
    idle = apply_steps(build(spec), [GoldStep(op="submit", args={"answer": {}})])
    assert not passes(idle, spec)
    echo = apply_steps(build(spec), [GoldStep(op="submit", args={"answer": {
        "service": spec.instructions, "fault": spec.instructions, "team": spec.instructions}})])
    assert not passes(echo, spec)
    for name, steps in spec.traps.items():
        assert not passes(apply_steps(build(spec), steps), spec), name


@pytest.mark.parametrize(("fam", "difficulty", "seed"), CASES[::3])
def test_vandals_fail(fam, difficulty, seed):
    """Emptying every config and restarting everything, or stopping everything, after a
    correct solution must fail too: the checkers see the damage, not just the fix."""
    spec = spec_for(fam, difficulty, seed)
    world = apply_steps(build(spec), spec.gold)
    names = world.services.names()
    emptied = apply_steps(world, [GoldStep(op="write_config", args={"service": n, "text": ""}) for n in names]
                          + [GoldStep(op="restart_service", args={"service": n}) for n in names])
    assert not passes(emptied, spec)
    stopped = apply_steps(apply_steps(build(spec), spec.gold),
                          [GoldStep(op="stop_service", args={"service": n}) for n in names])
    assert not passes(stopped, spec)


def test_traps_and_sessions_are_spread_over_difficulties():
    for fam in FAMILIES:
        specs = [spec_for(fam, d, s) for d in range(1, 6) for s in range(6)]
        assert sum(bool(s.traps) for s in specs) / len(specs) >= 0.2, fam
        multi = {s.difficulty for s in specs if len(s.sessions) > 1}
        want = {"incident_diagnosis": {4, 5}, "credential_rotation": {3, 4, 5}}.get(fam, set())
        assert multi == want, fam


@pytest.mark.parametrize("fam", FAMILIES)
def test_world_grows_with_difficulty(fam):
    sizes = []
    for d in range(1, 6):
        worlds = [build(spec_for(fam, d, s)) for s in range(6)]
        sizes.append(np.mean([len(w.services.names()) + sum(len(h["files"]) for h in w.services.hosts.values())
                              for w in worlds]))
    assert sizes[-1] > sizes[0] * 1.8, sizes
    assert all(b >= a * 0.9 for a, b in zip(sizes, sizes[1:], strict=False)), sizes


# -- public / private ------------------------------------------------------------------
@pytest.mark.parametrize(("fam", "difficulty", "seed"), CASES[::2])
def test_brief_hides_the_answer(fam, difficulty, seed):
    spec = spec_for(fam, difficulty, seed)
    p = spec.params
    texts = [spec.brief(k).model_dump_json() for k in range(len(spec.sessions))]
    hidden: list[str] = []
    if fam == "incident_diagnosis":
        hidden = [f"`{p['root']}`", f'"{p["root"]}"']
    elif fam == "config_fix":
        hidden = [*p["removable"], *(f"`{k}`" for k in p["fix_keys"])]
        if difficulty >= 4:
            hidden.append(f"`{p['target']}`")
    elif fam == "disk_cleanup":
        hidden = p["protected"]
    elif fam == "credential_rotation":
        hidden = [p["old_secret"], *(f"`{c}`" for c in p["consumers"])]
    elif fam == "staged_rollout":
        hidden = ["bad", str(p["new_error_rate"])]
    for text in texts:
        assert "gold" not in text and "checkers" not in text
        for h in hidden:
            assert h not in text, (h, text)


@pytest.mark.parametrize(("fam", "difficulty", "seed"),
                         [c for c in CASES if c[0] in ("incident_diagnosis", "credential_rotation")])
def test_session_knowledge_is_only_in_the_first_session(fam, difficulty, seed):
    spec = spec_for(fam, difficulty, seed)
    if len(spec.sessions) == 1:
        assert not spec.knowledge
        return
    secret = spec.params["new_secret"] if fam == "credential_rotation" else spec.params["teams"][spec.params["root"]]
    first, second = spec.brief(0).model_dump_json(), spec.brief(1).model_dump_json()
    assert spec.knowledge and secret in first and secret not in second
    world = canonical_json(build(spec).snapshot())
    if fam == "credential_rotation":
        assert secret not in world
    else:  # no team name anywhere in the world: the ownership map lives only in session 1
        assert not any(t in world for t in set(spec.params["teams"].values()))
    # forgetting the knowledge fails: gold without it
    wrong = [s if s.op != "submit" else GoldStep(op="submit", args={"answer": {**s.args["answer"], "team": "ops"}})
             for s in spec.gold]
    if fam == "credential_rotation":
        wrong = [GoldStep(op=s.op, args=json.loads(json.dumps(s.args).replace(secret, "pw-guess")))
                 for s in spec.gold]
    assert not passes(apply_steps(build(spec), wrong), spec)


def test_budget_depends_only_on_the_task():
    for fam in FAMILIES:
        a, b = spec_for(fam, 3, 1), spec_for(fam, 3, 1)
        assert a.budget == b.budget and a.budget.max_actions >= len(a.gold) + 5


def test_bad_params_are_refused():
    for fam in FAMILIES:
        with pytest.raises(Exception, match="difficulty"):
            get_family(f"system_administration/{fam}").sample_params(np.random.default_rng(0), 9)
        with pytest.raises(Exception):  # noqa: B017 - any TaskGenerationError message
            get_family(f"system_administration/{fam}").generate("x", {"difficulty": 1}, 1)


# -- determinism -----------------------------------------------------------------------
SCRIPT = """
import json, sys
from harness.workload import get_family
out = []
for fam, params, seed in json.loads(sys.argv[1]):
    f = get_family("system_administration/" + fam)
    spec = f.generate("det", params, seed)
    out.append([spec.content_hash(), f.build_world(spec).digest()])
print(json.dumps(out))
"""


def test_same_spec_same_world_in_any_process():
    jobs, expected = [], []
    for fam in FAMILIES:
        family = get_family(f"system_administration/{fam}")
        params = family.sample_params(np.random.default_rng(7), 5)
        spec = family.generate("det", params, 42)
        w1, w2 = family.build_world(spec), family.build_world(spec)
        assert w1.digest() == w2.digest()
        w1.services.restart(w1.services.names()[0])
        assert family.build_world(spec).digest() == w2.digest()  # worlds are independent copies
        jobs.append([fam, params, 42])
        expected.append([spec.content_hash(), w2.digest()])
    out = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(jobs)], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert json.loads(out) == expected
