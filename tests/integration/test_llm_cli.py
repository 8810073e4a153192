"""``harness run agent=mock|llm`` end to end: the five conditions, replay identical, the
run cap, bad endpoints refused before anything is stored, and the key stored nowhere."""

from __future__ import annotations

import re
import socket

import duckdb
import pytest

from harness.store import deterministic_episode_rows, episodes, list_runs
from harness.store.reader import exchanges
from tests.conftest import run_cli
from tests.llm_stub import serve

FIVE = "conditions=[agent_native,human,chatbot,api_chain,manual_script]"
SMALL = ["experiment=smoke", "repeats=1", "executor.workers=1", "store.batch_size=5"]
SENTINEL = "sk-SENTINEL-3b9f2c71-never-store-me"


def _run(db, *extra, env=None, tasks=3, conditions=FIVE):
    return run_cli("run", *SMALL, f"workload.limit={tasks}", conditions, f"store.path={db}", *extra, env=env)


def _one_error_line(result, before_any_episode: bool = True) -> str:
    """The error line (plus at most a hint line), and nothing before it when the failure
    must come before any episode started."""
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    at = next(i for i, ln in enumerate(lines) if ln.startswith("error:"))
    assert "Traceback" not in result.stderr and len(lines) - at <= 2, result.stderr
    assert at == 0 or not before_any_episode, result.stderr
    return lines[at]


def test_mock_under_all_five_conditions_then_replay_is_identical(tmp_path):
    db = tmp_path / "r.duckdb"
    first = _run(db, "agent=mock", "run.id=mock-live")
    assert first.returncode == 0, first.stderr
    # progress shows tokens and cost so far, and the run's total at the end
    assert re.search(r"committed \d+/15 episodes \([^)]*, [\d,]+ tokens \$\d+\.\d{4}\)", first.stderr)
    assert re.search(r"model usage \(whole run\): [\d,]+ tokens \$\d", first.stderr)
    replay = _run(db, "agent=mock", "agent.replay=mock-live", "run.id=mock-replay")
    assert replay.returncode == 0, replay.stderr
    live_rows = deterministic_episode_rows(db, "mock-live")
    assert len(live_rows) == 15
    assert deterministic_episode_rows(db, "mock-replay") == live_rows
    eps = episodes(db, "mock-live")
    assert set(eps.condition) == {"agent_native", "human", "chatbot", "api_chain", "manual_script"}
    assert (eps.tokens > 0).all() and (eps.cost_usd > 0).all() and eps.error.isna().all()
    a, b = exchanges(db, "mock-live"), exchanges(db, "mock-replay")
    assert len(a) > 15
    assert a.drop(columns="run_id").equals(b.drop(columns="run_id"))


def test_a_replay_miss_is_an_error_naming_the_request(tmp_path):
    db = tmp_path / "r.duckdb"
    human, native = "conditions=[human]", "conditions=[agent_native]"
    assert _run(db, "agent=mock", "run.id=base", "compare=null", tasks=1, conditions=human).returncode == 0
    miss = _run(db, "agent=mock", "agent.replay=base", "run.id=other", "compare=null", tasks=1, conditions=native)
    assert miss.returncode == 2
    line = _one_error_line(miss, before_any_episode=False)
    assert re.search(r"replay miss: request [0-9a-f]{32} is not in the recording \(model 'mock'", line)


def test_the_run_cap_stops_the_run_cleanly(tmp_path):
    db = tmp_path / "r.duckdb"
    # one episode at a time, so the cap is exact (test_concurrency: with many at once)
    result = _run(db, "agent=mock", "agent.max_run_tokens=60000", "run.id=capped", "executor.concurrency=1")
    assert result.returncode == 0, result.stderr
    assert "stopped early: the run's token cap (60,000 tokens) is reached" in result.stderr
    eps = episodes(db, "capped")
    assert 0 < len(eps) < 15 and eps.tokens.sum() >= 60_000
    # whatever crossed the cap was the last episode: every other one started below it
    assert eps.tokens.sum() - eps.tokens.max() < 60_000
    assert set(eps.termination) <= {"submitted", "budget_cap", "gave_up", "action_budget", "time_budget"}
    assert list_runs(db).status.tolist() == ["finished"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("case", ["missing_key", "unreachable", "wrong_model"])
def test_bad_endpoint_settings_fail_in_one_line_before_anything_is_stored(tmp_path, case):
    db = tmp_path / "r.duckdb"
    with serve() as stub:
        url, model, env = stub.url, "stub-model", {"HARNESS_TEST_KEY": SENTINEL}
        if case == "missing_key":
            env = {"HARNESS_TEST_KEY": ""}
        elif case == "unreachable":
            url = f"http://127.0.0.1:{_free_port()}/v1"
        else:
            model = "no-such-model"
        result = _run(db, "agent=llm", f"agent.base_url={url}", f"agent.model={model}",
                      "agent.api_key_env=HARNESS_TEST_KEY", env=env, tasks=1)
        chats = stub.chats()
    assert result.returncode == 2
    line = _one_error_line(result)
    expected = {"missing_key": "HARNESS_TEST_KEY, which is not set", "unreachable": "cannot reach",
                "wrong_model": "does not serve model 'no-such-model'"}[case]
    assert expected in line
    assert not db.exists() and chats == []


def test_the_api_key_is_stored_nowhere(tmp_path):
    db = tmp_path / "r.duckdb"
    with serve() as stub:
        result = run_cli("run", "experiment=smoke", "workload.limit=2", "repeats=1", "conditions=[agent_native,human]",
                         "executor.workers=1", f"store.path={db}", "agent=llm", f"agent.base_url={stub.url}",
                         "agent.model=stub-model", "agent.api_key_env=HARNESS_TEST_KEY",
                         env={"HARNESS_TEST_KEY": SENTINEL})
        chats = stub.chats()
    assert result.returncode == 0, result.stderr
    # the key was really used...
    assert chats and all(c.headers.get("Authorization") == f"Bearer {SENTINEL}" for c in chats)
    # ...and appears in no byte of the store, the logs or the recorded requests
    for path in tmp_path.iterdir():
        assert SENTINEL.encode() not in path.read_bytes(), path
    assert SENTINEL not in result.stdout + result.stderr
    recorded = exchanges(db, list_runs(db).id[0])
    assert len(recorded) == len(chats)
    assert not recorded.request.str.contains(SENTINEL).any() and not recorded.response.str.contains(SENTINEL).any()
    with duckdb.connect(str(db), read_only=True) as con:
        config = con.execute("SELECT config FROM runs").fetchone()[0]
    assert "HARNESS_TEST_KEY" in config and SENTINEL not in config


def test_trace_of_an_llm_episode_uses_the_recording_not_the_endpoint(tmp_path):
    """`harness trace` re-runs an episode; for a model agent it answers from the episode's
    recorded exchanges, so it works with the endpoint gone and sends it nothing."""
    db = tmp_path / "r.duckdb"
    with serve() as stub:
        result = run_cli("run", "experiment=smoke", "workload.limit=1", "repeats=1", "conditions=[agent_native,human]",
                         "executor.workers=1", f"store.path={db}", "agent=llm", f"agent.base_url={stub.url}",
                         "agent.model=stub-model", "run.id=live")
        sent = len(stub.chats())
    assert result.returncode == 0, result.stderr
    assert sent > 0
    ep = episodes(db, "live").iloc[0]
    traced = run_cli("trace", f"live:{ep.condition}:{ep.task_id}:{ep['repeat']}", "--db", str(db))
    assert traced.returncode == 0, traced.stderr
    assert "Traceback" not in traced.stderr
