"""Throughput of the model client against a loopback chat-completions server, and how many
TCP connections that server accepted (connection reuse).

The server answers every ``POST /v1/chat/completions`` after a fixed delay (a stand-in for
a model's latency) with a small fixed completion, speaks HTTP/1.1 keep-alive (with TCP_NODELAY), and counts
the connections it accepts. ``threads`` threads share one ``ChatClient`` (as the episodes
of one worker process do) with ``agent.concurrency`` = ``--concurrency``.

    python benchmarks/bench_llm_client.py [--requests 400] [--delays-ms 0 20] [--threads 1 8]

Only ``ChatClient`` and ``ClientSettings`` are used, so the same script measures any
version of ``harness.agents.llm.client`` (put that version first on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.agents.llm.client import ChatClient, ClientSettings

ANSWER = json.dumps({"id": "bench", "object": "chat.completion", "model": "bench",
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                  "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 10, "completion_tokens": 1}}).encode()
BODY = {"model": "bench", "messages": [{"role": "user", "content": "x" * 2000}], "temperature": 0.0}


class _Counter:
    def __init__(self) -> None:
        self.connections = 0
        self.lock = threading.Lock()


def _handler(delay_s: float, counter: _Counter) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a client may reuse the connection
        # as production servers do (asyncio, Go, nginx): else the body, written after the
        # headers, waits for the client's delayed ACK (~40 ms) on a kept-alive connection
        disable_nagle_algorithm = True

        def setup(self) -> None:  # once per accepted TCP connection
            super().setup()
            with counter.lock:
                counter.connections += 1

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if delay_s:
                time.sleep(delay_s)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(ANSWER)))
            self.end_headers()
            self.wfile.write(ANSWER)

    return Handler


@contextmanager
def _server(delay_s: float):
    counter = _Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(delay_s, counter))
    server.daemon_threads = True
    server.request_queue_size = 128
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", counter
    finally:
        server.shutdown()
        server.server_close()


def measure(requests: int, threads: int, delay_s: float, concurrency: int) -> dict[str, Any]:
    with _server(delay_s) as (url, counter):
        client = ChatClient(ClientSettings(base_url=url, retries=0, concurrency=concurrency))
        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            for response in pool.map(lambda _: client.complete(BODY), range(requests)):
                assert response["choices"][0]["message"]["content"] == "ok"
        seconds = time.perf_counter() - start
        return {"threads": threads, "delay_ms": delay_s * 1000, "requests": requests,
                "req_per_s": round(requests / seconds, 1), "connections": counter.connections}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--delays-ms", type=float, nargs="+", default=[0.0, 20.0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    args = parser.parse_args()
    for delay in args.delays_ms:
        for threads in args.threads:
            runs = [measure(args.requests, threads, delay / 1000, args.concurrency) for _ in range(args.rounds)]
            print(json.dumps(max(runs, key=lambda r: r["req_per_s"])), flush=True)


if __name__ == "__main__":
    main()
