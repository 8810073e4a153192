"""Throughput of the model client against a loopback chat-completions server, and how many
TCP connections that server accepted (connection reuse), and the client process's CPU
time per request.

The server runs in its own process (so that it does not compete with the client for the
GIL), answers every ``POST /v1/chat/completions`` after a fixed delay (a stand-in for a
model's latency) with a small fixed completion, speaks HTTP/1.1 keep-alive (with
TCP_NODELAY), and counts the connections it accepts (``GET /stats``). ``threads`` threads
share one ``ChatClient`` (as the episodes of one worker process do) with
``agent.concurrency`` = ``--concurrency``.

    python benchmarks/bench_llm_client.py [--requests 400] [--delays-ms 0 20] [--threads 1 8]

Only ``ChatClient`` and ``ClientSettings`` are used, so the same script measures any
version of ``harness.agents.llm.client`` (put that version first on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
import urllib.request
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

        def do_GET(self) -> None:  # the connections accepted so far (this one included)
            data = json.dumps({"connections": counter.connections}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

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


def serve(delay_s: float) -> None:
    """The server process: prints its port, then serves until killed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(delay_s, _Counter()))
    server.daemon_threads = True
    server.request_queue_size = 128
    print(server.server_address[1], flush=True)
    server.serve_forever()


@contextmanager
def _server(delay_s: float):
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(delay_s)], stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        proc.kill()
        proc.wait()


def _connections(url: str) -> int:
    with urllib.request.urlopen(f"{url}/stats", timeout=10) as resp:  # one connection of its own
        return json.load(resp)["connections"]


def measure(requests: int, threads: int, delay_s: float, concurrency: int) -> dict[str, Any]:
    with _server(delay_s) as url:
        client = ChatClient(ClientSettings(base_url=f"{url}/v1", retries=0, concurrency=concurrency))
        before = _connections(url)
        start, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(threads) as pool:
            for response in pool.map(lambda _: client.complete(BODY), range(requests)):
                assert response["choices"][0]["message"]["content"] == "ok"
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        accepted = _connections(url) - before - 1
        return {"threads": threads, "delay_ms": delay_s * 1000, "requests": requests,
                "req_per_s": round(requests / seconds, 1), "client_cpu_ms_per_req": round(cpu / requests * 1000, 3),
                "connections": accepted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--delays-ms", type=float, nargs="+", default=[0.0, 20.0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    parser.add_argument("--serve", type=float, help=argparse.SUPPRESS)  # the server process
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return
    for delay in args.delays_ms:
        for threads in args.threads:
            runs = [measure(args.requests, threads, delay / 1000, args.concurrency) for _ in range(args.rounds)]
            print(json.dumps(max(runs, key=lambda r: r["req_per_s"])), flush=True)


if __name__ == "__main__":
    main()
