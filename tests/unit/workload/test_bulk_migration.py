"""code_modification/bulk_migration: the family (generation, gold, traps, vandals) and the
reference strategy (the rule read from the brief, a perfect agent everywhere, and the
observability mechanism: a forgotten edit put right only from a history that kept what
it replaced)."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from harness.agents.reference.bulk_migration import migrated, parse_rule
from harness.agents.scope import EpisodeScope
from harness.core.rng import stream
from harness.experiment.conditions import load_condition
from harness.experiment.episode import run_episode
from harness.workload import get_family, run_checkers
from harness.workload.families import bulk_migration as bm
from harness.workload.gold import apply_steps
from harness.workload.policies import standing
from harness.workload.spec import TaskSpec
from harness.world import World, run_test_module
from tests.strategy_support import HUMAN, NATIVE, PERFECT, SHELL, TYPED, only, run, tasks

NAME = "code_modification/bulk_migration"
CASES = [(d, s) for d in range(1, 6) for s in range(4)]
CONFIGS = Path(__file__).resolve().parents[3] / "configs"
PRESETS = ("agent_native", "human", "chatbot", "api_chain", "manual_script")


@cache
def spec_for(difficulty: int, seed: int) -> TaskSpec:
    family = get_family(NAME)
    task_id = f"bulk-{difficulty}-{seed}"
    return family.generate(task_id, family.sample_params(stream(seed, task_id, 0, "params"), difficulty),
                           1000 * seed + difficulty)


def world_of(spec: TaskSpec, steps=()) -> World:
    return apply_steps(get_family(NAME).build_world(spec), steps)


def failing(world: World, spec: TaskSpec) -> set[str]:
    return {r.checker for r in run_checkers(world, spec) if not r.passed}


# -- the family ---------------------------------------------------------------------------
@pytest.mark.parametrize(("difficulty", "seed"), CASES)
def test_gold_passes_and_the_untouched_package_fails(difficulty, seed):
    spec = spec_for(difficulty, seed)
    initial = world_of(spec)
    assert run_test_module(initial.workspace, spec.public["test_module"]).ok  # the tests pass before
    assert {"no_old_api", "functions_call"} <= failing(initial, spec)
    assert failing(world_of(spec, spec.gold), spec) == set()
    initial.submit({})  # a do-nothing agent that submits
    assert failing(initial, spec)


@pytest.mark.parametrize(("difficulty", "seed"), CASES)
def test_every_trap_fails_on_the_checker_that_sees_through_it(difficulty, seed):
    spec = spec_for(difficulty, seed)
    caught_by = {"rename_only": "hidden_tests_pass", "rewrite_expectations": "hidden_tests_pass",
                 "bend_helper": "definitions_unchanged", "alias_import": "no_old_api",
                 "delete_sites": "functions_call"}
    assert set(spec.traps) == set(caught_by)
    for name, steps in spec.traps.items():
        assert caught_by[name] in failing(world_of(spec, steps), spec), name
    # The shortcuts a naive check accepts: the visible tests pass on them.
    for name in ("rewrite_expectations", "bend_helper", "alias_import"):
        assert run_test_module(world_of(spec, spec.traps[name]).workspace, spec.public["test_module"]).ok, name


@pytest.mark.parametrize(("difficulty", "seed"), CASES[::2])
def test_generic_vandals_fail(difficulty, seed):
    spec = spec_for(difficulty, seed)
    for base in ((), spec.gold):
        gone = world_of(spec, base)
        for path in gone.workspace.list("tests"):
            gone.workspace.delete(path)
        assert failing(gone, spec)
        emptied = world_of(spec, base)
        for path in emptied.workspace.list():
            emptied.workspace.write(path, "")
        assert failing(emptied, spec)
    echo = world_of(spec)
    echo.submit({"answer": spec.instructions})
    assert failing(echo, spec)


def _slipped(spec: TaskSpec, how: str) -> list[World]:
    """The gold solution with exactly one call site migrated in a WRONG way, for each site
    (the strategy's own slips, so what the agent can get wrong is what is tested)."""
    rule = parse_rule(spec.instructions, spec.public["helper_module"])
    initial, worlds = world_of(spec), []
    for path in spec.params["site_modules"]:
        before = initial.workspace.read(path)
        for j in range(before.count(f"{rule.old}(")):
            world = world_of(spec, spec.gold)
            world.workspace.write(path, migrated(before, rule, [how if i == j else None for i in range(j + 1)]))
            worlds.append(world)
    return worlds


@pytest.mark.parametrize(("difficulty", "seed"), [(1, 0), (2, 1), (3, 2), (5, 3)])
def test_one_slipped_argument_anywhere_fails_the_visible_tests(difficulty, seed):
    """The repair loop starts from a failing test run: every wrong migration of every
    site must show there, and in the acceptance checks, though the old name is gone."""
    spec = spec_for(difficulty, seed)
    ways = ("order", "units") if parse_rule(spec.instructions, spec.public["helper_module"]).converts else ("order",)
    for how in ways:
        worlds = _slipped(spec, how)
        assert len(worlds) == spec.params["n_sites"]
        for world in worlds:
            assert not run_test_module(world.workspace, spec.public["test_module"]).ok, how
            assert failing(world, spec) == {"hidden_tests_pass", "tests_pass"}, how


@pytest.mark.parametrize(("difficulty", "seed"), CASES[::3])
def test_public_and_instructions_hold_no_answers(difficulty, seed):
    spec = spec_for(difficulty, seed)
    text = spec.instructions + json.dumps(spec.public)
    for path, names in spec.params["sites"].items():
        assert path not in text
        assert not any(name in text for name in names)
    dumped = spec.brief().model_dump_json()
    assert "gold" not in dumped and "checkers" not in dumped and "hidden" not in dumped
    assert spec.policy == standing("code_modification")  # the standing policy, nothing of its own


def test_params_scale_and_bad_params_are_refused():
    family = get_family(NAME)
    budgets = []
    for d in range(1, 6):
        params = family.sample_params(np.random.Generator(np.random.PCG64(3)), d)
        assert params == family.sample_params(np.random.Generator(np.random.PCG64(3)), d)
        assert bm.SITE_MODULES[d][0] <= params["n_modules"] <= bm.SITE_MODULES[d][1]
        assert bm.SITES[d][0] <= params["n_sites"] <= bm.SITES[d][1]
        spec = spec_for(d, 0)
        assert len(spec.params["site_modules"]) == spec.params["n_modules"]
        assert sum(map(len, spec.params["sites"].values())) == spec.params["n_sites"]
        budgets.append(spec.budget.max_actions)
    assert budgets == sorted(budgets)
    good = family.sample_params(np.random.Generator(np.random.PCG64(3)), 2)
    with pytest.raises(Exception, match="difficulty"):
        family.sample_params(np.random.Generator(np.random.PCG64(3)), 6)
    with pytest.raises(Exception, match="lack"):
        family.generate("bad", {"difficulty": 1}, 1)
    for bad in ({"migration": "nope"}, {"n_sites": good["n_modules"] - 1}):
        with pytest.raises(ValueError, match="bulk_migration"):
            family.generate("bad", {**good, **bad}, 1)


DIGEST_SCRIPT = """
import json, sys
from harness.workload import get_family
fam = get_family(sys.argv[1])
spec = fam.generate("det", json.loads(sys.argv[2]), 77)
print(spec.content_hash(), fam.build_world(spec).digest())
"""


def test_same_params_and_seed_same_task_and_world_in_any_process():
    family = get_family(NAME)
    params = family.sample_params(np.random.Generator(np.random.PCG64(5)), 4)
    a, b = family.generate("det", params, 77), family.generate("det", dict(params), 77)
    assert a.model_dump_json() == b.model_dump_json()
    assert family.build_world(a).digest() == family.build_world(b).digest()
    assert family.build_world(family.generate("det", params, 78)).digest() != family.build_world(a).digest()
    out = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT, NAME, json.dumps(params)],
                         capture_output=True, text=True, check=True, timeout=120).stdout.split()
    assert out == [a.content_hash(), family.build_world(a).digest()]


# -- the strategy's reading and editing -----------------------------------------------------
@pytest.mark.parametrize("key", sorted(bm.BY_KEY))
def test_the_rule_is_read_and_a_slipped_file_is_a_fixed_point_of_the_redo(key):
    """A redo from the file's current text cannot tell a slipped call from a right one."""
    spec = next(spec_for(d, s) for d, s in CASES if spec_for(d, s).params["migration"] == key)
    rule = parse_rule(spec.instructions, spec.public["helper_module"])
    m = bm.BY_KEY[key]
    assert rule is not None and (rule.old, rule.new, rule.params) == (m.old, m.new, m.old_params)
    initial, gold = world_of(spec), world_of(spec, spec.gold)
    for path in spec.params["site_modules"]:
        before = initial.workspace.read(path)
        assert migrated(before, rule) == gold.workspace.read(path)
        n = before.count(f"{m.old}(")
        for how in ("order", "units") if rule.converts else ("order",):
            slipped = migrated(before, rule, [how] * n)
            assert slipped != gold.workspace.read(path) and f"{m.old}(" not in slipped
            assert migrated(slipped, rule) == slipped  # nothing left to redo
    assert parse_rule("migrate everything", "p/m.py") is None


# -- the reference agent ------------------------------------------------------------------
@cache
def _specs(difficulties=(1, 2, 3, 4, 5), per=2) -> list[TaskSpec]:
    return tasks(NAME, difficulties, per)


@pytest.mark.parametrize("layers", ["native", "human"])
def test_a_perfect_agent_completes_every_task_with_either_layer_set(layers):
    chosen = NATIVE if layers == "native" else HUMAN
    for spec in _specs():
        episode = run(spec, chosen)
        assert episode.error is None and episode.success, (spec.id, episode.termination, episode.check_detail[:300])


@pytest.mark.parametrize("preset", PRESETS)
def test_a_perfect_agent_completes_every_task_under_every_preset(preset):
    condition = load_condition(CONFIGS, preset)
    agent = {"name": "reference", "profile": PERFECT}
    for spec in _specs():
        episode, _ = run_episode("r", spec, condition, agent, 0, 0, scope=EpisodeScope())
        assert episode.error is None, episode.error
        if episode.termination != "approval_timeout":  # the one named mechanism that may stop it
            assert episode.success, (preset, spec.id, episode.termination, episode.check_detail[:300])


def _episodes(base: dict, observability: str, profile: dict, specs: list[TaskSpec], repeats: int) -> list[tuple]:
    """(success, actions, final world) of each episode, the layers otherwise as given."""
    layers = {**base, "observability": {"variant": observability}}
    episodes = [run(s, layers, profile, repeat=r) for s in specs for r in range(repeats)]
    assert all(e.error is None for e in episodes)
    return [(e.success, e.actions, e.world_digest) for e in episodes]


@cache
def _paired(tools: str, capacity: int | None) -> dict[str, list[tuple]]:
    base = {**NATIVE, **(TYPED if tools == "typed" else SHELL)}
    profile = only(slip_rate=0.1, **({} if capacity is None else {"context_capacity": capacity}))
    return {obs: _episodes(base, obs, profile, _specs(), 2) for obs in ("causal", "textlog")}


def _rate(episodes: list[tuple]) -> float:
    return sum(e[0] for e in episodes) / len(episodes)


def test_with_typed_tools_the_causal_trace_puts_forgotten_edits_right_and_a_text_log_cannot():
    # Four files in mind, 6 to 20 edited: a slip in a forgotten file is put right only from
    # the replaced text the structured history gives back.
    rates = {k: _rate(v) for k, v in _paired("typed", 4).items()}
    assert rates["causal"] > rates["textlog"] + 0.2, rates


def test_where_every_edit_stays_in_mind_the_two_histories_tie():
    # Unbounded context: held files are compared with what was meant and the history is
    # never asked, so the episodes are the same, repairs and all.
    paired = _paired("typed", None)
    assert paired["causal"] == paired["textlog"]
    perfect = [run(s, {**NATIVE, **TYPED}).actions for s in _specs() for _ in range(2)]
    assert any(e[1] > p for e, p in zip(paired["causal"], perfect, strict=True))  # slips were repaired


def test_with_shell_tools_the_causal_trace_does_no_worse():
    # A heredoc carries only the new text: neither history gives back what an edit replaced.
    paired = _paired("shell", 4)
    assert _rate(paired["causal"]) >= _rate(paired["textlog"]), paired


def test_a_default_agent_does_better_with_the_causal_trace_on_large_migrations():
    from harness.agents.profile import AgentProfile

    specs = tasks(NAME, (4, 5), 4)  # more files than the default context of 12 holds
    default = AgentProfile().model_dump()
    causal, textlog = (_rate(_episodes(NATIVE, obs, default, specs, 3)) for obs in ("causal", "textlog"))
    assert causal > textlog, (causal, textlog)


def test_episodes_are_deterministic():
    spec = _specs()[-1]
    profile = only(slip_rate=0.1, context_capacity=4)
    a, b = run(spec, NATIVE, profile, repeat=1), run(spec, NATIVE, profile, repeat=1)
    assert (a.world_digest, a.actions, a.success) == (b.world_digest, b.actions, b.success)
