"""Transcripts in the store (issue 20): each action's arguments and observation, the brief
of each session, read back through ``reader.transcript`` / ``reader.briefs``; stores of
schema 4 (before transcripts) read with NULLs and are migrated by the next writer."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from harness.core.errors import StoreError
from harness.core.models import ActionRecord
from harness.runtime.port import Call, Observation, Recall, ToolError
from harness.runtime.transcript import action_args, observation_text
from harness.store import ResultWriter, reader, schema
from harness.store.schema import BriefRecord
from tests.unit.store.test_store import episode, run

KEY = {"run_id": "r1", "condition": "human", "task_id": "t1", "repeat": 0}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "harness.duckdb"


def told(n: int) -> list[BriefRecord]:
    return [BriefRecord(**KEY, session=k, text=f"session {k}: do the thing\nline two") for k in range(n)]


def acts() -> list[ActionRecord]:
    return [
        ActionRecord(**KEY, seq=0, parent=None, tool="read_file", ok=True, sim_minutes=1.0, session=0,
                     args='{"path":"a.py"}', observation="x = 1\n"),
        ActionRecord(**KEY, seq=1, parent=0, tool="shell", ok=False, sim_minutes=2.0, session=1,
                     args='{"command":"rm -rf /"}', observation=None),  # a crash kept it from the agent
    ]


def write(db: Path) -> None:
    with ResultWriter(db) as w:
        w.begin_run(run())
        w.add(episode("t1"), acts(), briefs=told(2))


def test_transcript_and_briefs_round_trip(db: Path):
    write(db)
    frame = reader.transcript(db, "r1", "human", "t1", 0)
    assert list(frame.columns) == ["seq", "session", "parent", "tool", "ok", "accurate", "sim_minutes", "args",
                                   "observation"]
    assert frame.args.tolist() == [{"path": "a.py"}, {"command": "rm -rf /"}]
    assert frame.observation.tolist() == ["x = 1\n", None]
    assert frame.session.tolist() == [0, 1] and frame.tool.tolist() == ["read_file", "shell"]
    assert reader.briefs(db, "r1", "human", "t1", 0) == ["session 0: do the thing\nline two",
                                                         "session 1: do the thing\nline two"]
    # analyses do not pay for the transcript unless they ask for it
    assert "observation" not in reader.actions(db).columns
    assert reader.actions(db, transcript=True).observation.isna().tolist() == [False, True]


def test_unknown_episode_is_a_clear_error(db: Path):
    write(db)
    for read in (reader.transcript, reader.briefs):
        with pytest.raises(StoreError, match="no episode t2 repeat 0") as err:
            read(db, "r1", "human", "t2", 0)
        assert len(str(err.value).splitlines()) <= 2
        with pytest.raises(StoreError, match="unknown run"):
            read(db, "nope", "human", "t1", 0)


def test_briefs_must_belong_to_their_episode(db: Path):
    with ResultWriter(db) as w:
        w.begin_run(run())
        other = BriefRecord(**{**KEY, "task_id": "t9"}, session=0, text="x")
        with pytest.raises(ValueError, match="does not belong"):
            w.add(episode("t1"), acts(), briefs=[other])
        with pytest.raises(ValueError, match="appears twice"):
            w.add(episode("t1"), acts(), briefs=[*told(1), *told(1)])
        assert w.pending == 0


def test_a_rerun_batch_keeps_the_stored_briefs(db: Path):
    write(db)
    with ResultWriter(db) as w:
        w.begin_run(run())
        w.add(episode("t1"), acts(), briefs=[BriefRecord(**KEY, session=0, text="other")])
        w.flush()
        assert w.ignored == 1
    assert reader.briefs(db, "r1", "human", "t1", 0)[0].startswith("session 0")


def _as_schema_4(db: Path) -> None:
    """What a store written before transcripts looks like: no briefs table, no transcript
    columns in actions, version 4."""
    con = duckdb.connect(str(db))
    try:
        for column in schema.TRANSCRIPT_COLUMNS:
            con.execute(f"ALTER TABLE actions DROP COLUMN {column}")
        con.execute("DROP TABLE briefs")
        con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    finally:
        con.close()


def test_a_schema_4_store_reads_with_nulls_and_the_writer_migrates_it(db: Path):
    write(db)
    _as_schema_4(db)
    frame = reader.transcript(db, "r1", "human", "t1", 0)
    assert frame.tool.tolist() == ["read_file", "shell"]
    assert frame.args.tolist() == [None, None] and frame.observation.tolist() == [None, None]
    assert frame.session.isna().all()
    assert reader.briefs(db, "r1", "human", "t1", 0) == []
    assert len(reader.actions(db, transcript=True)) == 2
    with ResultWriter(db) as w:  # migrates: columns added (NULL in old rows), briefs created
        w.begin_run(run())
        w.add(episode("t2"), [a.model_copy(update={"task_id": "t2"}) for a in acts()],
              briefs=[BriefRecord(**{**KEY, "task_id": "t2"}, session=0, text="hello")])
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert schema.check(con, db) and schema.stored_version(con) == schema.SCHEMA_VERSION
        ddl = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'actions'").fetchone()[0]
        assert "args VARCHAR USING COMPRESSION ZSTD" in ddl  # as compact as a store made new
    finally:
        con.close()
    assert reader.transcript(db, "r1", "human", "t1", 0).args.tolist() == [None, None]
    assert reader.transcript(db, "r1", "human", "t2", 0).args.tolist() == [{"path": "a.py"},
                                                                           {"command": "rm -rf /"}]
    assert reader.briefs(db, "r1", "human", "t2", 0) == ["hello"]


def test_a_schema_3_store_is_still_refused(db: Path):
    write(db)
    _as_schema_4(db)
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="no migration"):
        reader.episodes(db)


# ---- what the session records ----------------------------------------------------------

def test_action_args_are_canonical_json():
    assert action_args(Call(tool="write_file", args={"path": "b", "text": "é\n"})) == '{"path":"b","text":"é\\n"}'
    assert json.loads(action_args(Recall(query="naming", k=3))) == {"query": "naming", "k": 3}
    huge = json.loads(action_args(Call(tool="write_file", args={"text": "x" * 300_000})))
    assert huge["_truncated"]["chars"] > 300_000 and huge["_truncated"]["head"].startswith('{"text":"xxx')
    assert len(huge["_truncated"]["head"]) == 2_000


def test_observation_text_is_what_the_layer_returned():
    assert observation_text(Observation(tool="shell", ok=True, text="a\nb\n")) == "a\nb\n"
    structured = Observation(tool="read_file", ok=False,
                             error=ToolError(code="not_found", message="no such file"))
    assert json.loads(observation_text(structured)) == {"ok": False,
                                                        "error": {"code": "not_found", "message": "no such file"}}
    both = Observation(tool="x", ok=True, data={"reconciled": True}, text="(lost)\n")
    assert json.loads(observation_text(both)) == {"ok": True, "data": {"reconciled": True}, "text": "(lost)\n"}


def test_a_batch_is_committed_early_once_its_transcript_text_is_large(db: Path, monkeypatch):
    """Whole modules written again and again (the real workload) must not pile up in memory
    until the episode count of a batch is reached."""
    from harness.store import writer as writer_module

    monkeypatch.setattr(writer_module, "BATCH_TEXT_BYTES", 10_000)
    big = "x" * 4_000
    with ResultWriter(db, batch_size=1_000) as w:
        w.begin_run(run())
        for i in range(5):
            key = {**KEY, "task_id": f"t{i}"}
            w.add(episode(f"t{i}"), [ActionRecord(**key, seq=0, parent=None, tool="write_file", ok=True,
                                                  sim_minutes=1.0, session=0, args=big, observation=big)])
            assert w.pending == (i + 1) % 2  # every second episode passes 10,000 bytes and commits
    assert len(reader.episodes(db)) == 5
