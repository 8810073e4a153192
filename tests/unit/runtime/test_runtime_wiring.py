"""Security and observability in the episode: what a call may do is authorized before it
touches the world, approvals cost simulated time, unsafe actions are counted, and the
agent's history answers according to the observability layer."""

import pytest

from harness.agents.scope import EpisodeScope
from harness.core.rng import RngStreams
from harness.experiment.conditions import Condition, LayerChoice
from harness.experiment.episode import run_episode
from harness.runtime.port import Call, History, Submit
from harness.runtime.runtime import Runtime
from harness.workload import get_family
from harness.workload.workloads import WorkloadConfig, build_workload
from tests.scripted import register_agent

READ_ONLY = ["may read files under tests/"]


@pytest.fixture(scope="module")
def spec():
    return build_workload(WorkloadConfig(name="w", families=[{"family": "code_modification/rename_symbol",
                                                              "count": 2, "difficulties": [1]}]))[0]


def _session(spec, layers, seed=0, policy=None):
    """A session on the task; ``policy`` replaces the task's stated policy."""
    world = get_family(spec.family).build_world(spec)
    brief = spec.brief() if policy is None else spec.brief().model_copy(update={"policy": tuple(policy)})
    return Runtime(layers).deploy(world, brief, RngStreams(seed, spec.id, 0)), world


def _test_file(spec):
    return spec.public["test_module"]


@pytest.mark.parametrize("variant,call", [
    ("typed", lambda p: Call(tool="write_file", args={"path": p, "text": ""})),
    ("shell", lambda p: Call(tool="shell", args={"command": f"rm {p}"})),
])
def test_capabilities_refuse_what_the_policy_does_not_grant(spec, variant, call):
    session, world = _session(spec, {"tools": {"variant": variant}, "security": {"variant": "capabilities"}},
                              policy=READ_ONLY)
    before = world.digest()
    obs = session.execute(call(_test_file(spec)))
    assert not obs.ok and not obs.applied and world.digest() == before
    if variant == "typed":
        assert obs.error.code == "permission_denied"
    else:
        assert "Permission denied" in obs.text
    read = session.execute(Call(tool="read_file", args={"path": _test_file(spec)}) if variant == "typed"
                           else Call(tool="shell", args={"command": f"cat {_test_file(spec)}"}))
    assert read.ok


def test_unsafe_actions_are_counted_blocked_or_applied(spec):
    rm = Call(tool="shell", args={"command": f"rm {_test_file(spec)}"})
    ambient, _ = _session(spec, {"tools": {"variant": "shell"}, "security": {"variant": "ambient"}})
    ambient.execute(rm)
    assert (ambient.safety.unsafe_attempted, ambient.safety.unsafe_applied, ambient.safety.unsafe_blocked) == (1, 1, 0)
    guarded, _ = _session(spec, {"tools": {"variant": "shell"}, "security": {"variant": "capabilities"}},
                          policy=READ_ONLY)
    guarded.execute(rm)
    assert (guarded.safety.unsafe_attempted, guarded.safety.unsafe_applied, guarded.safety.unsafe_blocked) == (1, 0, 1)


def test_approvals_cost_simulated_time_with_paired_draws(spec):
    layers = {"tools": {"variant": "typed"}, "security": {"variant": "approval",
                                                         "config": {"privileged_actions": ["write"]}}}
    write = Call(tool="write_file", args={"path": "notes.txt", "text": "x"})
    waits = []
    for _ in range(2):
        session, _ = _session(spec, layers, seed=3)
        session.execute(write)
        waits.append((session.safety.approvals, session.safety.approval_wait_minutes, session.clock.now()))
    assert waits[0] == waits[1]  # same seed, same approver
    approvals, waited, now = waits[0]
    assert approvals == 1 and waited > 0 and now >= waited
    reads, _ = _session(spec, layers, seed=3)
    reads.execute(Call(tool="read_file", args={"path": _test_file(spec)}))
    assert reads.safety.approvals == 0  # reading is not privileged


@pytest.mark.parametrize("variant", ["causal", "textlog", None])
def test_history_answers_by_the_observability_layer(spec, variant):
    layers = {"tools": {"variant": "typed"}}
    if variant:
        layers["observability"] = {"variant": variant}
    session, _ = _session(spec, layers)
    session.execute(Call(tool="write_file", args={"path": "notes.txt", "text": "x"}))
    session.execute(Call(tool="read_file", args={"path": "missing.txt"}))
    if variant == "causal":
        obs = session.history(History(query={"op": "last_change", "resource": "file:notes.txt"}))
        assert obs.ok and obs.data is not None and "0" in str(obs.data)
    elif variant == "textlog":
        obs = session.history(History(query="write_file"))
        assert obs.ok and obs.data is None and "write_file" in obs.text
    else:
        obs = session.history(History(query="write_file"))
        assert not obs.ok
    assert session.log[-1].tool == "history" and len(session.log) == 3


def test_episode_rows_carry_safety_counters(spec):
    def vandal(brief, tools):
        yield Call(tool="shell", args={"command": f"rm {brief.public['test_module']}"})
        yield Submit()

    register_agent("test-rm", lambda: type("A", (), {"run": staticmethod(lambda b, t, r: vandal(b, t))})())
    cond = Condition(name="c", layers={"tools": LayerChoice(variant="shell"),
                                       "security": LayerChoice(variant="capabilities", config={"policy": READ_ONLY})})
    ep, _ = run_episode("r", spec, cond, {"name": "test-rm"}, 0, 0, scope=EpisodeScope())
    assert (ep.unsafe_attempted, ep.unsafe_blocked, ep.unsafe_applied) == (1, 1, 0)
    assert not ep.success  # blocked, but the rename was never done either


@pytest.mark.parametrize("tools", ["typed", "shell"])
def test_permitted_layers_do_not_change_what_a_perfect_agent_achieves(spec, tools):
    perfect = {"name": "reference", "profile": {"slip_rate": 0, "malformed_call_rate": 0, "misread_rate": 0}}
    pkg = spec.public["package"]  # the refactoring scope, pre-authorized
    policy = [f"may read files under {pkg}/", "may read files under tests/", f"may write files under {pkg}/",
              "may write files under tests/", "may execute files under tests/"]
    plain = Condition(name="p", layers={"tools": LayerChoice(variant=tools)})
    layered = Condition(name="l", layers={
        "tools": LayerChoice(variant=tools),
        "security": LayerChoice(variant="capabilities", config={"policy": policy}),
        "observability": LayerChoice(variant="causal"),
    })
    a, _ = run_episode("r", spec, plain, perfect, 0, 0, scope=EpisodeScope())
    b, _ = run_episode("r", spec, layered, perfect, 0, 0, scope=EpisodeScope())
    assert a.success and b.success, (b.termination, b.check_detail)
    assert a.world_digest == b.world_digest


@pytest.mark.parametrize("memory,expect_found", [
    ({"variant": "tiered", "config": {"embedder": "hashing"}}, True),
    ({"variant": "tiered"}, True),  # the default, offline wordllama embedder
    ({"variant": "notes"}, True),
    ({"variant": "context"}, False),
    (None, False),
])
def test_what_session_one_learned_survives_into_session_two_only_where_memory_keeps_it(memory, expect_found):
    from harness.runtime.port import Recall, Remember

    seen = []

    def two_sessions(brief, tools):
        if brief.session == 0:
            obs = yield Remember(key="convention", text="money helpers end in _cents and start their docstring with Returns")
        else:
            obs = yield Recall(query="what is the naming convention for money helpers", k=3)
            seen.append(obs)
        yield Submit()

    register_agent("test-two-sessions",
                   lambda: type("A", (), {"run": staticmethod(lambda b, t, r: two_sessions(b, t))})())
    task = build_workload(WorkloadConfig(name="m", families=[{"family": "code_modification/follow_convention",
                                                              "count": 1, "difficulties": [1]}]))[0]
    layers = {"tools": LayerChoice(variant="typed")}
    if memory:
        layers["memory"] = LayerChoice(**memory)
    ep, actions = run_episode("r", task, Condition(name="c", layers=layers), {"name": "test-two-sessions"}, 0, 0,
                              scope=EpisodeScope())
    assert [a.tool for a in actions] == ["remember", "recall"] and ep.actions == 2
    (obs,) = seen
    texts = [item["text"] for item in (obs.data or {}).get("items", [])]
    assert any("_cents" in t for t in texts) == expect_found, (memory, obs)
