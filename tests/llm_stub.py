"""A local OpenAI-compatible stub server for tests: 127.0.0.1, an ephemeral port, a thread.

``GET /v1/models`` lists ``models``; ``POST /v1/chat/completions`` pops the next scripted
``Reply`` from ``replies`` (a status with headers, a delay, or a message), and once they
run out answers like the mock model (``harness.agents.llm.mock``). Every request's
headers and body are kept in ``received`` for assertions; it speaks HTTP/1.1 keep-alive and
counts the TCP connections it accepted and the most requests it had in flight at once.

``no_network()``: while it lasts, any connection this process tries to open fails (and is
listed), to prove that something (a replay, the mock model) never touches the network.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.agents.llm.mock import MockModel


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    message: dict[str, Any] | None = None  # an assistant message; None: the mock model's answer
    body: dict[str, Any] | None = None  # a whole response body, as is
    raw: bytes | None = None  # the response body's bytes, as is (not JSON, say)
    drop: bool = False  # close the connection without answering


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class Stub:
    models: list[str] = field(default_factory=lambda: ["stub-model"])
    replies: list[Reply] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    mock: MockModel = field(default_factory=lambda: MockModel("default"))
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    connections: int = 0  # TCP connections accepted
    in_flight: int = 0
    peak_in_flight: int = 0  # the most chat requests being answered at once

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def chats(self) -> list[Received]:
        return [r for r in self.received if r.path.endswith("/chat/completions")]

    def answer(self, body: dict[str, Any]) -> tuple[Reply, dict[str, Any]]:
        with self.lock:
            reply = self.replies.pop(0) if self.replies else Reply()
        if reply.body is not None:
            return reply, reply.body
        if reply.status != 200:
            return reply, {"error": {"message": f"stub says {reply.status}"}}
        response = self.mock.complete(body)
        if reply.message is not None:
            response["choices"][0]["message"] = reply.message
        response["model"] = body.get("model")
        return reply, response


def tool_call(name: str, arguments: str | dict, call_id: str = "call_0") -> dict[str, Any]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def assistant(*calls: dict[str, Any], content: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = list(calls)
    return message


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers
        disable_nagle_algorithm = True  # as real servers: no delayed-ACK stall on a kept connection

        def setup(self) -> None:  # once per accepted connection
            super().setup()
            with stub.lock:
                stub.connections += 1

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, payload: dict[str, Any] | bytes, headers: dict[str, str] | None = None) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                self.wfile.write(data)

        def do_GET(self) -> None:
            stub.received.append(Received("GET", self.path, dict(self.headers), None))
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in stub.models]})
            else:
                self._send(404, {"error": {"message": "no such route"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            stub.received.append(Received("POST", self.path, dict(self.headers), body))
            if not self.path.endswith("/chat/completions"):
                self._send(404, {"error": {"message": "no such route"}})
                return
            if body.get("model") not in stub.models:
                self._send(404, {"error": {"message": f"model {body.get('model')} not found"}})
                return
            stub.enter()
            try:
                reply, payload = stub.answer(body)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
            finally:
                stub.leave()
            if reply.drop:
                self.close_connection = True
                return
            self._send(reply.status, reply.raw if reply.raw is not None else payload, reply.headers)

    return Handler


@contextmanager
def serve(stub: Stub | None = None) -> Iterator[Stub]:
    stub = stub or Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class NetworkUsed(ConnectionError):
    """Raised by ``no_network`` on any attempt to connect."""


@contextmanager
def no_network() -> Iterator[list[Any]]:
    """Every ``connect`` of every socket of this process fails while this lasts; the
    addresses tried are listed in what it yields."""
    tried: list[Any] = []
    real = socket.socket.connect, socket.socket.connect_ex

    def refuse(sock: socket.socket, address: Any) -> None:
        tried.append(address)
        raise NetworkUsed(f"no network here: connect to {address}")

    socket.socket.connect = socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    try:
        yield tried
    finally:
        socket.socket.connect, socket.socket.connect_ex = real  # type: ignore[method-assign]
