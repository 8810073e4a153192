"""The HTTP client against the local stub server: round trip, retries, Retry-After,
backoff, timeouts and the errors a user sees; connections reused and shared by threads
under the concurrency limit."""

from __future__ import annotations

import email.utils
import os
import socket
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.agents.llm.client import (
    ChatClient,
    ClientSettings,
    EndpointError,
    endpoint,
    retry_after_seconds,
)
from tests.llm_stub import Reply, Stub, assistant, serve, tool_call

BODY = {"model": "stub-model", "messages": [{"role": "user", "content": "Task category: default\nhi"}]}


def _client(url: str, **kw) -> tuple[ChatClient, list[float]]:
    slept: list[float] = []
    settings = ClientSettings(base_url=url, api_key=kw.pop("api_key", "k"), **kw)
    return ChatClient(settings, sleep=slept.append), slept


def test_round_trip_with_tool_call_and_auth_header():
    with serve(Stub(replies=[Reply(message=assistant(tool_call("shell", {"command": "ls"})))])) as stub:
        client, slept = _client(stub.url, api_key="secret-1")
        response = client.complete(BODY)
    call = response["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "shell"
    assert stub.chats()[0].headers["Authorization"] == "Bearer secret-1"
    assert stub.chats()[0].body == BODY
    assert slept == []


def test_429_is_retried_after_the_servers_retry_after():
    replies = [Reply(status=429, headers={"Retry-After": "7"}), Reply(status=429, headers={"Retry-After": "3"})]
    with serve(Stub(replies=replies)) as stub:
        client, slept = _client(stub.url, backoff_s=0.5)
        response = client.complete(BODY)
    assert response["choices"][0]["message"]["role"] == "assistant"
    assert slept == [7.0, 3.0]  # the server's waits, not the client's backoff
    assert len(stub.chats()) == 3


def test_retry_after_is_capped():
    with serve(Stub(replies=[Reply(status=429, headers={"Retry-After": "9999"})])) as stub:
        client, slept = _client(stub.url, max_retry_after_s=60)
        client.complete(BODY)
    assert slept == [60]


def test_5xx_backs_off_exponentially_then_succeeds():
    replies = [Reply(status=503), Reply(status=502), Reply(status=500)]
    with serve(Stub(replies=replies)) as stub:
        client, slept = _client(stub.url, backoff_s=1.0, max_backoff_s=3.0)
        client.complete(BODY)
    assert slept == [1.0, 2.0, 3.0]
    assert len(stub.chats()) == 4


def test_5xx_gives_up_after_the_retries_with_one_clear_error():
    with serve(Stub(replies=[Reply(status=500)] * 3)) as stub:
        client, slept = _client(stub.url, retries=2)
        with pytest.raises(EndpointError, match="kept failing after 3 attempts: HTTP 500"):
            client.complete(BODY)
    assert len(slept) == 2


def test_a_timeout_is_retried_then_reported():
    with serve(Stub(replies=[Reply(delay_s=1.0), Reply(delay_s=1.0)])) as stub:
        client, slept = _client(stub.url, timeout_s=0.2, retries=1)
        with pytest.raises(EndpointError, match=r"no answer within 0.2 s"):
            client.complete(BODY)
    assert slept == [1.0]


def test_a_timeout_then_an_answer_succeeds():
    with serve(Stub(replies=[Reply(delay_s=1.0)])) as stub:
        client, _ = _client(stub.url, timeout_s=0.2, retries=1)
        assert client.complete(BODY)["choices"]


def test_wrong_model_is_a_404_error_not_retried():
    with serve() as stub:
        client, slept = _client(stub.url)
        with pytest.raises(EndpointError, match="404") as info:
            client.complete({**BODY, "model": "no-such-model"})
    assert info.value.status == 404 and slept == []


def test_a_refused_key_names_the_variable_not_the_key():
    with serve(Stub(replies=[Reply(status=401)])) as stub:
        client, _ = _client(stub.url, api_key="sentinel-key-xyz")
        with pytest.raises(EndpointError) as info:
            client.complete(BODY)
    assert "refused the API key" in str(info.value) and "sentinel-key-xyz" not in str(info.value)


def test_unreachable_endpoint():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client, _ = _client(f"http://127.0.0.1:{port}/v1")
    with pytest.raises(EndpointError, match="cannot reach"):
        client.complete(BODY)


def test_models_lists_the_served_models():
    with serve(Stub(models=["b", "a"])) as stub:
        client, _ = _client(stub.url)
        assert client.models() == ["a", "b"]


def test_a_dropped_connection_is_retried_then_reported():
    with serve(Stub(replies=[Reply(drop=True)] * 2)) as stub:
        client, slept = _client(stub.url, retries=1, backoff_s=0.5)
        with pytest.raises(EndpointError, match="kept failing after 2 attempts: connection failed"):
            client.complete(BODY)
    assert slept == [0.5] and len(stub.chats()) == 2


def test_an_answer_that_is_not_json_is_retried():
    with serve(Stub(replies=[Reply(raw=b"<html>bad gateway</html>")])) as stub:
        client, slept = _client(stub.url, backoff_s=0.25)
        assert client.complete(BODY)["choices"]
    assert slept == [0.25] and len(stub.chats()) == 2


def test_a_url_without_a_scheme_is_one_clear_error():
    client, _ = _client("localhost:8000/v1")
    with pytest.raises(EndpointError, match="cannot reach localhost:8000/v1"):
        client.complete(BODY)


def test_one_connection_serves_request_after_request():
    with serve() as stub:
        client, _ = _client(stub.url)
        client.models()
        for _ in range(5):
            client.complete(BODY)
    assert len(stub.received) == 6 and stub.connections == 1


def test_no_cookie_travels_from_one_request_to_the_next():
    """One client serves every episode of a process: what a server sets for one must not
    come back with another's requests."""
    with serve(Stub(replies=[Reply(headers={"Set-Cookie": "session=episode-1; Path=/"})])) as stub:
        client, _ = _client(stub.url)
        client.complete(BODY)
        client.complete(BODY)
    assert [("Cookie" in r.headers) for r in stub.chats()] == [False, False]


def test_threads_share_the_endpoints_connections_and_its_limit():
    """Eight threads with their own clients for one endpoint (as episodes in flight in one
    process): never more than `concurrency` requests in flight, on that many connections."""
    with serve(Stub(replies=[Reply(delay_s=0.1) for _ in range(8)])) as stub:
        clients = [_client(stub.url, concurrency=2)[0] for _ in range(8)]
        assert len({id(c.endpoint) for c in clients}) == 1
        threads = [threading.Thread(target=c.complete, args=(BODY,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(stub.chats()) == 8
    assert stub.peak_in_flight == 2 and stub.connections == 2


def test_a_forked_child_gets_its_own_connections():
    client, _ = _client("http://127.0.0.1:9/v1", concurrency=3)  # made before the fork, as a cached one is
    parent = client.endpoint
    pid = os.fork()
    if pid == 0:  # the child: the parent's pooled sockets must not be used here
        os._exit(0 if client.endpoint is not parent and endpoint("http://127.0.0.1:9/v1", 3) is client.endpoint
                 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert client.endpoint is parent


@given(st.integers(min_value=0, max_value=10**6))
def test_retry_after_seconds_reads_delta_seconds(n):
    assert retry_after_seconds(str(n)) == float(n)


def test_retry_after_reads_an_http_date():
    when = email.utils.formatdate(1_000_030, usegmt=True)
    assert retry_after_seconds(when, now=1_000_000) == pytest.approx(30)
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
