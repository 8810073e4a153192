"""The reference agent through its port: behaviours that must follow from its profile."""

import shlex

import pytest

from harness.core.rng import RngStreams
from harness.runtime.port import Call, GiveUp, Observation, Submit, Think, ToolError
from harness.runtime.runtime import Runtime
from harness.workload import get_family, run_checkers
from harness.workload.workloads import WorkloadConfig, build_workload
from tests.scripted import make_agent


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


@pytest.fixture()
def forced(monkeypatch):
    """Make the first decision that changes something contain ``kind``; nothing else errs."""
    from harness.agents.reference.errors import ErrorProcesses

    def force(kind):
        left = [kind]

        def mistake(self, *, changes=True):
            return left.pop() if changes and left else None

        monkeypatch.setattr(ErrorProcesses, "mistake", mistake)
    return force


PERFECT = {"slip_rate": 0, "malformed_call_rate": 0, "misread_rate": 0, "context_capacity": 1000}


def test_a_typed_wrong_value_runs_and_its_echo_lets_the_agent_undo_it(spec, forced):
    from harness.agents.reference.errors import Mistake

    forced(Mistake.WRONG_VALUE)
    last, calls, world = _drive(spec, "typed", PERFECT)
    renames = [c.args for c in calls if c.tool == "rename_symbol"]
    assert renames[0]["new_name"] != spec.public["new_name"]  # the schema-valid slip ran
    assert renames[1]["old_name"] == renames[0]["new_name"]  # read the echo, renamed the typo
    assert isinstance(last, Submit) and all(c.passed for c in run_checkers(world, spec))


def test_a_shell_dropped_scope_damages_near_misses_which_the_agent_finds_and_repairs(spec, forced):
    """The sed without word boundaries renames inside longer names too; the baseline scan
    finds them, and the agent restores them to their original spelling."""
    from harness.agents.reference.errors import Mistake

    forced(Mistake.DROPPED_SCOPE)
    old, new = spec.public["old_name"], spec.public["new_name"]
    last, calls, world = _drive(spec, "shell", PERFECT)
    seds = [c.args["command"] for c in calls if c.args["command"].startswith("sed")]
    assert "\\b" not in seds[0] and "\\b" in seds[-1]
    restores = [cmd for cmd in seds[1:] if f"/{new}" not in cmd.split("/")[0] and old in cmd]
    assert restores, seds
    results = {c.checker: c.passed for c in run_checkers(world, spec)}
    assert results["preserved_identifiers"], results


def test_broken_syntax_the_schema_rejects_is_a_wrong_effect_the_lenient_shell_runs(spec, forced):
    """The same mistake in the same decision: typed tools refuse it without touching the
    world; the shell's '>>' for '>' runs, leaving the old text above the new."""
    from harness.agents.reference.agent import make_toolkit
    from harness.agents.reference.errors import ErrorProcesses, Mistake

    path = spec.public["test_module"]
    for variant in ("typed", "shell"):
        forced(Mistake.BROKEN_SYNTAX)
        world = get_family(spec.family).build_world(spec)
        before = world.workspace.read(path)
        session = Runtime({"tools": {"variant": variant}}).deploy(world, spec.brief(), RngStreams(0, spec.id, 0))
        from harness.agents.profile import AgentProfile

        kit = make_toolkit(session.tool_specs(), ErrorProcesses(AgentProfile(**PERFECT), RngStreams(0, spec.id, 0)))
        steps = kit.write(path, "x = 1\n")
        obs, first = None, None
        try:
            while True:
                call = steps.send(obs) if first else next(steps)
                first = first or call
                obs = session.execute(call)
        except StopIteration:
            pass
        if variant == "typed":
            assert session.log[0].applied is False and session.log[0].ok is False  # rejected, nothing ran
            assert world.workspace.read(path) == "x = 1\n"  # then sent again, right
        else:
            assert world.workspace.read(path) == before + "x = 1\n"  # appended: the old text stays


def test_a_typed_wrong_target_runs_and_only_the_result_names_where_it_went(spec, forced):
    from harness.agents.reference.errors import Mistake

    forced(Mistake.WRONG_TARGET)
    edits = []

    def respond(call):
        obs = session_execute(call)
        if call.tool == "write_file":
            edits.append((call.args["path"], obs.data))
        return obs

    world = get_family(spec.family).build_world(spec)
    session = Runtime({"tools": {"variant": "typed"}}).deploy(world, spec.brief(), RngStreams(0, spec.id, 0))
    session_execute = session.execute
    from harness.agents.profile import AgentProfile
    from harness.agents.reference.agent import make_toolkit
    from harness.agents.reference.errors import ErrorProcesses

    kit = make_toolkit(session.tool_specs(), ErrorProcesses(AgentProfile(**PERFECT), RngStreams(0, spec.id, 0)))
    files = sorted(world.workspace.list())
    kit.known.update(files)
    target = files[0]
    steps = kit.write(target, "x = 1\n")
    obs, call = None, next(steps)
    try:
        while True:
            obs = respond(call)
            call = steps.send(obs)
    except StopIteration as done:
        outcome = done.value
    wrong_path, data = edits[0]
    assert wrong_path != target and data["path"] == wrong_path  # schema-valid: it ran, elsewhere
    assert world.workspace.read(wrong_path) == "x = 1\n"  # the damage stays where it landed
    assert outcome.applied is False and "went to" in outcome.message  # the result exposed it
