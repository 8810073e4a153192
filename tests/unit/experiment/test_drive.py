"""The driver: crashes, recovery, exactly-once effects, state across sessions, faults."""

import pytest

from harness.agents.profile import AgentProfile
from harness.agents.scope import EpisodeScope
from harness.core.errors import ConfigError
from harness.core.rng import RngStreams
from harness.experiment.conditions import Condition, LayerChoice
from harness.experiment.episode import run_episode
from harness.experiment.faults import FaultModel, FaultSchedule
from tests.strategy_support import HUMAN, NATIVE, tasks

DURABLE = {**NATIVE, "execution": {"variant": "durable", "config": {"checkpoint_every": 4}}}
EPHEMERAL = {**HUMAN, "execution": {"variant": "ephemeral"}}
DEFAULT = {"name": "reference", "profile": AgentProfile().model_dump()}


@pytest.fixture(scope="module")
def renames():
    return tasks("code_modification/rename_symbol", difficulties=(1, 3), per_difficulty=2)


def _episode(spec, layers, faults=None, repeat=0, agent=DEFAULT):
    cond = Condition(name="c", layers={k: LayerChoice(**v) for k, v in layers.items()}, faults=faults or {})
    return run_episode("r", spec, cond, agent, 0, repeat, scope=EpisodeScope())


@pytest.mark.parametrize("repeat", [0, 1, 2])
def test_durable_crashes_are_pauses_same_world_same_actions(renames, repeat):
    for spec in renames:
        calm, calm_actions = _episode(spec, DURABLE, repeat=repeat)
        # restarts unlimited: what is compared is each crash's outcome, not running out of restarts
        rough, rough_actions = _episode(spec, DURABLE, {"crash_rate": 0.3, "crash_after_effect": 0.5,
                                                        "max_restarts": 1000}, repeat)
        assert rough.error is None
        assert rough.world_digest == calm.world_digest and rough.success == calm.success
        # nothing re-executed: every effect applied exactly once, in the same order
        assert [a.tool for a in rough_actions] == [a.tool for a in calm_actions]
        assert rough.sim_minutes >= calm.sim_minutes


def test_durable_recovers_every_crash_and_ephemeral_none(renames):
    crashed = {"durable": [0, 0], "ephemeral": [0, 0]}
    for spec in renames:
        for name, layers in (("durable", DURABLE), ("ephemeral", EPHEMERAL)):
            ep, _ = _episode(spec, layers, {"crash_rate": 0.3, "max_restarts": 1000})
            crashed[name][0] += ep.crashes
            crashed[name][1] += ep.recoveries
    assert crashed["durable"][0] > 0 and crashed["durable"][0] == crashed["durable"][1]
    assert crashed["ephemeral"][0] > 0 and crashed["ephemeral"][1] == 0


def test_an_ephemeral_restart_redoes_work(renames):
    calm = sum(_episode(s, EPHEMERAL)[0].actions for s in renames)
    rough = sum(_episode(s, EPHEMERAL, {"crash_rate": 0.3})[0].actions for s in renames)
    assert rough > calm


def test_too_many_crashes_lose_the_episode(renames):
    ep, _ = _episode(renames[0], EPHEMERAL, {"crash_rate": 1.0, "max_restarts": 1})
    assert ep.termination == "crash_not_recovered" and not ep.success and ep.crashes == 2


def test_a_fault_fires_once_per_action():
    schedule = FaultSchedule(FaultModel(crash_rate=1.0, crash_after_effect=0.0), RngStreams(0, "t", 0))
    assert schedule.crash(3) == "before"
    assert schedule.crash(3) is None  # the re-proposed action does not meet it again
    assert schedule.crash(4) == "before"


def test_fault_draws_are_common_random_numbers():
    a = FaultSchedule(FaultModel(crash_rate=0.5), RngStreams(1, "t", 0))
    b = FaultSchedule(FaultModel(crash_rate=0.5), RngStreams(1, "t", 0))
    assert [a.crash(i) for i in range(40)] == [b.crash(i) for i in range(40)]
    assert any(a.crash(i) for i in range(40, 80))


def test_transient_failures_refuse_in_the_interface_style(renames):
    from harness.runtime.port import Call
    from harness.runtime.runtime import Runtime
    from harness.workload import get_family

    spec = renames[0]
    for layers, call in ((DURABLE, Call(tool="read_file", args={"path": spec.public["test_module"]})),
                         (EPHEMERAL, Call(tool="shell", args={"command": "ls"}))):
        ep, _ = _episode(spec, layers, {"transient_failure_rate": 0.5})
        assert ep.transient_failures > 0 and ep.error is None
        world = get_family(spec.family).build_world(spec)
        session = Runtime(layers).deploy(world, spec.brief(), RngStreams(0, spec.id, 0))
        before = world.digest()
        obs = session.fail_transient(call)
        assert not obs.ok and not obs.applied and world.digest() == before
        if call.tool == "shell":
            assert "Resource temporarily unavailable" in obs.text
        else:
            assert obs.error.code == "unavailable"


def test_bad_fault_model_is_a_config_error():
    with pytest.raises(ConfigError, match="crash_rate"):
        FaultModel.parse({"crash_rate": 2})
    with pytest.raises(ConfigError, match="crash_probability"):
        FaultModel.parse({"crash_probability": 0.1})


def test_checkpoints_are_counted_and_ephemeral_keeps_none(renames):
    durable, _ = _episode(renames[0], DURABLE)
    ephemeral, _ = _episode(renames[0], EPHEMERAL)
    assert durable.checkpoints >= 2 and ephemeral.checkpoints == 0


def test_crash_detection_ends_on_a_large_clock(renames):
    """A crash after days of approval waits: the detection wait must still end."""
    from harness.agents.registry import validate_agent
    from harness.experiment.drive import Driver
    from harness.experiment.faults import FaultModel, FaultSchedule
    from harness.runtime.runtime import Runtime
    from harness.workload import get_family

    spec = renames[0]
    for layers in (DURABLE, EPHEMERAL):
        world = get_family(spec.family).build_world(spec)
        rng = RngStreams(0, spec.id, 0)
        session = Runtime(layers).deploy(world, spec.brief(), rng)
        session.clock.advance(123_456.789)
        driver = Driver(session, spec, validate_agent(DEFAULT), rng, session.execution,
                        FaultSchedule(FaultModel(human_notice_minutes=15.3), rng), "e", scope=EpisodeScope())
        start = session.clock.now()
        driver._wait_for_detection()
        assert 0 < session.clock.now() - start <= 15.3 + 1e-6


def test_running_out_of_time_is_the_approval_process_s_doing_only_when_its_waits_caused_it():
    from tests.strategy_support import PERFECT, run

    spec = tasks("system_administration/config_fix", difficulties=(1,), per_difficulty=1)[0]
    deadline = spec.budget.max_minutes

    def approver(latency):
        return {"variant": "approval", "config": {"working_hours": None, "availability": 1.0,
                                                  "timeout_probability": 0.0, "false_refusal_probability": 0.0,
                                                  "latency_median_minutes": latency, "latency_p90_minutes": latency}}

    # approved a minute before the deadline: the work left after it runs past the deadline
    slow = run(spec, {**HUMAN, "security": approver(deadline - 1.0)}, PERFECT)
    assert slow.termination == "approval_timeout" and not slow.success and slow.approvals == 1
    # the answer would come after the deadline: the episode ends waiting
    never = run(spec, {**HUMAN, "security": approver(deadline * 2)}, PERFECT)
    assert never.termination == "approval_timeout" and never.sim_minutes < deadline + 1
    # a quick approver: done in time
    assert run(spec, {**HUMAN, "security": approver(5.0)}, PERFECT).success
