"""The llm agent through the real episode loop against the local stub server: tool calling
round trip, malformed tool calls, reasoning traces, token and cost accounting, the run's
cap, and crash recovery answered from the recording."""

from __future__ import annotations

import functools
import json

import pytest

from harness.agents.llm.recording import Recorder
from harness.agents.registry import validate_agent
from harness.agents.scope import EpisodeScope, RunBudget
from harness.experiment.config import build_run_config, config_dir
from harness.experiment.episode import run_episode
from harness.experiment.runner import TaskJob, effective_conditions, run_task_job
from harness.workload.workloads import build_workload
from tests.llm_stub import Reply, Stub, assistant, serve, tool_call


@functools.cache
def _setup():
    cfg = build_run_config(["experiment=smoke", "agent=llm", "workload.limit=5",
                            "conditions=[agent_native,human]"])
    tasks = build_workload(cfg.workload, base_dir=config_dir().parent)
    spec = next(t for t in tasks if t.category == "code_modification")
    return cfg, spec, {c.name: c for c in effective_conditions(cfg)}


def _agent(url: str, **extra) -> dict:
    cfg, _, _ = _setup()
    return {**cfg.agent, "base_url": url, "model": "stub-model", "retries": 1, "backoff_s": 0.0,
            "price": {"input_per_mtok": 3.0, "output_per_mtok": 15.0}, **extra}


def _episode(agent: dict, condition: str, scope: EpisodeScope | None = None, observe=None):
    _, spec, conditions = _setup()
    scope = scope or EpisodeScope()
    episode, actions = run_episode("t", spec, conditions[condition], agent, 0, 0, scope=scope, observe=observe)
    return episode, actions, scope


def test_tool_call_round_trip_under_a_shell():
    replies = [Reply(message=assistant(tool_call("shell", {"command": "ls"}, "call_a"))),
               Reply(message=assistant(tool_call("finish", {"answer": {}}, "call_b")))]
    with serve(Stub(replies=replies)) as stub:
        episode, actions, scope = _episode(_agent(stub.url), "human")
    assert episode.termination == "submitted" and episode.error is None
    assert [a.tool for a in actions] == ["shell"]
    first, second = (r.body for r in stub.chats())
    assert [t["function"]["name"] for t in first["tools"]][0] == "shell"
    tool_msg = second["messages"][-1]
    assert tool_msg["role"] == "tool" and tool_msg["tool_call_id"] == "call_a"
    assert "tests/" in tool_msg["content"]  # the listing came back as text
    usage = [r["usage"] for r in (x.response for x in scope.exchanges())]
    assert episode.tokens == sum(u["prompt_tokens"] + u["completion_tokens"] for u in usage) > 0
    expected = sum(u["prompt_tokens"] * 3.0 + u["completion_tokens"] * 15.0 for u in usage) / 1e6
    assert episode.cost_usd == pytest.approx(expected, rel=1e-9)


def test_typed_layer_gets_schemas_and_structured_results():
    replies = [Reply(message=assistant(tool_call("list_files", {}))),
               Reply(message=assistant(tool_call("finish", {"answer": {}})))]
    with serve(Stub(replies=replies)) as stub:
        episode, _, _ = _episode(_agent(stub.url), "agent_native")
    assert episode.termination == "submitted" and episode.tool_calls_ok == 1
    content = json.loads(stub.chats()[1].body["messages"][-1]["content"])
    assert content["ok"] is True and "files" in content["data"]


def test_malformed_tool_call_json_is_refused_by_the_typed_layer_and_counted():
    replies = [Reply(message=assistant(tool_call("read_file", '{"path": "README'))),
               Reply(message=assistant(tool_call("finish", {"answer": {}})))]
    with serve(Stub(replies=replies)) as stub:
        episode, _, _ = _episode(_agent(stub.url), "agent_native")
    assert episode.termination == "submitted" and episode.error is None
    assert (episode.tool_calls, episode.tool_calls_ok, episode.tool_calls_rejected) == (1, 0, 1)
    content = json.loads(stub.chats()[1].body["messages"][-1]["content"])
    assert content["error"]["code"] == "invalid_arguments"


def test_the_models_own_text_becomes_a_reasoning_trace():
    replies = [Reply(message=assistant(tool_call("finish", {"answer": {}}), content="I believe it is done."))]
    seen = []
    with serve(Stub(replies=replies)) as stub:
        _episode(_agent(stub.url), "agent_native", observe=lambda s: seen.extend(s.thoughts))
    assert [t.step for t in seen] == ["I believe it is done."]


def test_an_endpoint_that_keeps_failing_is_fatal_not_a_stored_row():
    with serve(Stub(replies=[Reply(status=503)] * 5)) as stub:
        episode, _, scope = _episode(_agent(stub.url), "human")
    assert episode.termination == "harness_error" and scope.fatal is not None
    assert "kept failing" in str(scope.fatal)


def test_the_run_cap_ends_the_episode_cleanly_and_the_job_schedules_nothing_more():
    cfg, spec, conditions = _setup()
    with serve() as stub:
        agent = _agent(stub.url, max_run_tokens=6000)
        budget = RunBudget(max_tokens=6000)
        job = TaskJob("t", spec, tuple(conditions.values()), validate_agent(agent), 0,
                      (("agent_native", 0), ("human", 0)), budget=budget)
        result = run_task_job(job)
    assert result.fatal is None and "token cap" in result.capped
    assert len(result.rows) == 1  # the second episode was never started
    episode, _, exchanges, _ = result.rows[0]
    assert episode.termination == "budget_cap" and episode.tokens >= 6000
    assert len(exchanges) == len(stub.chats())


def test_crash_recovery_is_answered_from_the_recording_not_the_network():
    with serve() as stub:
        _, spec, conditions = _setup()
        crashing = conditions["agent_native"].model_copy(update={"faults": {"crash_rate": 0.3}})
        scope = EpisodeScope()
        episode, _ = run_episode("t", spec, crashing, _agent(stub.url), 0, 0, scope=scope)
        bodies = [json.dumps(r.body, sort_keys=True) for r in stub.chats()]
    assert episode.crashes > 0 and episode.recoveries > 0 and episode.error is None
    assert len(bodies) == len(set(bodies)) == len(scope.exchanges())  # no request sent twice


def test_replaying_an_episode_offline_gives_the_same_row():
    with serve() as stub:
        live, _, scope = _episode(_agent(stub.url), "human")
    recorded = {x.request_hash: x.response for x in scope.exchanges()}
    replayed, _, _ = _episode(_agent("http://127.0.0.1:9/v1", replay="earlier"), "human",
                              EpisodeScope(Recorder(recorded, offline=True)))
    skip = {"wall_seconds"}
    assert replayed.model_dump(exclude=skip) == live.model_dump(exclude=skip)
    assert live.tokens > 0
