"""A loopback OpenAI-compatible endpoint with a fixed answer time, for measuring throughput.

It answers every chat request like the mock model (``mock.MockModel``), after
``latency_s`` (a stand-in for a hosted model's answer time), and counts what a throughput
measurement needs: requests, the most it held at once, and when the first one arrived.
It speaks HTTP/1.1 keep-alive, as real servers do, on 127.0.0.1 and an ephemeral port.

    with LoopbackEndpoint(latency_s=0.25) as endpoint:
        run(["agent=llm", f"agent.base_url={endpoint.url}", f"agent.model={endpoint.model}"])
        endpoint.stats()   # requests, peak_in_flight, first_request_s, floor_s(...)
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.agents.llm.mock import MockModel

MODEL = "loopback-model"


@dataclass(frozen=True)
class EndpointStats:
    requests: int
    peak_in_flight: int
    first_request_s: float | None  # seconds from the endpoint's start to the first chat request
    latency_s: float

    def floor_s(self) -> float:
        """The wall time the requests need if the endpoint always held as many as it held
        at most: requests x latency / peak in flight (the latency-bound floor)."""
        return self.requests * self.latency_s / max(self.peak_in_flight, 1)


class LoopbackEndpoint:
    def __init__(self, latency_s: float = 0.25, model: str = MODEL, backlog: int = 512):
        if latency_s < 0:
            raise ValueError(f"latency_s must be >= 0 (got {latency_s})")
        self.latency_s = latency_s
        self.model = model
        self._mock = MockModel("default")
        self._lock = threading.Lock()
        self._requests = self._now = self._peak = 0
        self._first: float | None = None
        self._started = time.perf_counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._server.request_queue_size = backlog  # many episodes may connect at once
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="loopback-endpoint")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> LoopbackEndpoint:
        self._thread.start()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def stats(self) -> EndpointStats:
        with self._lock:
            first = None if self._first is None else self._first - self._started
            return EndpointStats(self._requests, self._peak, first, self.latency_s)

    def _enter(self) -> None:
        with self._lock:
            self._requests += 1
            self._now += 1
            self._peak = max(self._peak, self._now)
            if self._first is None:
                self._first = time.perf_counter()

    def _leave(self) -> None:
        with self._lock:
            self._now -= 1

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        self._enter()
        try:
            time.sleep(self.latency_s)
            answer = self._mock.complete(body)
        finally:
            self._leave()  # before the answer leaves: its episode may send the next at once
        answer["model"] = body.get("model")
        return answer


def _handler(endpoint: LoopbackEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": endpoint.model, "object": "model"}]})
            else:
                self._send(404, {"error": {"message": "no such route"}})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if not self.path.endswith("/chat/completions"):
                self._send(404, {"error": {"message": "no such route"}})
            elif body.get("model") != endpoint.model:
                self._send(404, {"error": {"message": f"model {body.get('model')} not found"}})
            else:
                self._send(200, endpoint._answer(body))

    return Handler
