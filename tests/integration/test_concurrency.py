"""``executor.concurrency`` end to end: the stored rows do not depend on how many task jobs
run at once per worker process (mock agent and reference agent), a run SIGKILLed while
many jobs are in flight resumes to the same rows with no episode stored twice, and a
concurrency below one is refused before anything is stored."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from harness.agents.llm.loopback import LoopbackEndpoint
from harness.experiment.config import build_run_config
from harness.experiment.runner import run_experiment
from harness.store import reader
from tests.conftest import ROOT, run_cli

SLICE = ["experiment=smoke", "workload.limit=16", "repeats=1", "progress=false"]
COMMITTED = re.compile(rb"committed (\d+)/(\d+) episodes")


def _run(tmp_path, name: str, *extra: str) -> tuple[list[tuple], list[tuple], int]:
    """(episode rows, exchange rows, episodes executed) of one run in its own store."""
    db = tmp_path / f"{name}.duckdb"
    summary = run_experiment(build_run_config([*SLICE, f"store.path={db}", *extra]))
    exchanges = reader.exchanges(db, summary.run_id).drop(columns="run_id")
    return (reader.deterministic_episode_rows(db, summary.run_id),
            list(exchanges.itertuples(index=False, name=None)), summary.executed)


def test_mock_agent_rows_are_the_same_with_eight_jobs_per_worker(tmp_path):
    one = _run(tmp_path, "one", "agent=mock", "executor.workers=1", "executor.concurrency=1")
    many = _run(tmp_path, "many", "agent=mock", "executor.workers=2", "executor.concurrency=8")
    assert one[2] == many[2] == 16 * 2
    assert many[0] == one[0]
    assert many[1] == one[1] and len(one[1]) > 32  # the recorded model exchanges too


def test_reference_agent_rows_are_the_same_with_four_jobs_per_worker(tmp_path):
    one = _run(tmp_path, "one", "executor.workers=1", "executor.concurrency=1", "workload.limit=10")
    pooled = _run(tmp_path, "pooled", "executor.workers=2", "executor.concurrency=4", "workload.limit=10")
    in_process = _run(tmp_path, "threads", "executor.workers=1", "executor.concurrency=4", "workload.limit=10")
    assert one[2] == 10 * 2
    assert pooled[0] == one[0] and in_process[0] == one[0]


def test_a_capped_run_with_jobs_at_once_stores_what_was_in_flight_and_schedules_nothing_more(tmp_path):
    db = tmp_path / "capped.duckdb"
    cfg = build_run_config([*SLICE, f"store.path={db}", "agent=mock", "agent.max_run_tokens=60000",
                            "executor.workers=1", "executor.concurrency=4"])
    summary = run_experiment(cfg)
    assert "token cap" in (summary.stopped or "")
    eps = reader.episodes(db, summary.run_id)
    assert eps.tokens.sum() >= 60_000 and len(eps) < 16 * 2  # stopped scheduling
    # the episodes in flight when the cap was crossed were cut short at their next request
    # and stored (their tokens are paid for): at most one per thread
    assert 1 <= (eps.termination == "budget_cap").sum() <= 4


def _cmd(db, endpoint: LoopbackEndpoint, *extra: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", "run", "experiment=smoke", "workload.limit=16", "repeats=2",
            "agent=llm", f"agent.base_url={endpoint.url}", f"agent.model={endpoint.model}", "store.batch_size=2",
            f"store.path={db}", *extra]


@pytest.mark.slow
@pytest.mark.chaos
def test_a_killed_run_with_32_jobs_in_flight_resumes_to_the_same_rows(tmp_path):
    """The single writer under 32 episodes in flight (2 workers x 16 threads) against a fast
    endpoint, SIGKILLed mid-run: every commit it reported survives, the resume stores each
    episode once, and the rows are those of one episode at a time."""
    many = ["executor.workers=2", "executor.concurrency=16", "agent.concurrency=16"]
    with LoopbackEndpoint(latency_s=0.05) as endpoint:
        ref_db = tmp_path / "ref.duckdb"
        ref = subprocess.run(_cmd(ref_db, endpoint, "executor.workers=1", "executor.concurrency=1"), cwd=ROOT,
                             capture_output=True, text=True, timeout=600)
        assert ref.returncode == 0, ref.stderr
        run_id = reader.latest_run(ref_db)
        planned = len(reader.episodes(ref_db, run_id))
        alone = endpoint.stats().peak_in_flight

        db = tmp_path / "killed.duckdb"
        proc = subprocess.Popen(_cmd(db, endpoint, *many), cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        seen = 0
        for line in proc.stderr:
            m = COMMITTED.search(line)
            if m and int(m.group(1)) >= planned // 3:
                seen = int(m.group(1))
                os.killpg(proc.pid, signal.SIGKILL)  # the runner and its workers, mid-run
                break
        proc.wait()
        proc.stderr.close()
        partial = len(reader.episodes(db, run_id))
        assert 0 < seen <= partial < planned, "a reported commit was lost, or the run was not interrupted"

        resumed = subprocess.run(_cmd(db, endpoint, *many), cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert resumed.returncode == 0, resumed.stderr
        at_once = endpoint.stats().peak_in_flight
    assert alone == 1 and at_once >= 16  # many requests were in flight at once (up to 32)
    assert f"{planned - partial} episodes executed, {partial} already stored" in resumed.stderr
    eps = reader.episodes(db, run_id)
    keys = set(zip(eps.condition, eps.task_id, eps["repeat"], strict=True))
    assert len(eps) == len(keys) == planned  # none stored twice
    assert reader.deterministic_episode_rows(db, run_id) == reader.deterministic_episode_rows(ref_db, run_id)


@pytest.mark.parametrize("value", ["0", "-1"])
def test_concurrency_below_one_is_refused_before_anything_is_stored(tmp_path, value):
    db = tmp_path / "never.duckdb"
    result = run_cli("run", "experiment=smoke", "workload.limit=2", "agent=mock", f"executor.concurrency={value}",
                     f"store.path={db}")
    assert result.returncode == 2, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) <= 2 and "executor.concurrency" in lines[0], result.stderr
    assert not db.exists()
