"""The datasets world component: typed tables, read-only SQL, writes mirrored back,
snapshots and digests."""

from __future__ import annotations

import json

import pytest

from harness.world import World, WorldError
from harness.world.components.datasets import ROW_CAP, Datasets

COLS = [("id", "int"), ("x", "float"), ("s", "text"), ("d", "date"), ("ts", "timestamp")]


def make(n: int = 50) -> Datasets:
    ds = Datasets()
    ds.put("t", COLS, [list(range(n)), [None] + [1.5] * (n - 1), [f"s{i}" for i in range(n)],
                       ["2024-01-02"] * n, ["2024-01-02 03:04:05"] * n])
    return ds


def test_schema_query_and_types():
    ds = make()
    assert ds.list_tables() == ["t"] and ds.schema("t") == COLS
    res = ds.sql("SELECT count(*), sum(x), min(d), max(ts) FROM t")
    assert res["rows"] == [(50, 73.5, "2024-01-02", "2024-01-02 03:04:05")] and not res["truncated"]
    big = ds.sql("SELECT * FROM t, t AS u")
    assert len(big["rows"]) == ROW_CAP and big["truncated"]


@pytest.mark.parametrize("bad", ["DELETE FROM t", "SELECT 1; SELECT 2", "SELECT * FROM nope",
                                 "SELECT * FROM read_csv('/etc/passwd')", "not sql at all"])
def test_sql_refuses_writes_bad_queries_and_files(bad):
    ds = make()
    before = ds.digest()
    with pytest.raises(WorldError):
        ds.sql(bad)
    assert ds.digest() == before


def test_writes_change_the_stored_tables_and_keep_order():
    ds = make()
    before = ds.digest()
    out = ds.sql_write("DELETE FROM t WHERE id < 10; UPDATE t SET s = 'z' WHERE id = 11; "
                       "CREATE TABLE u AS SELECT id, d FROM t WHERE id < 20")
    assert out["rows_changed"] == 11 and ds.list_tables() == ["t", "u"]
    assert ds.table("t").column("id") == list(range(10, 50))
    assert ds.table("t").column("s")[1] == "z" and ds.schema("u") == [("id", "int"), ("d", "date")]
    assert ds.digest() != before
    ds.sql_write("DROP TABLE u")
    assert ds.list_tables() == ["t"]
    with pytest.raises(WorldError):
        ds.sql_write("SELECT 1")


def test_failed_write_changes_nothing():
    ds = make()
    before = ds.digest()
    with pytest.raises(WorldError, match="no table was changed"):
        ds.sql_write("DELETE FROM t WHERE id < 10; DROP TABLE missing")
    assert ds.digest() == before and ds.n_rows("t") == 50
    assert ds.sql("SELECT count(*) FROM t")["rows"] == [(50,)]


def test_snapshot_round_trip_and_world_digest():
    ds = make()
    world = World(parts={"datasets": ds})
    again = World.from_snapshot(json.loads(json.dumps(world.snapshot())))
    assert again.digest() == world.digest() and again.datasets.list_tables() == ["t"]
    again.datasets.sql_write("DELETE FROM t WHERE id = 0")
    assert again.digest() != world.digest()
    assert make().digest() == ds.digest()


def test_bad_tables_are_refused():
    with pytest.raises(WorldError):
        Datasets().put("t", [("a", "money")], [[1]])
    with pytest.raises(WorldError):
        Datasets().put("t", [("a", "int"), ("b", "int")], [[1], [1, 2]])
