"""A local OpenAI-compatible stub server for tests: 127.0.0.1, an ephemeral port, a thread.

``GET /v1/models`` lists ``models``; ``POST /v1/chat/completions`` pops the next scripted
``Reply`` from ``replies`` (a status with headers, a delay, or a message), and once they
run out answers like the mock model (``harness.agents.llm.mock``). Every request's
headers and body are kept in ``received`` for assertions.
"""

from __future__ import annotations

import contextlib
import json
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
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
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
            reply, payload = stub.answer(body)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            self._send(reply.status, payload, reply.headers)

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
