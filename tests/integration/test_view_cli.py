"""``harness view`` as a user meets it: bad input is one line and exit 2 before anything is
served (nothing written), and a served store answers pages and keeps serving after a 404."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import HARNESS, ROOT, run_cli
from tests.view_store import RUN, make_store


def _short_error(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, proc.stderr
    return proc.stderr


def test_a_missing_store_is_one_line_and_nothing_is_created(tmp_path):
    db = tmp_path / "none.duckdb"
    err = _short_error(run_cli("view", "--db", str(db), "--port", "0"))
    assert "no results at" in err and not db.exists()


def test_a_damaged_store_is_one_line_and_left_as_it_was(tmp_path):
    db = tmp_path / "bad.duckdb"
    db.write_bytes(b"not a database" * 100)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    err = _short_error(run_cli("view", "--db", str(db), "--port", "0"))
    assert "not a DuckDB database" in err
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_a_port_in_use_is_one_line(tmp_path):
    db = make_store(tmp_path / "view.duckdb")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        err = _short_error(run_cli("view", "--db", str(db), "--port", str(port)))
    assert f"port {port} on 127.0.0.1 is in use" in err


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def serve(db: Path, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``harness view --port 0`` and return the process and its base URL (from the
    line it prints on stderr)."""
    proc = subprocess.Popen([*HARNESS, "view", "--db", str(db), "--port", "0"], cwd=ROOT, text=True,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    line = proc.stderr.readline()
    match = re.search(r"http://[\d.]+:\d+/", line)
    if match is None:
        proc.kill()
        pytest.fail(f"harness view printed no URL: {line!r} {proc.stderr.read()}")
    base = match.group()
    for _ in range(100):  # the socket is bound before the line is printed; uvicorn starts just after
        try:
            _get(base)
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    return proc, base


def test_served_pages_answer_and_a_404_does_not_stop_the_server(tmp_path):
    db = make_store(tmp_path / "view.duckdb")
    proc, base = serve(db)
    try:
        status, text = _get(base)
        assert status == 200 and RUN in text
        status, text = _get(base + "runs/no-such-run")
        assert status == 404 and "unknown run" in text
        status, text = _get(base + f"runs/{RUN}/episodes/B/t1/0")
        assert status == 200 and "value = 7 is wrong" in text
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_it_follows_a_running_experiment_without_failing(tmp_path):
    """Pages load while a run writes the store: each shows what is stored so far, or (while
    the writer holds the file) says so with a reload link; the server never falls over, and
    after the run the run page shows every episode."""
    db = make_store(tmp_path / "live.duckdb")  # a store to serve from the start
    server, base = serve(db)
    run = subprocess.Popen([*HARNESS, "run", "experiment=smoke", "workload.limit=6", "repeats=1",
                            "executor.workers=1", "run.id=live", f"store.path={db}"], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: list[int] = []  # status codes, in order
    try:
        while run.poll() is None:
            status, text = _get(base + "runs/live")
            seen.append(status)
            assert status in (200, 404, 503), text[:300]  # 404 until the run's row is committed
            if status == 503:
                assert "being written" in text and 'id="reload"' in text
            if status == 200 and 'class="status-running"' in text:
                assert "still running" in text and 'id="reload"' in text
            time.sleep(0.5)
        err = run.stderr.read()
        if run.returncode == 2 and "another process holds its lock" in err:
            # DuckDB refuses a writer while any reader has the file open, and today's writer
            # opens it without waiting: a page load at that moment stops the run (exit 2)
            pytest.xfail("the writer does not wait for a reader's brief read-only open (store, helper V1)")
        assert run.returncode == 0, err
        status, text = _get(base + "runs/live")
        assert status == 200 and "12 of 12 episodes stored" in text and "still running" not in text
        assert server.poll() is None
    finally:
        run.kill()
        server.terminate()
        server.wait(timeout=30)
    assert seen, "the run ended before a page was asked for"
