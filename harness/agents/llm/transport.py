"""What answers the model client's requests when it is not a real endpoint: httpx transports.

Record and replay happen in two places, each doing one thing. The episode's recorder
(``harness.agents.llm.recording``, consulted by ``EpisodeScope.complete`` before anything
is sent) answers every request the episode already holds, content-addressed; only what it
does not hold reaches the client, and the client's transport decides where that goes:

* ``agent=llm``: the process's pooled HTTP connections to the endpoint (``client.endpoint``);
* ``agent=mock``: ``MockModelTransport``, the scripted model answering as a server would,
  so a mock run goes through the same client code as a real one, without a socket;
* a replay (``agent.replay=RUN``, ``harness trace``): ``NoNetworkTransport``, which has no
  connection to open and refuses any request that reaches it as a replay miss.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from harness.agents.llm.mock import MockModel
from harness.agents.llm.recording import ReplayMiss, request_hash, summarize

MOCK_URL = "http://mock.invalid/v1"  # .invalid: never resolvable, should anything try
REPLAY_URL = "http://replay.invalid/v1"


def _json(status: int, payload: dict[str, Any]) -> httpx.Response:
    # encoded as the stdlib does by default, like any JSON server's answer
    return httpx.Response(status, content=json.dumps(payload).encode(),
                          headers={"Content-Type": "application/json"})


def _body(request: httpx.Request) -> dict[str, Any]:
    return json.loads(request.read() or b"{}")


class MockModelTransport(httpx.BaseTransport):
    """``agent=mock``: the scripted model behind the chat-completions route."""

    def __init__(self, model: MockModel):
        self.model = model

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rstrip("/")
        if request.method == "POST" and path.endswith("/chat/completions"):
            return _json(200, self.model.complete(_body(request)))
        if request.method == "GET" and path.endswith("/models"):
            return _json(200, {"object": "list", "data": [{"id": "mock", "object": "model"}]})
        return _json(404, {"error": {"message": f"no route {request.method} {path}"}})


class NoNetworkTransport(httpx.BaseTransport):
    """A replay's transport: there is nothing to connect to. The recorder answers every
    recorded request before the client is asked, so a request here was never recorded."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = _body(request)
        raise ReplayMiss(f"replay miss: request {request_hash(body)} is not in the recording ({summarize(body)})",
                         hint="a replay must use the replayed run's workload, conditions and agent settings")
