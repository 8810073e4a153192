"""The results store: schema from the row models, exact round trips, batches that commit
all or nothing, resume and its refusals, and files that are not ours left untouched."""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from pydantic import BaseModel

from harness.core.errors import ResumeConflictError, StoreError
from harness.core.models import ActionRecord, EpisodeRecord
from harness.store import ResultWriter, RunInfo, check_store_path, delete_run, reader, schema

ROOT = Path(__file__).resolve().parents[3]


# ---- helpers ---------------------------------------------------------------------------

def run(run_id: str = "r1", **kw) -> RunInfo:
    fields = dict(id=run_id, experiment="smoke", config={"repeats": 1, "x": [1, 2]}, config_hash="cfgA",
                  workload_hash="wlA", code_version="abc123", seed=7, repeats=1, planned_episodes=10,
                  host="testhost")
    fields.update(kw)
    return RunInfo(**fields)


def episode(task: str, *, run_id: str = "r1", condition: str = "human", repeat: int = 0, **kw) -> EpisodeRecord:
    fields = dict(run_id=run_id, condition=condition, task_id=task, repeat=repeat, category="code",
                  family="rename", difficulty=2, seed=11, success=True, termination="submitted",
                  check_detail='[{"checker": "tests", "passed": true}]', actions=3, tool_calls=3,
                  tool_calls_ok=2, tool_calls_rejected=1, sim_minutes=4.25, world_digest="d" * 16,
                  wall_seconds=0.125)
    fields.update(kw)
    return EpisodeRecord(**fields)


def actions_of(ep: EpisodeRecord, n: int = 3, **kw) -> list[ActionRecord]:
    return [
        ActionRecord(run_id=ep.run_id, condition=ep.condition, task_id=ep.task_id, repeat=ep.repeat, seq=s,
                     parent=None if s == 0 else s - 1, tool=kw.get("tool", "read_file"), ok=s % 2 == 0,
                     sim_minutes=0.5 * s, wall_latency_ms=1.5)
        for s in range(n)
    ]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def raw_rows(path: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
    finally:
        con.close()


def same(a, b) -> bool:
    """Equal, with NaN equal to NaN and the sign of zero respected; None only equals None."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return type(a) is type(b) and a == b


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "results" / "harness.duckdb"


def write(db: Path, eps: list[EpisodeRecord], *, batch_size: int = 200, run_info: RunInfo | None = None) -> None:
    with ResultWriter(db, batch_size=batch_size) as w:
        w.begin_run(run_info or run())
        for ep in eps:
            w.add(ep, actions_of(ep))


# ---- schema ----------------------------------------------------------------------------

def test_schema_columns_are_the_model_fields_in_order(db: Path):
    assert schema.EPISODES.names == tuple(EpisodeRecord.model_fields)
    assert schema.ACTIONS.names == tuple(ActionRecord.model_fields)
    types = {c.name: (c.sql_type, c.nullable) for c in schema.EPISODES.columns}
    assert types["success"] == ("BOOLEAN", False)
    assert types["sim_minutes"] == ("DOUBLE", False)
    assert types["seed"] == ("BIGINT", False)
    assert types["error"] == ("VARCHAR", True)
    assert {c.name: c.nullable for c in schema.ACTIONS.columns}["parent"] is True

    write(db, [])
    con = duckdb.connect(str(db), read_only=True)
    try:
        for table in (schema.EPISODES, schema.ACTIONS):
            got = con.execute(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position", [table.name]).fetchall()
            assert got == [(c.name, c.sql_type, "YES" if c.nullable else "NO") for c in table.columns]
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        assert version == [(str(schema.SCHEMA_VERSION),)]
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert tables == set(schema.TABLES)
    finally:
        con.close()


def test_unmapped_field_type_fails_at_definition():
    class Bad(BaseModel):
        run_id: str
        tags: list[str]

    class Ambiguous(BaseModel):
        run_id: str
        value: int | str | None

    with pytest.raises(TypeError, match="tags"):
        schema.table_from_model("bad", Bad, ("run_id",))
    with pytest.raises(TypeError, match="value"):
        schema.table_from_model("bad", Ambiguous, ("run_id",))


# ---- round trip ------------------------------------------------------------------------

ODD = [
    episode("t-nan", sim_minutes=float("nan"), cost_usd=float("inf"), error=None),
    episode("t-zero", sim_minutes=-0.0, approval_wait_minutes=5e-324, cost_usd=0.1 + 0.2, error=""),
    episode("t-big", seed=2**63 - 1, tokens=2**62, difficulty=-3, success=False, termination="harness_error",
            error="Traceback:\n  'quoted' \"double\" \\ é 😀 \x00 nul", check_detail="[]"),
    episode("t-rep", repeat=2, condition="agent_native", wall_seconds=123.456789),
]


def test_round_trip_values_identical(db: Path):
    write(db, ODD, batch_size=3)
    stored = raw_rows(db, "episodes")
    want = sorted((tuple(e.model_dump().values()) for e in ODD), key=lambda r: tuple(map(str, r[:4])))
    stored = sorted(stored, key=lambda r: tuple(map(str, r[:4])))
    assert len(stored) == len(want)
    for got, exp in zip(stored, want, strict=True):
        assert all(same(g, e) for g, e in zip(got, exp, strict=True)), (got, exp)

    acts = sorted(a for e in ODD for a in (tuple(x.model_dump().values()) for x in actions_of(e)))
    stored_acts = raw_rows(db, "actions")
    assert len(stored_acts) == len(acts)
    for got, exp in zip(stored_acts, acts, strict=True):
        assert all(same(g, e) for g, e in zip(got, exp, strict=True)), (got, exp)

    # The DataFrame readers carry the same values (NULL as NA, floats bit for bit).
    df = reader.episodes(db, "r1")
    assert list(df.columns) == list(schema.EPISODES.names)
    assert list(zip(df.condition, df.task_id, df.repeat, strict=True)) == sorted(
        (e.condition, e.task_id, e.repeat) for e in ODD)
    by_task = {r["task_id"]: r for r in df.to_dict("records")}
    for e in ODD:
        row = by_task[e.task_id]
        for name, value in e.model_dump().items():
            if value is None:
                assert row[name] is None or row[name] != row[name], name
            else:
                assert same(type(value)(row[name]), value), (name, row[name], value)
    adf = reader.actions(db)
    assert len(adf) == len(acts) and adf.parent.isna().sum() == len(ODD)


def test_readers_describe_the_run(db: Path):
    with ResultWriter(db) as w:
        w.begin_run(run())
        w.record_conditions("r1", {"human": {"tools": "shell"}, "agent_native": {"tools": "typed"}})
        w.record_tasks("r1", [dict(task_id=f"t{i}", category="code", family="rename", difficulty=i, seed=i,
                                   spec_hash=f"s{i}") for i in (2, 1)])
        w.add(episode("t1"), [])
        w.finish_run("r1")
    info = reader.run_info(db, "r1")
    assert info["config"] == {"repeats": 1, "x": [1, 2]} and info["status"] == "finished"
    assert info["finished"] >= info["started"] and info["episodes_done"] == 1
    assert reader.conditions(db, "r1") == {"agent_native": {"tools": "typed"}, "human": {"tools": "shell"}}
    assert list(reader.tasks(db, "r1").task_id) == ["t1", "t2"]
    runs = reader.list_runs(db)
    assert list(runs.id) == ["r1"] and runs.episodes_done.tolist() == [1] and "config" not in runs
    assert reader.latest_run(db) == "r1" == reader.latest_run(db, "smoke")
    with pytest.raises(StoreError, match="no runs of experiment 'table2'") as err:
        reader.latest_run(db, "table2")
    assert "smoke" in str(err.value)
    with pytest.raises(StoreError, match="unknown run 'nope'") as err:
        reader.episodes(db, "nope")
    assert "r1" in str(err.value)


def test_latest_run_and_empty_store(db: Path):
    with ResultWriter(db):
        pass
    with pytest.raises(StoreError, match="no runs in"):
        reader.latest_run(db)
    assert reader.list_runs(db).empty
    write(db, [episode("a", run_id="old")], run_info=run("old"))
    write(db, [episode("b", run_id="new")], run_info=run("new"))
    assert reader.latest_run(db) == "new"
    assert reader.episodes(db).task_id.tolist() == ["b"]


def test_deterministic_rows_leave_out_wall_and_run_id(db: Path):
    eps = [episode("a"), episode("b", condition="agent_native")]
    write(db, eps, run_info=run("r1"))
    twins = [e.model_copy(update={"run_id": "r2", "wall_seconds": 99.0}) for e in eps]
    write(db, twins, run_info=run("r2"))
    rows1 = reader.deterministic_episode_rows(db, "r1")
    assert rows1 == reader.deterministic_episode_rows(db, "r2")
    assert len(rows1[0]) == len(schema.EPISODES.names) - 2
    assert not any(c.startswith("wall_") for c in schema.DETERMINISTIC_EPISODE_COLUMNS)
    assert "run_id" not in schema.DETERMINISTIC_EPISODE_COLUMNS
    assert [r[:2] for r in rows1] == [("agent_native", "b"), ("human", "a")]
    changed = [eps[0].model_copy(update={"run_id": "r3", "sim_minutes": 4.5}), eps[1].model_copy(update={"run_id": "r3"})]
    write(db, changed, run_info=run("r3"))
    assert reader.deterministic_episode_rows(db, "r3") != rows1


# ---- resume ----------------------------------------------------------------------------

def test_resume_returns_done_keys_and_reruns_nothing(db: Path):
    first = [episode(f"t{i}", repeat=i % 2) for i in range(5)]
    with ResultWriter(db, batch_size=2) as w:
        assert w.begin_run(run()) == set()
        for ep in first:
            w.add(ep, actions_of(ep))
    with ResultWriter(db) as w:
        done = w.begin_run(run())
        assert done == {(e.condition, e.task_id, e.repeat) for e in first}
        assert reader.run_info(db, "r1")["status"] == "running"
        # The runner skips done keys; if one slips through, the stored episode and its
        # actions win (INSERT OR IGNORE) and the writer counts it.
        again = first[0].model_copy(update={"sim_minutes": 999.0})
        w.add(again, actions_of(again, n=5, tool="other"))
        w.add(episode("t9"), [])
        w.flush()
        assert w.ignored == 1
    df = reader.episodes(db)
    assert len(df) == 6 and df.set_index("task_id").loc["t0", "sim_minutes"] == 4.25
    acts = reader.actions(db)
    assert acts[acts.task_id == "t0"].tool.tolist() == ["read_file"] * 3


def test_resume_with_other_config_is_refused_and_changes_nothing(db: Path):
    write(db, [episode("t1")])
    before = sha(db)
    with ResultWriter(db) as w:
        with pytest.raises(ResumeConflictError) as err:
            w.begin_run(run(config_hash="cfgB"))
        assert "run r1 exists with a different configuration (hash cfgA, now cfgB)" in str(err.value)
        assert err.value.hint and "run.id" in err.value.hint
        with pytest.raises(ResumeConflictError, match="different workload"):
            w.begin_run(run(workload_hash="wlB"))
        with pytest.raises(ValueError, match="begin_run"):
            w.add(episode("t2"), [])
    assert sha(db) == before
    assert not db.with_name(db.name + ".wal").exists()
    assert reader.run_info(db, "r1")["config_hash"] == "cfgA"


def test_delete_run_lets_the_id_start_afresh(db: Path):
    write(db, [episode("t1")])
    assert delete_run(db, "r1") == 1
    with ResultWriter(db) as w:
        assert w.begin_run(run(config_hash="cfgB")) == set()


def test_conditions_and_tasks_are_idempotent_and_guarded(db: Path):
    conds = {"human": {"tools": "shell"}}
    tasks = [dict(task_id="t1", category="code", family="rename", difficulty=1, seed=3, spec_hash="s1")]
    for _ in range(2):
        with ResultWriter(db) as w:
            w.begin_run(run())
            w.record_conditions("r1", conds)
            w.record_tasks("r1", tasks)
    assert len(raw_rows(db, "conditions")) == 1 and len(raw_rows(db, "tasks")) == 1
    with ResultWriter(db) as w:
        w.begin_run(run())
        with pytest.raises(ResumeConflictError, match="condition human"):
            w.record_conditions("r1", {"human": {"tools": "typed"}})
        with pytest.raises(ResumeConflictError, match="task t1"):
            w.record_tasks("r1", [{**tasks[0], "spec_hash": "other"}])
        with pytest.raises(ValueError, match="lacks 'seed'"):
            w.record_tasks("r1", [{k: v for k, v in tasks[0].items() if k != "seed"}])
    assert reader.conditions(db, "r1") == conds
    assert raw_rows(db, "tasks")[0][-1] == "s1"


# ---- batches ---------------------------------------------------------------------------

def test_batch_is_all_or_nothing(db: Path, monkeypatch: pytest.MonkeyPatch):
    w = ResultWriter(db, batch_size=2)
    w.begin_run(run())
    for i in range(2):  # batch 1 commits
        w.add(episode(f"ok{i}"), actions_of(episode(f"ok{i}")))
    original = ResultWriter._insert

    def failing(self, table):
        if table == "actions":  # episodes of this batch are already inserted by now
            raise duckdb.IOException("IO Error: simulated disk failure")
        return original(self, table)

    monkeypatch.setattr(ResultWriter, "_insert", failing)
    w.add(episode("bad0"), actions_of(episode("bad0")))
    with pytest.raises(StoreError, match="simulated disk failure"):
        w.add(episode("bad1"), actions_of(episode("bad1")))
    assert reader.episodes(db).task_id.tolist() == ["ok0", "ok1"]
    assert len(reader.actions(db)) == 6
    assert w.pending == 2  # kept for a later flush: finished episodes are not lost
    monkeypatch.setattr(ResultWriter, "_insert", original)
    w.close()
    assert reader.episodes(db).task_id.tolist() == ["bad0", "bad1", "ok0", "ok1"]
    assert len(reader.actions(db)) == 12


def test_exception_in_with_block_still_commits_buffered(db: Path):
    with pytest.raises(RuntimeError, match="boom"), ResultWriter(db, batch_size=100) as w:
        w.begin_run(run())
        w.add(episode("a"), actions_of(episode("a")))
        raise RuntimeError("boom")
    assert reader.episodes(db).task_id.tolist() == ["a"]


def test_sigkill_leaves_exactly_the_flushed_batches(db: Path):
    script = textwrap.dedent("""
        import os, sys
        from harness.core.models import EpisodeRecord, ActionRecord
        from harness.store import ResultWriter, RunInfo
        w = ResultWriter(sys.argv[1], batch_size=4)
        w.begin_run(RunInfo(id="r1", experiment="smoke", config={}, config_hash="c", workload_hash="w",
                            code_version="v", seed=1, repeats=1, planned_episodes=20, host="h"))
        for i in range(14):  # 3 batches of 4 commit; 2 episodes of a 4th are buffered
            ep = EpisodeRecord(run_id="r1", condition="human", task_id=f"t{i:02d}", repeat=0, category="c",
                               family="f", difficulty=1, seed=i, success=True, termination="submitted",
                               check_detail="[]", actions=2, tool_calls=2, tool_calls_ok=2,
                               tool_calls_rejected=0, sim_minutes=1.0, world_digest="d")
            acts = [ActionRecord(run_id="r1", condition="human", task_id=ep.task_id, repeat=0, seq=s,
                                 parent=None, tool="t", ok=True, sim_minutes=0.5) for s in range(2)]
            w.add(ep, acts)
        os.kill(os.getpid(), 9)
    """)
    proc = subprocess.run([sys.executable, "-c", script, str(db)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -9, proc.stderr
    assert reader.episodes(db).task_id.tolist() == [f"t{i:02d}" for i in range(12)]
    assert len(reader.actions(db)) == 24
    assert reader.run_info(db, "r1")["status"] == "running"
    with ResultWriter(db) as w:
        done = w.begin_run(RunInfo(id="r1", experiment="smoke", config={}, config_hash="c", workload_hash="w",
                                   code_version="v", seed=1, repeats=1, planned_episodes=20, host="h"))
    assert done == {("human", f"t{i:02d}", 0) for i in range(12)}


def test_add_rejects_records_that_would_poison_a_batch(db: Path):
    with ResultWriter(db) as w:
        w.begin_run(run())
        ep = episode("a")
        with pytest.raises(ValueError, match="does not belong"):
            w.add(ep, actions_of(episode("b")))
        with pytest.raises(ValueError, match="tokens=.* BIGINT"):
            w.add(episode("c", tokens=2**64), [])
        with pytest.raises(ValueError, match="error is not valid UTF-8"):
            w.add(episode("c", error="bad \udc80 byte"), [])
        with pytest.raises(ValueError, match="seq 0 appears twice"):
            w.add(ep, actions_of(ep, n=1) * 2)
        w.add(ep, [])
        with pytest.raises(ValueError, match="added twice"):
            w.add(ep, [])
        with pytest.raises(ValueError, match="begin_run"):
            w.add(episode("x", run_id="other"), [])
    assert reader.episodes(db).task_id.tolist() == ["a"]


# ---- files that are not ours, and busy stores ------------------------------------------

NOT_DUCKDB = {
    "text": b"task_id,success\nt1,true\n",
    "random": bytes(range(256)) * 64,
    "empty": b"",
    "short": b"DUCK",
    "magic-misplaced": b"DUCK" + b"\0" * 4096,
}


@pytest.mark.parametrize("kind", sorted(NOT_DUCKDB))
def test_non_duckdb_file_is_refused_and_untouched(tmp_path: Path, kind: str):
    path = tmp_path / "harness.duckdb"
    path.write_bytes(NOT_DUCKDB[kind])
    with pytest.raises(StoreError, match="left untouched") as err:
        ResultWriter(path)
    assert str(path) in str(err.value) and err.value.hint
    assert len(str(err.value).splitlines()) <= 2
    for read in (reader.list_runs, reader.episodes, reader.latest_run):
        with pytest.raises(StoreError):
            read(path)
    assert path.read_bytes() == NOT_DUCKDB[kind]
    assert sorted(os.listdir(tmp_path)) == ["harness.duckdb"]


def test_empty_file_reads_as_no_results(tmp_path: Path):
    path = tmp_path / "harness.duckdb"
    path.touch()
    with pytest.raises(StoreError, match="no results at .*empty"):
        reader.episodes(path)
    with pytest.raises(StoreError, match="empty file"):
        check_store_path(path)


def test_corrupt_duckdb_file_becomes_store_error(tmp_path: Path):
    path = tmp_path / "harness.duckdb"
    write(path, [episode("a")])
    data = bytearray(path.read_bytes())
    data[64:4096] = os.urandom(4096 - 64)  # keep the magic bytes, wreck the headers
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError):
        reader.episodes(path)
    with pytest.raises(StoreError):
        ResultWriter(path)


def test_directory_and_missing_paths(tmp_path: Path):
    with pytest.raises(StoreError, match="is a directory"):
        ResultWriter(tmp_path)
    with pytest.raises(StoreError, match="is a directory"):
        reader.list_runs(tmp_path)
    missing = tmp_path / "nowhere" / "deeper" / "harness.duckdb"
    with pytest.raises(StoreError, match="no results at") as err:
        reader.episodes(missing)
    assert "harness run" in str(err.value)
    assert not missing.parent.exists()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        ResultWriter(tmp_path / "afile" / "harness.duckdb")
    with ResultWriter(missing):  # writing creates the parents
        pass
    assert reader.list_runs(missing).empty


def test_store_creation_is_all_or_nothing(db: Path, monkeypatch: pytest.MonkeyPatch):
    def broken(con):
        con.execute(schema.META.ddl()).fetchall()
        raise duckdb.IOException("IO Error: simulated crash while creating")

    monkeypatch.setattr(schema, "create", broken)
    with pytest.raises(StoreError, match="simulated crash"):
        ResultWriter(db)
    assert os.listdir(db.parent) == []  # no half-made store to trip over on the rerun
    monkeypatch.undo()
    with ResultWriter(db):
        pass
    assert sorted(os.listdir(db.parent)) == ["harness.duckdb"]
    assert reader.list_runs(db).empty


def test_foreign_duckdb_database_is_refused_and_untouched(tmp_path: Path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE customers (id INTEGER)").fetchall()
    con.close()
    before = sha(path)
    with pytest.raises(StoreError, match="not a harness results store"):
        ResultWriter(path)
    with pytest.raises(StoreError, match="not a harness results store"):
        reader.list_runs(path)
    assert sha(path) == before


def test_newer_schema_version_is_refused(db: Path):
    write(db, [episode("a")])
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(schema.SCHEMA_VERSION + 1)]).fetchall()
    con.close()
    with pytest.raises(StoreError, match="newer|reads up to"):
        ResultWriter(db)
    with pytest.raises(StoreError, match="reads up to"):
        reader.episodes(db)


def test_one_writer_per_store_in_a_process(db: Path):
    with ResultWriter(db), pytest.raises(StoreError, match="already open for writing"):
        ResultWriter(db)
    with ResultWriter(db):  # closed writers release the path
        pass


def test_store_busy_in_another_process_is_a_clear_error(db: Path):
    """A writer in another process keeps a second writer out for its whole life, but
    readers get in between its batches (issue 20: reading while a run writes)."""
    write(db, [episode("a")])
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from harness.store import ResultWriter\n"
         "w = ResultWriter(sys.argv[1]); print('ready', flush=True); sys.stdin.read(); w.close()", str(db)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert reader.episodes(db).task_id.tolist() == ["a"]  # between batches: readable
        with pytest.raises(StoreError, match="being written by a running experiment") as err:
            ResultWriter(db)
        assert "another store.path" in err.value.hint
    finally:
        holder.communicate("", timeout=60)
    assert holder.returncode == 0
    assert reader.episodes(db).task_id.tolist() == ["a"]


def test_reader_waits_briefly_for_a_commit_then_says_busy(db: Path, monkeypatch: pytest.MonkeyPatch):
    """DuckDB's own lock, held by another process (as during a batch's commit): a reader
    retries for READ_WAIT_SECONDS, then gives the one-line busy error; once the lock is
    gone within that time it reads."""
    write(db, [episode("a")])
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, duckdb\n"
         "c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.readline(); c.close()\n"
         "print('released', flush=True); sys.stdin.read()", str(db)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        monkeypatch.setattr(reader, "READ_WAIT_SECONDS", 0.3)
        with pytest.raises(StoreError, match="being written by a running experiment") as err:
            reader.episodes(db)
        assert "copy" in err.value.hint and len(str(err.value).splitlines()) <= 2
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "released"
        assert reader.episodes(db).task_id.tolist() == ["a"]
    finally:
        holder.communicate("", timeout=60)


def test_reading_while_this_process_writes(db: Path):
    with ResultWriter(db, batch_size=1) as w:
        w.begin_run(run())
        w.add(episode("a"), [])
        assert reader.episodes(db).task_id.tolist() == ["a"]
        w.add(episode("b"), [])
        assert reader.run_info(db, "r1")["episodes_done"] == 2
