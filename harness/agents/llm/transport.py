"""The replay's transport: an httpx transport with no network behind it.

Record and replay happen in two places, each doing one thing. The episode's recorder
(``harness.agents.llm.recording``, consulted by ``EpisodeScope.complete`` before anything
is sent) answers every request the episode already holds, content-addressed, and records
what the client brings back for the others. Only what it does not hold reaches the client,
whose transport decides where that goes: for ``agent=llm`` the process's pooled
connections to the endpoint (``client.endpoint``); for a replay (``agent.replay=RUN``,
``harness trace``) ``NoNetworkTransport``, which has no connection to open and refuses any
request that reaches it as a replay miss. So a replay cannot open a socket whatever its
settings name as the endpoint.
"""

from __future__ import annotations

import json

import httpx

from harness.agents.llm.recording import ReplayMiss, request_hash, summarize

REPLAY_URL = "http://replay.invalid/v1"  # .invalid: never resolvable, should anything try


class NoNetworkTransport(httpx.BaseTransport):
    """The recorder answers every recorded request before the client is asked, so a
    request that reaches this transport was never recorded."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.read() or b"{}")
        raise ReplayMiss(f"replay miss: request {request_hash(body)} is not in the recording ({summarize(body)})",
                         hint="a replay must use the replayed run's workload, conditions and agent settings")
