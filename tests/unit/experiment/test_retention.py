"""Cross-session retention probes: they measure what the layers kept and change nothing."""

import pytest

from harness.agents.profile import AgentProfile
from harness.agents.scope import EpisodeScope
from harness.core.clock import SimClock
from harness.experiment.conditions import Condition, LayerChoice
from harness.experiment.episode import run_episode
from harness.experiment.probes import scored
from harness.runtime.memory import MEMORY_LAYERS
from harness.runtime.port import Submit
from harness.workload.workloads import WorkloadConfig, build_workload
from tests.scripted import register_agent

PROFILE = AgentProfile().model_dump()
TOOLS = {"tools": LayerChoice(variant="typed")}
DURABLE = {"execution": LayerChoice(variant="durable", config={"checkpoint_every": 8})}
TIERED = {"memory": LayerChoice(variant="tiered", config={"embedder": "hashing"})}
CONTEXT = {"memory": LayerChoice(variant="context")}


@pytest.fixture(scope="module")
def two_session():
    cfg = WorkloadConfig(name="p", families=[{"family": "code_modification/follow_convention", "count": 2,
                                              "difficulties": [2]}])
    spec = build_workload(cfg)[0]
    assert len(spec.sessions) == 2 and spec.probes
    return spec


def _run(spec, layers):
    cond = Condition(name="c", layers={**TOOLS, **layers})
    return run_episode("r", spec, cond, {"name": "reference", "profile": PROFILE}, 0, 0, scope=EpisodeScope())


@pytest.mark.parametrize("layers,all_kept", [
    ({**DURABLE, **CONTEXT}, True),   # the agent's state was carried across the boundary
    (TIERED, True),                   # memory kept what the agent asked it to keep
    (CONTEXT, False),                 # a bounded context ends with the session
])
def test_retention_follows_what_the_layers_keep(two_session, layers, all_kept):
    ep, _ = _run(two_session, layers)
    assert ep.retention_asked == len(two_session.probes)
    assert ep.retention_correct == (ep.retention_asked if all_kept else 0)


@pytest.mark.parametrize("layers", [TIERED, {**DURABLE, **TIERED}, CONTEXT])
def test_probing_changes_nothing_in_the_episode(two_session, layers):
    probed, probed_actions = _run(two_session, layers)
    silent, silent_actions = _run(two_session.model_copy(update={"probes": ()}), layers)
    skip = {"retention_asked", "retention_correct", "wall_seconds"}
    assert silent.retention_asked == 0 and probed.retention_asked > 0
    assert {k: v for k, v in probed.model_dump().items() if k not in skip} == \
        {k: v for k, v in silent.model_dump().items() if k not in skip}
    assert [a.model_dump(exclude={"wall_latency_ms"}) for a in probed_actions] == \
        [a.model_dump(exclude={"wall_latency_ms"}) for a in silent_actions]


class _Mute:
    def run(self, brief, tools, rng):
        yield Submit()


def test_an_agent_without_the_probe_hook_is_not_asked(two_session):
    register_agent("retention-mute", _Mute)
    ep, _ = run_episode("r", two_session, Condition(name="c", layers={**TOOLS, **TIERED}),
                        {"name": "retention-mute"}, 0, 0, scope=EpisodeScope())
    assert ep.retention_asked == 0 == ep.retention_correct


def test_a_measurement_recall_leaves_tiered_memory_as_it_was():
    memory = MEMORY_LAYERS.build("tiered", {"embedder": "hashing"}, clock=SimClock())
    for i in range(5):
        memory.remember(f"fact {i}", f"the value of setting {i} is {i * 7}")
    before = memory.snapshot()
    assert memory.recall("value of setting 3", 3, record=False)
    assert memory.snapshot() == before
    memory.recall("value of setting 3", 3)
    assert memory.snapshot() != before  # a real recall is recorded (counts, recency)


@pytest.mark.parametrize("reply,expect,ok", [
    ("The password is  HUNTER2 now", ("hunter2",), True),
    ("use snake_case and a docstring", ("snake_case", "docstring"), True),
    ("use snake_case", ("snake_case", "docstring"), False),
    ("", ("x",), False),
])
def test_a_reply_is_correct_only_when_it_holds_every_expected_string(reply, expect, ok):
    assert scored(reply, expect) is ok
