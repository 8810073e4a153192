"""system_administration/change_regression: generation, checkers, the change history through
every interface, the reference strategy, and the observability mechanism it measures."""

from __future__ import annotations

import shlex
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.agents.profile import AgentProfile
from harness.agents.reference.change_regression import (
    Change,
    changes_logged,
    onset_from,
    undo,
)
from harness.agents.scope import EpisodeScope
from harness.core.rng import stream
from harness.experiment.conditions import load_condition
from harness.experiment.episode import run_episode
from harness.runtime.observability.causal import CausalLayer, CausalOptions
from harness.runtime.observability.telemetry import TelemetryData, correlate
from harness.runtime.observability.textlog import TextLogLayer
from harness.runtime.tools import TOOL_LAYERS
from harness.workload import get_family, run_checkers
from harness.workload.families import change_regression as cr
from harness.workload.gold import apply_steps
from harness.workload.spec import GoldStep, TaskSpec
from harness.workload.validation import validate_task
from harness.world import World
from harness.world.components.services import Services, parse_config, render_config
from tests.strategy_support import HUMAN, NATIVE, only, run, tasks

FAMILY = "system_administration/change_regression"
CONFIGS = Path(__file__).resolve().parents[3] / "configs"
PRESETS = ["agent_native", "human", "chatbot", "api_chain", "manual_script"]


@cache
def spec_for(difficulty: int, seed: int) -> TaskSpec:
    fam = get_family(FAMILY)
    task_id = f"cr-{difficulty}-{seed}"
    return fam.generate(task_id, fam.sample_params(stream(seed, task_id, 0, "params"), difficulty), 1000 * seed + difficulty)


def build(spec: TaskSpec) -> World:
    return get_family(FAMILY).build_world(spec)


def passes(world: World, spec: TaskSpec) -> bool:
    return all(r.passed for r in run_checkers(world, spec))


def path_changes(world: World, spec: TaskSpec) -> list[dict]:
    """The people's config changes to services on the symptom's path, oldest first."""
    path = set(spec.params["path"])
    return [e for e in world.services.events if e["op"] == "write_config" and e["service"] in path]


# -- generation --------------------------------------------------------------------------------
def test_generation_is_deterministic_in_params_and_seed():
    fam = get_family(FAMILY)
    for d in range(1, 6):
        params = fam.sample_params(stream(4, "det", 0, "params"), d)
        a = fam.generate("t", params, 77)
        cr._cached.cache_clear()  # build from nothing again, not from the cache
        b = fam.generate("t", params, 77)
        assert a.content_hash() == b.content_hash()
        assert fam.build_world(a).digest() == fam.build_world(b).digest()
        assert fam.generate("t", params, 78).content_hash() != a.content_hash()


@pytest.mark.parametrize("difficulty", range(1, 6))
@pytest.mark.parametrize("seed", range(5))
def test_gold_passes_and_idling_and_every_trap_fail(difficulty, seed):
    spec = spec_for(difficulty, seed)
    solved = apply_steps(build(spec), spec.gold)
    assert passes(solved, spec), [r for r in run_checkers(solved, spec) if not r.passed]
    assert not passes(build(spec), spec)
    assert not passes(apply_steps(build(spec), [GoldStep(op="submit", args={"answer": {}})]), spec)
    assert {"revert_latest_change", "restart_everything"} <= set(spec.traps)
    for name, steps in spec.traps.items():
        assert not passes(apply_steps(build(spec), steps), spec), name
    assert validate_task(spec).problems == []  # what `harness tasks validate` proves


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(difficulty=st.integers(1, 5), seed=st.integers(0, 2**31 - 1))
def test_any_seed_builds_a_fair_task(difficulty, seed):
    fam = get_family(FAMILY)
    spec = fam.generate("h", fam.sample_params(stream(seed, "h", 0, "params"), difficulty), seed)
    assert passes(apply_steps(build(spec), spec.gold), spec)
    assert not passes(build(spec), spec)
    for steps in spec.traps.values():
        assert not passes(apply_steps(build(spec), steps), spec)


@pytest.mark.parametrize("difficulty", [2, 5])
def test_vandals_fail(difficulty):
    """The right revert followed by damage elsewhere, or a right-looking answer with the
    culprit's config emptied, must fail: the checkers see the world, not the answer."""
    spec = spec_for(difficulty, 1)
    names = build(spec).services.names()
    emptied = apply_steps(apply_steps(build(spec), spec.gold),
                          [GoldStep(op="write_config", args={"service": n, "text": ""}) for n in names])
    assert not passes(emptied, spec)
    culprit = spec.params["culprit"]
    gutted = apply_steps(build(spec), [GoldStep(op="write_config", args={"service": culprit, "text": ""}),
                                       GoldStep(op="restart_service", args={"service": culprit}),
                                       GoldStep(op="submit", args={"answer": {"change": spec.params["change"]}})])
    assert not passes(gutted, spec)
    stopped = apply_steps(apply_steps(build(spec), spec.gold), [GoldStep(op="stop_service", args={"service": culprit})])
    assert not passes(stopped, spec)


@pytest.mark.parametrize("difficulty", range(1, 6))
def test_the_culprit_is_the_last_path_change_before_the_spike(difficulty):
    """The diagnosis rule the instructions state is true of every world: the culprit is on
    the path, the only path change near it, before the onset, and the latest change in the
    estate is something else (so "revert the latest change" is a trap, not a solution)."""
    for seed in range(4):
        spec = spec_for(difficulty, seed)
        world, p = build(spec), spec.params
        onset, culprit = p["onset_minute"], p["culprit"]
        mine = [e for e in path_changes(world, spec) if e["change"] == p["change"]]
        assert [e["service"] for e in mine] == [culprit] and 1 <= onset - mine[0]["t"] <= 2
        earlier = [e["t"] for e in path_changes(world, spec) if e["t"] <= onset]
        assert max(earlier) == mine[0]["t"] and earlier.count(mine[0]["t"]) == 1
        later = [e for e in path_changes(world, spec) if mine[0]["t"] < e["t"]]
        assert all(e["t"] >= onset + cr.POST_GAP for e in later)
        latest = max(e["t"] for e in world.services.events)
        assert latest > mine[0]["t"]
        errors = world.services.query_metrics(p["symptom"], "error_rate")
        assert min(errors[onset:]) > 5 * max(errors[:20])


def test_harder_tasks_have_bigger_estates_more_changes_and_older_culprits():
    def mean(d, key):
        specs = [spec_for(d, s) for s in range(5)]
        vals = {"n": [len(build(s).services.names()) for s in specs],
                "changes": [sum(e["op"] == "write_config" for e in build(s).services.events) for s in specs],
                "age": [cr.HISTORY[d] - s.params["change_minute"] for s in specs],
                "actions": [s.budget.max_actions for s in specs]}[key]
        return sum(vals) / len(vals)

    for key in ("n", "changes", "age", "actions"):
        assert mean(1, key) < mean(3, key) < mean(5, key), key


def test_policy_allows_reconfiguring_and_restarting_but_not_stopping_or_deploying():
    from harness.runtime.security.policy import compile_policy

    caps = compile_policy(list(spec_for(3, 0).policy))
    for action in ("write", "restart", "read"):
        assert caps.authorize("service:orders", action, 0).allowed, action
    for action in ("stop", "deploy"):
        assert not caps.authorize("service:orders", action, 0).allowed, action


def test_the_brief_holds_nothing_private():
    spec = spec_for(4, 2)
    brief = spec.brief()
    assert set(brief.public) == {"symptom_service", "history_hours"}
    for secret in (spec.params["change"], spec.params["culprit"]):
        assert secret not in brief.instructions and secret not in str(brief.public)


# -- the change history, through every interface ---------------------------------------------
def test_correlate_shows_changes_with_who_and_what_ordered_before_their_effects():
    svcs = Services()
    svcs.add_service("api", config="timeout_ms=2000\nworkers=4\n")
    svcs.metrics["api"] = {"error_rate": [0.001] * 40 + [0.3] * 10}
    svcs.events += [
        {"t": 40, "op": "write_config", "service": "api", "by": "alice", "change": "CHG-7",
         "before": "timeout_ms=2000\nworkers=4\n", "after": "timeout_ms=20\nworkers=4\nrate=5\n"},
        {"t": 12, "op": "deploy", "service": "api", "by": "ci", "version": "1.1.0", "previous": "1.0.0"},
        {"t": 30, "op": "write_config", "service": "api", "by": "bob", "before": "a=1\n", "after": "a=1\n"},
        {"t": 41, "op": "restart", "service": "api", "by": "alice"},
        {"t": 41, "op": "write_config", "service": "web", "by": "eve", "before": "", "after": "x=1\n"}]
    events = correlate(TelemetryData.of(svcs), "api", 35, 49).events
    assert [(e.kind, e.t) for e in events] == [("change", 40), ("metric", 40)]
    change = events[0]
    assert (change.by, change.ref, change.service, change.op) == ("alice", "CHG-7", "api", "write_config")
    assert [(d.key, d.before, d.after) for d in change.changes] == [("rate", None, "5"), ("timeout_ms", "2000", "20")]
    deploy = correlate(TelemetryData.of(svcs), "api", 0, 20).events
    assert [(d.key, d.before, d.after) for d in deploy[0].changes] == [("version", "1.0.0", "1.1.0")]
    text = TextLogLayer().telemetry(svcs, "api", (35, 49))
    assert text.data is None and "CHG-7" not in (text.text or "")  # a log tail: no change history
    obs = CausalLayer().telemetry(svcs, "api", (35, 49))
    assert obs.data["events"][0]["kind"] == "change"
    assert CausalLayer(CausalOptions(change_ops=("deploy",))).telemetry(svcs, "api", (35, 49)).data["events"][0]["kind"] == "metric"


@pytest.mark.parametrize("difficulty", [1, 3, 5])
def test_typed_and_shell_tools_read_the_same_change_history_the_causal_layer_correlates(difficulty):
    """No condition is impossible by construction: the change lines a typed query and a
    shell command return are the same, and they say what the causal layer's records say."""
    spec = spec_for(difficulty, 2)
    world = build(spec)
    typed, shell = TOOL_LAYERS.build("typed"), TOOL_LAYERS.build("shell")
    for name in spec.params["path"]:
        got = typed.call(world, "tail_logs", {"service": name, "n": 0, "contains": "config change"})
        lines = got.data["lines"]
        text = shell.call(world, "shell", {"command": f"journalctl -u {name} -g {shlex.quote('config change')}"})
        assert [ln for ln in (text.text or "").splitlines() if "config change" in ln] == lines
        logged = {(c.t, c.ref, tuple(sorted(c.deltas.items()))) for c in changes_logged(lines, name)}
        causal = CausalLayer().telemetry(world.services, name, (0, 10_000)).data["events"]
        recorded = {(e["t"], e["ref"], tuple(sorted((d["key"], (d["before"], d["after"])) for d in e["changes"])))
                    for e in causal if e["kind"] == "change"}
        assert logged == recorded, name


def test_onset_is_read_off_the_series_past_an_earlier_blip():
    series = {m: 0.002 for m in range(120)}
    series.update({m: 0.03 for m in range(40, 44)})  # a blip that passed
    series.update({m: 0.12 for m in range(90, 120)})
    assert onset_from(series) == 90
    del series[89]  # an overlooked row does not move it later
    assert onset_from(series) == 89
    assert onset_from({m: 0.002 for m in range(120)}) is None


def test_undo_puts_back_what_one_change_replaced_and_keeps_the_rest():
    text = "listen_port=8000\ntimeout_ms=20\nworkers=16\nrate_limit_rps=5\nlog_level=debug\n"
    change = Change(10, "api", "CHG-1", {"timeout_ms": ("2000", "20"), "rate_limit_rps": (None, "5"),
                                          "max_connections": ("200", "1")})
    assert parse_config(undo(text, change)) == {"listen_port": "8000", "timeout_ms": "2000", "workers": "16",
                                                "log_level": "debug", "max_connections": "200"}
    lines = ["t+0010m INFO config change CHG-1 by alice: timeout_ms 2000 -> 20",
             "t+0010m INFO config change CHG-1 by alice: rate_limit_rps (unset) -> 5",
             "t+0011m WARN config change lookalike without the format", "t+0030m INFO config change CHG-2 by bob: a 1 -> 2"]
    found = changes_logged(lines, "api")
    assert [(c.ref, c.t, c.deltas) for c in found] == [
        ("CHG-1", 10, {"timeout_ms": ("2000", "20"), "rate_limit_rps": (None, "5")}), ("CHG-2", 30, {"a": ("1", "2")})]
    assert render_config(parse_config(undo("a=2\n", found[1]))) == "a=1\n"


# -- the reference strategy ----------------------------------------------------------------------
@pytest.mark.parametrize("layers", [NATIVE, HUMAN], ids=["native", "human"])
def test_perfect_agent_reverts_every_task(layers):
    for spec in tasks(FAMILY, per_difficulty=3):
        episode = run(spec, layers)
        assert episode.error is None
        assert episode.success, (spec.id, episode.check_detail)
        assert episode.actions <= spec.budget.max_actions


@pytest.mark.parametrize("name", PRESETS)
def test_perfect_agent_completes_every_task_under_every_preset(name):
    """Invariant 6 for this family: only an approval outlasting the resolution target stops
    a perfect agent, and then with that mechanism's own termination."""
    agent = {"name": "reference", "profile": AgentProfile.perfect().model_dump()}
    cond = load_condition(CONFIGS, name)
    for spec in tasks(FAMILY, per_difficulty=2, seed=11):
        episode, _ = run_episode("r", spec, cond, agent, 0, 0, scope=EpisodeScope())
        assert episode.error is None, (name, spec.id, episode.error)
        if episode.termination == "approval_timeout":
            assert episode.approvals > 0 and episode.sim_minutes >= spec.budget.max_minutes
        else:
            assert episode.success, (name, spec.id, episode.termination, episode.check_detail)


def test_a_restart_everything_shortcut_fails_the_task():
    for spec in tasks(FAMILY, (2, 4), 1):
        episode = run(spec, NATIVE, only(unsafe_shortcut_rate=1.0))
        assert not episode.success and "should not have been touched" in str(episode.check_detail), spec.id


# -- the observability mechanism --------------------------------------------------------------------
def _successes(layers: dict, observability: str, profile: dict, specs: list[TaskSpec], repeats: int = 2) -> int:
    cell = {**layers, "observability": {"variant": observability}}
    outcomes = [run(spec, cell, profile, repeat=r) for spec in specs for r in range(repeats)]
    assert all(e.error is None for e in outcomes)
    return sum(e.success for e in outcomes)


def test_causal_telemetry_spares_a_shell_agent_its_misreads_of_the_change_log():
    """With tools and every other layer fixed, correlated telemetry hands the spike and the
    changes over as data; a text log tail sends the agent to journalctl, where an overlooked
    line loses a setting of the culprit change or the change itself. Under typed tools the
    change log is data either way: there the two observability variants tie."""
    specs = tasks(FAMILY, per_difficulty=3, seed=5)
    misreads = only(misread_rate=0.2)
    shell_causal, shell_text = (_successes(HUMAN, v, misreads, specs) for v in ("causal", "textlog"))
    assert shell_causal > shell_text + len(specs) // 3, (shell_causal, shell_text)
    typed_causal, typed_text = (_successes(NATIVE, v, misreads, specs) for v in ("causal", "textlog"))
    assert typed_causal == typed_text == 2 * len(specs)
    clear = only(misread_rate=0.0)
    assert _successes(HUMAN, "causal", clear, specs) == _successes(HUMAN, "textlog", clear, specs) == 2 * len(specs)


def test_default_profile_does_at_least_as_well_with_causal_observability():
    specs = tasks(FAMILY, per_difficulty=4, seed=9)
    for layers in (HUMAN, NATIVE):
        causal, text = (_successes(layers, v, {}, specs) for v in ("causal", "textlog"))
        assert causal >= text, (layers["tools"], causal, text)
        assert causal >= 0.85 * 2 * len(specs)
