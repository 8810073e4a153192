"""The loopback endpoint used to measure model-bound throughput: it answers like the mock
model after its latency, refuses other models and routes, and counts requests, the most
in flight at once and the first request's arrival."""

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from harness.agents.llm.loopback import EndpointStats, LoopbackEndpoint


def _chat(url: str, model: str) -> dict:
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "Task category: code_modification"}],
                       "tools": [{"type": "function", "function": {"name": "finish", "parameters": {}}}]}).encode()
    request = urllib.request.Request(f"{url}/chat/completions", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_answers_after_its_latency_and_counts_what_it_held_at_once():
    with LoopbackEndpoint(latency_s=0.2) as endpoint:
        assert endpoint.stats() == EndpointStats(0, 0, None, 0.2)
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(_chat(endpoint.url, endpoint.model)))
                   for _ in range(4)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - started
        stats = endpoint.stats()
    assert len(answers) == 4 and all(a["choices"][0]["message"]["role"] == "assistant" for a in answers)
    assert stats.requests == 4 and 1 <= stats.peak_in_flight <= 4 and stats.first_request_s is not None
    assert took >= 0.2
    assert stats.floor_s() == pytest.approx(4 * 0.2 / stats.peak_in_flight)


def test_refuses_another_model_and_unknown_routes():
    with LoopbackEndpoint(latency_s=0.0) as endpoint:
        with pytest.raises(urllib.error.HTTPError) as info:
            _chat(endpoint.url, "other-model")
        assert info.value.code == 404
        with urllib.request.urlopen(f"{endpoint.url}/models", timeout=10) as response:
            assert json.loads(response.read())["data"][0]["id"] == endpoint.model
        assert endpoint.stats().requests == 0


def test_a_negative_latency_is_refused():
    with pytest.raises(ValueError, match="latency_s"):
        LoopbackEndpoint(latency_s=-1)
