"""Recorded exchanges in the results store: committed with their episode, never replacing
what is stored, deleted with their run, and absent from older stores without harm."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from harness.core.errors import ConfigError
from harness.experiment.config import build_run_config
from harness.experiment.runner import load_recordings
from harness.store import ResultWriter, delete_run, reader, schema
from harness.store.schema import ExchangeRecord
from tests.unit.store.test_store import episode, run

ROOT = Path(__file__).resolve().parents[3]


def exchange(ep, seq: int, h: str, response: str = '{"choices":[]}') -> ExchangeRecord:
    return ExchangeRecord(run_id=ep.run_id, condition=ep.condition, task_id=ep.task_id, repeat=ep.repeat, seq=seq,
                          request_hash=h, request='{"model":"m"}', response=response, prompt_tokens=10,
                          completion_tokens=2)


def test_exchanges_commit_with_their_episode(tmp_path):
    db = tmp_path / "s.duckdb"
    ep = episode("t1")
    with ResultWriter(db, batch_size=10) as w:
        w.begin_run(run())
        w.add(ep, [], [exchange(ep, 0, "a"), exchange(ep, 1, "b")])
        assert w.pending == 1
        w.finish_run("r1")
    rows = reader.exchanges(db, "r1")
    assert rows.request_hash.tolist() == ["a", "b"] and rows.prompt_tokens.tolist() == [10, 10]


def test_an_exchange_of_another_episode_is_refused_at_add(tmp_path):
    ep, other = episode("t1"), episode("t2")
    with ResultWriter(tmp_path / "s.duckdb") as w:
        w.begin_run(run())
        with pytest.raises(ValueError, match="does not belong"):
            w.add(ep, [], [exchange(other, 0, "a")])


def test_a_stored_episode_keeps_its_own_recordings(tmp_path):
    db = tmp_path / "s.duckdb"
    ep = episode("t1")
    with ResultWriter(db, batch_size=1) as w:
        w.begin_run(run())
        w.add(ep, [], [exchange(ep, 0, "a", '{"first":1}')])
        w.add(ep, [], [exchange(ep, 0, "a", '{"second":1}'), exchange(ep, 1, "z")])  # ignored: already stored
        w.finish_run("r1")
    rows = reader.exchanges(db, "r1")
    assert rows.response.tolist() == ['{"first":1}']


def test_delete_run_deletes_its_exchanges(tmp_path):
    db = tmp_path / "s.duckdb"
    ep = episode("t1")
    with ResultWriter(db) as w:
        w.begin_run(run())
        w.add(ep, [], [exchange(ep, 0, "a")])
        w.finish_run("r1")
    delete_run(db, "r1")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM exchanges").fetchone()[0] == 0


def test_run_usage_sums_the_stored_episodes(tmp_path):
    with ResultWriter(tmp_path / "s.duckdb") as w:
        w.begin_run(run())
        w.add(episode("t1", tokens=100, cost_usd=0.5), [])
        w.add(episode("t2", tokens=20, cost_usd=0.25), [])
        w.flush()
        assert w.run_usage("r1") == (120, 0.75)
        assert w.run_usage("nope") == (0, 0.0)


def test_a_store_from_before_recordings_still_reads_and_gains_the_table(tmp_path):
    db = tmp_path / "old.duckdb"
    with ResultWriter(db) as w:  # a store as it was before the exchanges table existed
        w.begin_run(run("old"))
        w.add(episode("t1", run_id="old"), [])
    with duckdb.connect(str(db)) as con:
        con.execute("DROP TABLE exchanges")
    with duckdb.connect(str(db), read_only=True) as con:
        assert "exchanges" not in schema.existing_tables(con)
    run_id = reader.list_runs(db).id[0]
    assert len(reader.episodes(db, run_id)) > 0
    assert reader.exchanges(db, run_id).empty
    with ResultWriter(db):
        pass  # a write open adds what is missing, nothing else
    with duckdb.connect(str(db), read_only=True) as con:
        assert "exchanges" in schema.existing_tables(con)
    assert len(reader.episodes(db, run_id)) > 0


def test_replaying_a_run_without_recordings_is_refused(tmp_path):
    db = tmp_path / "s.duckdb"
    with ResultWriter(db) as w:
        w.begin_run(run("ref"))
        w.add(episode("t1", run_id="ref"), [])
    cfg = build_run_config(["experiment=smoke", "agent=mock", "agent.replay=ref", f"store.path={db}"])
    with pytest.raises(ConfigError, match="no recorded model exchanges"):
        load_recordings(cfg)
    cfg = build_run_config(["experiment=smoke", "agent=mock", "agent.replay=nope", f"store.path={db}"])
    with pytest.raises(Exception, match="unknown run 'nope'"):
        load_recordings(cfg)
