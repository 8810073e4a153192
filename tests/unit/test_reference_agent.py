"""The reference agent through its port: behaviours that must follow from its profile."""

import shlex

import pytest

from harness.agents import make_agent
from harness.core.rng import RngStreams
from harness.runtime.port import Call, GiveUp, Observation, Submit, Think, ToolError
from harness.runtime.runtime import Runtime
from harness.workload import get_family, run_checkers
from harness.workload.workloads import WorkloadConfig, build_workload


@pytest.fixture(scope="module")
def spec():
    tasks = build_workload(WorkloadConfig(name="a", families=[{"family": "code_modification/rename_symbol",
                                                               "count": 5, "difficulties": [4]}]))
    return tasks[0]


def _drive(spec, variant, profile, respond=None, seed=0):
    world = get_family(spec.family).build_world(spec)
    rng = RngStreams(seed, spec.id, 0)
    session = Runtime({"tools": {"variant": variant}}).deploy(world, spec.brief(), rng)
    steps = make_agent({"name": "reference", "profile": profile}).run(session.brief, session.tool_specs(), rng)
    calls, action = [], next(steps)
    for _ in range(500):
        if isinstance(action, Submit | GiveUp):
            return action, calls, world
        obs = None
        if isinstance(action, Call):
            calls.append(action)
            obs = respond(action) if respond else session.execute(action)
        else:
            assert isinstance(action, Think)
        action = steps.send(obs)
    raise AssertionError("agent did not stop")


def test_a_failed_lookup_is_not_an_empty_one(spec):
    def refuse(call):
        return Observation(tool=call.tool, ok=False, applied=False,
                           error=ToolError(code="invalid_arguments", message="bad"))

    last, calls, _ = _drive(spec, "typed", {}, respond=refuse)
    assert isinstance(last, GiveUp), "an agent that never got an answer must not claim success"


@pytest.mark.parametrize("capacity", [2, 5])
def test_bounded_context_bounds_each_edit(spec, capacity):
    perfect = {"slip_rate": 0, "malformed_call_rate": 0, "misread_rate": 0, "context_capacity": capacity}
    last, calls, world = _drive(spec, "shell", perfect)
    seds = [shlex.split(c.args["command"]) for c in calls if c.args["command"].startswith("sed")]
    assert seds and all(len(argv) - 3 <= capacity for argv in seds)
    assert isinstance(last, Submit) and all(c.passed for c in run_checkers(world, spec))


def test_more_context_needs_fewer_actions(spec):
    perfect = {"slip_rate": 0, "malformed_call_rate": 0, "misread_rate": 0}
    _, small, _ = _drive(spec, "shell", {**perfect, "context_capacity": 2})
    _, large, _ = _drive(spec, "shell", {**perfect, "context_capacity": 1000})
    assert len(large) < len(small)


def test_typed_echo_exposes_a_slip_and_the_agent_undoes_it(spec):
    last, calls, world = _drive(spec, "typed", {"slip_rate": 1.0, "malformed_call_rate": 0, "misread_rate": 0})
    renames = [c.args for c in calls if c.tool == "rename_symbol"]
    assert renames[0]["new_name"] != spec.public["new_name"]  # slipped
    assert renames[1]["old_name"] == renames[0]["new_name"]  # read the echo, renamed the typo


def test_careless_shell_replace_is_detected_and_repaired(spec):
    """Every sed slips (no word boundaries): near-miss names are damaged, the baseline scan
    finds them, and the agent restores them to their original spelling."""
    old, new = spec.public["old_name"], spec.public["new_name"]
    profile = {"slip_rate": 1.0, "malformed_call_rate": 0, "misread_rate": 0, "context_capacity": 1000}
    last, calls, world = _drive(spec, "shell", profile)
    seds = [c.args["command"] for c in calls if c.args["command"].startswith("sed")]
    assert "\\b" not in seds[0]
    restores = [cmd for cmd in seds[1:] if f"/{new}" not in cmd.split("/")[0] and old in cmd]
    assert restores, seds
    results = {c.checker: c.passed for c in run_checkers(world, spec)}
    assert results["preserved_identifiers"], results
