"""The episode loop with scripted agents: success comes only from checkers."""

import pytest

from harness.agents.scope import EpisodeScope
from harness.experiment.episode import run_episode
from harness.runtime.port import Call, Submit, Think
from harness.workload import get_family
from harness.workload.workloads import WorkloadConfig, build_workload
from tests.scripted import SHELL, TYPED, register


def _do_nothing(brief, tools):
    yield Submit()


def _vandal(brief, tools):
    if tools[0].name == "shell":
        yield Call(tool="shell", args={"command": f"rm {brief.public['test_module']}"})
    else:
        yield Call(tool="write_file", args={"path": brief.public["test_module"], "text": ""})
    yield Submit()


def _spinner(brief, tools):
    while True:
        yield Call(tool=tools[0].name, args={"command": "ls"} if tools[0].name == "shell" else {})


def _thinker(brief, tools):
    while True:
        yield Think(step="hmm")


def _broken(brief, tools):
    yield Call(tool="list_files", args={})
    raise RuntimeError("agent bug")


for _name, _fn in {"do_nothing": _do_nothing, "vandal": _vandal, "spinner": _spinner, "thinker": _thinker,
                   "broken": _broken}.items():
    register(f"test-{_name}", _fn)


@pytest.fixture(scope="module")
def spec():
    return build_workload(WorkloadConfig(name="t", families=[{"family": "code_modification/rename_symbol",
                                                              "count": 3, "difficulties": [2]}]))[0]


@pytest.mark.parametrize("cond", [TYPED, SHELL])
@pytest.mark.parametrize("agent", ["do_nothing", "vandal"])
def test_lazy_and_vandal_agents_fail(spec, cond, agent):
    ep, _ = run_episode("r", spec, cond, {"name": f"test-{agent}"}, 0, 0, scope=EpisodeScope())
    assert not ep.success
    assert ep.termination == "submitted"


def test_action_budget_ends_a_spinning_agent(spec):
    ep, actions = run_episode("r", spec, SHELL, {"name": "test-spinner"}, 0, 0, scope=EpisodeScope())
    assert ep.termination in {"action_budget", "time_budget"}
    assert ep.actions <= spec.budget.max_actions and len(actions) == ep.actions
    assert not ep.success


def test_an_agent_that_only_thinks_is_stopped(spec):
    ep, _ = run_episode("r", spec, TYPED, {"name": "test-thinker"}, 0, 0, scope=EpisodeScope())
    assert ep.termination == "gave_up" and ep.actions == 0


def test_an_agent_exception_is_an_agent_error_row_not_a_failure_or_a_crash(spec):
    ep, actions = run_episode("r", spec, TYPED, {"name": "test-broken"}, 0, 0, scope=EpisodeScope())
    assert ep.termination == "agent_error" and "agent bug" in ep.error
    assert "Traceback" in ep.traceback and "agent bug" in ep.traceback
    assert not ep.success and len(actions) == 1
    assert ep.check_detail == "[]"  # an errored episode's world is not judged


def test_gold_world_would_pass_but_only_checkers_decide(spec):
    from harness.workload import run_checkers
    from harness.workload.gold import apply_gold

    world = apply_gold(get_family(spec.family).build_world(spec), spec.gold)
    assert all(c.passed for c in run_checkers(world, spec))


@pytest.mark.parametrize("cond", [TYPED, SHELL])
def test_reference_agent_is_deterministic(spec, cond):
    cfg = {"name": "reference", "profile": {"slip_rate": 0.3, "malformed_call_rate": 0.3, "misread_rate": 0.1}}
    a = run_episode("r", spec, cond, cfg, 5, 1, scope=EpisodeScope())
    b = run_episode("r", spec, cond, cfg, 5, 1, scope=EpisodeScope())
    assert a[0].model_dump(exclude={"wall_seconds"}) == b[0].model_dump(exclude={"wall_seconds"})
    assert [x.model_dump(exclude={"wall_latency_ms"}) for x in a[1]] == [
        x.model_dump(exclude={"wall_latency_ms"}) for x in b[1]]


def test_every_session_gets_its_own_brief_and_shares_the_budget():
    seen = []

    def recorder(brief, tools):
        seen.append((brief.session, brief.instructions))
        yield Call(tool=tools[0].name, args={"prefix": ""} if tools[0].name != "shell" else {"command": "ls"})
        yield Submit()

    register("test-recorder", recorder)
    spec = build_workload(WorkloadConfig(name="t", families=[{"family": "code_modification/follow_convention",
                                                              "count": 1, "difficulties": [2]}]))[0]
    assert len(spec.sessions) == 2
    ep, actions = run_episode("r", spec, TYPED, {"name": "test-recorder"}, 0, 0, scope=EpisodeScope())
    assert [k for k, _ in seen] == [0, 1]
    assert spec.sessions[0].asks in seen[0][1] and spec.sessions[0].asks not in seen[1][1]
    assert spec.sessions[1].asks in seen[1][1]
    assert ep.actions == 2 and [a.seq for a in actions] == [0, 1]
