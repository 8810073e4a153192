"""Errors are not failures (DESIGN §5, invariants 8 and 9; issue 16 items 5-7).

An agent draws only from its own streams; an agent whose code raises is an
``agent_error`` row with its traceback, left out of every rate and gap; the skill dial
``error_scale`` multiplies every error rate.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.agents.profile import RATES, UNBOUNDED, AgentProfile
from harness.agents.scope import EpisodeScope
from harness.analysis.suite import Analyses, RunPlan, Settings
from harness.analysis.validity import analysable
from harness.core.rng import AgentStreams, RngStreams, StreamAccessError
from harness.experiment.episode import run_episode
from harness.runtime.port import Call, Submit
from harness.workload.workloads import WorkloadConfig, build_workload
from tests.scripted import TYPED

DRAWN: dict[str, float] = {}


class _Peeker:
    """Asks for the environment's crash stream, as a custom agent might try to."""

    def run(self, brief, tools, rng):
        rng.get("fault.crash").random()
        yield Submit()


class _AgentDraw:
    def run(self, brief, tools, rng):
        DRAWN["agent.slip"] = rng.uniform("agent.slip")
        yield Call(tool="list_files", args={})
        yield Submit()


@pytest.fixture(scope="module")
def spec():
    return build_workload(WorkloadConfig(name="t", families=[{"family": "code_modification/rename_symbol",
                                                              "count": 1, "difficulties": [1]}]))[0]


def _with_agent(substitute, name, cls):
    from harness.agents.registry import AGENTS
    from tests.scripted import agent_entry

    substitute(AGENTS, agent_entry(name, cls))


def test_the_agent_view_refuses_every_stream_but_its_own():
    view = AgentStreams(RngStreams(1, "task", 0))
    for name in ("fault.crash", "fault.transient", "approval.latency", "approval.review", "bench.x"):
        with pytest.raises(StreamAccessError):
            view.get(name)
    assert view.uniform("agent.slip") == RngStreams(1, "task", 0).uniform("agent.slip")  # same draws as ever


def test_an_agent_that_reaches_for_the_fault_stream_is_an_agent_error(substitute, spec):
    _with_agent(substitute, "test-peeker", _Peeker)
    ep, _ = run_episode("r", spec, TYPED, {"name": "test-peeker"}, 0, 0, scope=EpisodeScope())
    assert ep.termination == "agent_error" and "StreamAccessError" in ep.error
    assert "fault.crash" in ep.traceback


def test_the_agent_draws_what_its_named_stream_holds(substitute, spec):
    _with_agent(substitute, "test-draw", _AgentDraw)
    run_episode("r", spec, TYPED, {"name": "test-draw"}, 7, 2, scope=EpisodeScope())
    assert DRAWN["agent.slip"] == RngStreams(7, spec.id, 2).uniform("agent.slip")


def test_a_fault_draw_is_unmoved_by_how_much_the_agent_draws():
    # The environment's streams are another object: an agent drawing a thousand times
    # from its own leaves the k-th crash draw where it was.
    env, agent = RngStreams(3, "t", 0), AgentStreams(RngStreams(3, "t", 0))
    for _ in range(1000):
        agent.uniform("agent.slip")
    assert env.uniform("fault.crash") == RngStreams(3, "t", 0).uniform("fault.crash")


def _frame(rows):
    return pd.DataFrame(rows, columns=["category", "task_id", "condition", "repeat", "success", "termination"])


def test_errors_are_left_out_and_a_task_without_a_valid_pair_leaves_every_condition():
    rows = [("c", "t1", "A", 0, True, "submitted"), ("c", "t1", "B", 0, False, "submitted"),
            ("c", "t1", "B", 1, False, "agent_error"),
            ("c", "t2", "A", 0, True, "submitted"), ("c", "t2", "B", 0, False, "harness_error"),
            ("c", "t3", "A", 0, False, "time_budget"), ("c", "t3", "B", 0, False, "approval_timeout")]
    kept, left = analysable(_frame(rows))
    assert set(kept.task_id) == {"t1", "t3"}  # t2 lost its only B episode: out of A too
    assert not kept.termination.isin(["agent_error", "harness_error"]).any()
    assert left.errors == {("B", "agent_error"): 1, ("B", "harness_error"): 1}
    assert left.unpaired_tasks == ("t2",) and left.total == 2


def test_an_error_never_lowers_a_completion_rate():
    # B succeeds whenever it runs; one of its episodes broke. Counted as a failure, B's
    # rate would be 2/3; left out, it is 1.
    rows = [("c", f"t{i}", c, 0, True, "submitted") for i in range(3) for c in "AB"]
    rows[5] = ("c", "t2", "B", 0, False, "harness_error")
    rows.append(("c", "t2", "B", 1, True, "submitted"))
    frame = _frame(rows).assign(tool_calls=1, tool_calls_accurate=1, retention_asked=0, retention_correct=0)
    kept, _ = analysable(frame)
    est = Analyses("r", kept, RunPlan(("A", "B"), ("A", "B")), Settings(resamples=200)).completion()
    assert {e.conditions: e.estimate for e in est if e.category == "all"} == {"A": 1.0, "B": 1.0}


@given(st.floats(0, 1), st.floats(0, 8))
def test_error_scale_multiplies_every_rate_and_zero_is_perfect(rate, scale):
    profile = AgentProfile(**{name: rate for name in RATES}, error_scale=scale)
    for name in RATES:
        assert profile.rate(name) == pytest.approx(min(1.0, rate * scale))
    bound = profile.context_capacity / scale if scale else np.inf
    assert profile.capacity == (UNBOUNDED if bound >= UNBOUNDED else max(1, int(np.ceil(bound))))
    assert AgentProfile(error_scale=scale * 2).capacity <= profile.capacity  # less skill, less held


def test_the_perfect_profile_is_error_scale_zero():
    perfect = AgentProfile.perfect()
    assert all(perfect.rate(name) == 0 for name in RATES) and perfect.capacity == UNBOUNDED
