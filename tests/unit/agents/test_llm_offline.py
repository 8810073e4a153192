"""What must never touch the network, run under a guard that fails any connection this
process tries to open: a replayed run (hits and misses), the mock model, a trace of an
llm episode. The guard itself is shown to catch the client's connections."""

from __future__ import annotations

import json

import pytest

from harness.agents.llm.client import ChatClient, ClientSettings, EndpointError
from harness.agents.llm.recording import Recorder, ReplayMiss, request_hash
from harness.agents.llm.transport import REPLAY_URL, NoNetworkTransport
from harness.agents.registry import validate_agent
from harness.agents.scope import EpisodeScope
from harness.experiment.runner import TaskJob, run_task_job
from tests.llm_stub import no_network, serve
from tests.unit.agents.test_llm_agent import _agent, _episode, _setup

SKIP = {"wall_seconds"}
PENDING = (("agent_native", 0), ("human", 0))


def _job(agent: dict, replay=None) -> TaskJob:
    _, spec, conditions = _setup()
    return TaskJob("t", spec, tuple(conditions.values()), validate_agent(agent), 0, PENDING, replay)


def _recorded() -> tuple[list, dict]:
    """A live job against the stub: its rows and its recordings, as the store would give them."""
    with serve() as stub:
        live = run_task_job(_job(_agent(stub.url)))
    assert live.fatal is None and len(live.rows) == 2
    recordings = {(ep.condition, ep.repeat): {x.request_hash: json.loads(x.response) for x in exchanges}
                  for ep, _, exchanges, _ in live.rows}
    return live.rows, recordings


def test_the_guard_catches_the_clients_connections():
    with serve() as stub, no_network() as tried:
        client = ChatClient(ClientSettings(base_url=stub.url, retries=0))
        with pytest.raises(EndpointError, match="cannot reach"):
            client.complete({"model": "stub-model", "messages": []})
    assert len(tried) == 1 and stub.received == []


def test_replaying_a_job_opens_no_socket_and_gives_the_same_rows():
    live, recordings = _recorded()
    replay_agent = _agent("http://127.0.0.1:9/v1", replay="live", api_key_env="HARNESS_UNSET_KEY_VAR")
    with no_network() as tried:
        replayed = run_task_job(_job(replay_agent, recordings))
    assert tried == [] and replayed.fatal is None
    for (a, _, xa, _), (b, _, xb, _) in zip(live, replayed.rows, strict=True):
        assert a.model_dump(exclude=SKIP) == b.model_dump(exclude=SKIP)
        assert [x.model_dump() for x in xa] == [x.model_dump() for x in xb]


def test_a_replay_miss_opens_no_socket_either():
    _, recordings = _recorded()
    del recordings[("human", 0)]
    with no_network() as tried:
        replayed = run_task_job(_job(_agent("http://127.0.0.1:9/v1", replay="live"), recordings))
    assert tried == [] and len(replayed.rows) == 1
    assert isinstance(replayed.fatal, ReplayMiss) and "is not in the recording" in str(replayed.fatal)


def test_a_trace_replays_offline_even_with_the_key_variable_unset():
    """`harness trace` gives the episode its recording (offline) under the run's own
    settings, which name a live endpoint and a key variable: neither is needed."""
    with serve() as stub:
        live, _, scope = _episode(_agent(stub.url), "human")
    recorded = {x.request_hash: x.response for x in scope.exchanges()}
    settings = _agent("http://127.0.0.1:9/v1", api_key_env="HARNESS_UNSET_KEY_VAR")
    with no_network() as tried:
        traced, _, _ = _episode(settings, "human", EpisodeScope(Recorder(recorded, offline=True)))
    assert tried == [] and traced.model_dump(exclude=SKIP) == live.model_dump(exclude=SKIP)


def test_the_mock_model_opens_no_socket():
    cfg, _, _ = _setup()
    mock = {**cfg.agent, "name": "mock", "model": "mock", "base_url": None}
    with no_network() as tried:
        episode, _, scope = _episode(mock, "agent_native")
    assert tried == [] and episode.error is None and len(scope.exchanges()) > 0


def test_the_replay_transport_refuses_what_reaches_it_as_a_replay_miss():
    body = {"model": "m", "messages": [{"role": "user", "content": "never recorded"}]}
    client = ChatClient(ClientSettings(base_url=REPLAY_URL, retries=3), transport=NoNetworkTransport())
    with no_network() as tried, pytest.raises(ReplayMiss, match=request_hash(body)) as info:
        client.complete(body)
    assert tried == [] and "never recorded" in str(info.value) and client.waits == []
