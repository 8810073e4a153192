"""Per-episode metrics of DESIGN §4: tool-call accuracy, time to diagnosis, crash downtime.

Each is checked on scripted agents whose right answer is known by construction, so a
wrong count shows up as a failed equality, not as a plausible-looking number.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.agents.profile import AgentProfile
from harness.agents.scope import EpisodeScope
from harness.experiment.conditions import Condition, LayerChoice
from harness.experiment.episode import run_episode
from harness.runtime.effect_ledger import EffectLedger
from harness.runtime.port import Call, Submit
from harness.workload import get_family
from harness.workload.workloads import WorkloadConfig, build_workload
from harness.world import World
from tests.scripted import SHELL, TYPED, register


def _spec(family, difficulty=1, index=0):
    cfg = WorkloadConfig(name="m", families=[{"family": family, "count": index + 1, "difficulties": [difficulty]}])
    return build_workload(cfg)[index]


@pytest.fixture(scope="module")
def rename_spec():
    return _spec("code_modification/rename_symbol")


def _first_file(brief):
    return brief.public["test_module"]


# -- the ledger ------------------------------------------------------------------------------
def test_a_write_that_changed_nothing_or_was_undone_is_ineffective():
    ledger = EffectLedger()
    ledger.record(0, {"file:a": "A"}, {"file:a": "A"})  # changed nothing
    ledger.record(1, {"file:a": "A"}, {"file:a": "B"})  # undone by 3
    ledger.record(2, {"file:b": "X"}, {"file:b": "Y"})  # kept
    ledger.record(3, {"file:a": "B"}, {"file:a": "A"})  # the revert itself did what it meant
    assert ledger.ineffective() == {0, 1}


@given(st.lists(st.integers(0, 3), min_size=1, max_size=12))
def test_ineffective_writes_match_a_direct_reading_of_the_definition(contents):
    """Writes to one resource taking it through ``contents`` (starting from 0)."""
    ledger, states = EffectLedger(), [0, *contents]
    for seq in range(len(contents)):
        ledger.record(seq, {"r": str(states[seq])}, {"r": str(states[seq + 1])})
    expected = {seq for seq in range(len(contents))
                if states[seq + 1] == states[seq] or states[seq] in states[seq + 2:]}
    assert ledger.ineffective() == expected


def test_resource_digests_see_one_file_a_directory_and_absence():
    world = World()
    world.workspace.write("pkg/a.py", "x = 1\n")
    world.workspace.write("pkg/b.py", "y = 2\n")
    a, pkg, absent = (world.resource_digest(r) for r in ("file:pkg/a.py", "file:pkg/", "file:pkg/c.py"))
    world.workspace.write("pkg/b.py", "y = 3\n")
    assert world.resource_digest("file:pkg/a.py") == a
    assert world.resource_digest("file:pkg/") != pkg
    world.workspace.write("pkg/c.py", "")
    assert world.resource_digest("file:pkg/c.py") != absent


def test_service_resources_digest_only_their_own_state():
    spec = _spec("system_administration/config_fix")
    world = get_family(spec.family).build_world(spec)
    names = sorted(world.services.services)
    first, other = f"service:{names[0]}", f"service:{names[1]}"
    before = world.resource_digest(first), world.resource_digest(other)
    world.services.services[names[0]]["config"] += "extra=1\n"
    assert world.resource_digest(first) != before[0]
    assert world.resource_digest(other) == before[1]


# -- accuracy in episodes --------------------------------------------------------------------
def _write_then_revert(brief, tools):
    path = _first_file(brief)
    typed = tools[0].name != "shell"
    read = Call(tool="read_file", args={"path": path}) if typed else Call(tool="shell", args={"command": f"cat {path}"})
    obs = yield read
    original = obs.data["text"] if typed else obs.text
    for text in ("broken = True\n", original):  # a slip, then the revert that undoes it
        if typed:
            yield Call(tool="write_file", args={"path": path, "text": text})
        else:
            yield Call(tool="shell", args={"command": f"cat > {path} <<'EOF'\n{text}EOF"})
    yield Submit()


def _write_nothing_new(brief, tools):
    path = _first_file(brief)
    obs = yield Call(tool="read_file", args={"path": path})
    yield Call(tool="write_file", args={"path": path, "text": obs.data["text"]})
    yield Call(tool="read_file", args={"path": "no/such/file.py"})
    yield Submit()


register("metrics-revert", _write_then_revert)
register("metrics-noop", _write_nothing_new)


@pytest.mark.parametrize("cond", [TYPED, SHELL])
def test_a_reverted_slip_counts_against_accuracy_and_the_revert_does_not(rename_spec, cond):
    ep, actions = run_episode("r", rename_spec, cond, {"name": "metrics-revert"}, 0, 0, scope=EpisodeScope())
    assert [a.accurate for a in actions] == [True, False, True]
    assert (ep.tool_calls, ep.tool_calls_accurate) == (3, 2)


def test_a_write_that_changes_nothing_and_a_failed_read_are_inaccurate(rename_spec):
    ep, actions = run_episode("r", rename_spec, TYPED, {"name": "metrics-noop"}, 0, 0, scope=EpisodeScope())
    assert [a.accurate for a in actions] == [True, False, False]
    assert ep.tool_calls_ok == 2 and ep.tool_calls_accurate == 1


def test_accuracy_never_exceeds_success_of_calls_for_the_reference_agent(rename_spec):
    profile = AgentProfile().model_dump()
    for cond in (TYPED, SHELL):
        ep, actions = run_episode("r", rename_spec, cond, {"name": "reference", "profile": profile}, 0, 0,
                                  scope=EpisodeScope())
        assert ep.tool_calls_accurate == sum(a.accurate for a in actions) <= ep.tool_calls_ok
        assert all(a.ok for a in actions if a.accurate)


# -- time to diagnosis -----------------------------------------------------------------------
def _submit_answer(answer_of):
    def script(brief, tools):
        yield Call(tool=tools[0].name, args={"command": "ls"} if tools[0].name == "shell" else {})
        yield Call(tool=tools[0].name, args={"command": "ls"} if tools[0].name == "shell" else {})
        yield Submit(answer=answer_of(brief))
    return script


@pytest.fixture(scope="module")
def incident():
    cfg = WorkloadConfig(name="i", families=[{"family": "system_administration/incident_diagnosis", "count": 6,
                                              "difficulties": [1]}])
    return next(s for s in build_workload(cfg) if len(s.sessions) == 1)


def test_time_to_diagnosis_is_the_submit_minute_of_a_correct_diagnosis_only(incident):
    truth = next(c.args for c in incident.checkers if c.name == "diagnosis")
    register("metrics-right", _submit_answer(lambda b: {"service": truth["service"], "fault": truth["fault"]}))
    register("metrics-wrong", _submit_answer(lambda b: {"service": "nobody", "fault": truth["fault"]}))
    right, _ = run_episode("r", incident, TYPED, {"name": "metrics-right"}, 0, 0, scope=EpisodeScope())
    wrong, _ = run_episode("r", incident, TYPED, {"name": "metrics-wrong"}, 0, 0, scope=EpisodeScope())
    assert right.success and right.diagnosis_minutes == pytest.approx(right.sim_minutes)
    assert right.diagnosis_minutes > 0
    assert not wrong.success and wrong.diagnosis_minutes is None


def test_tasks_without_a_diagnosis_have_no_time_to_diagnosis(rename_spec):
    ep, _ = run_episode("r", rename_spec, TYPED, {"name": "metrics-revert"}, 0, 0, scope=EpisodeScope())
    assert ep.diagnosis_minutes is None


# -- crash downtime --------------------------------------------------------------------------
@pytest.mark.parametrize("execution,notice", [("ephemeral", 30.0), ("durable", 30.0)])
def test_downtime_covers_detection_and_restart_of_every_crash(rename_spec, execution, notice, tmp_path):
    faults = {"crash_rate": 0.3, "human_notice_minutes": notice, "restart_minutes": 2.0, "max_restarts": 50}
    layers = {"tools": LayerChoice(variant="typed")}
    if execution == "durable":
        layers["execution"] = LayerChoice(variant="durable", config={"checkpoint_every": 4})
    cond = Condition(name="c", layers=layers, faults=faults)
    ep, _ = run_episode("r", rename_spec, cond, {"name": "reference", "profile": AgentProfile.perfect().model_dump()},
                        0, 0, scope=EpisodeScope())
    assert ep.crashes > 0
    assert ep.downtime_minutes >= 2.0 * ep.crashes
    if execution == "ephemeral":  # nobody watches a heartbeat: a person notices each crash
        assert ep.downtime_minutes == pytest.approx((notice + 2.0) * ep.crashes)
    else:
        assert ep.downtime_minutes < (notice + 2.0) * ep.crashes
