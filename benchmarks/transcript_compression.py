"""How to store transcripts (issue 20): the bytes the ``args`` and ``observation`` columns
of a real run's ``actions`` take in a DuckDB file, stored as

- ``varchar``: plain VARCHAR, DuckDB choosing its own compression (dictionary, FSST, ...);
- ``varchar-zstd``: VARCHAR with DuckDB's ZSTD column compression forced (``USING COMPRESSION``);
- ``zlib-blob``: each value zlib-compressed (level 6) by Python into a BLOB.

    python benchmarks/transcript_compression.py STORE [--copies N]

Each layout is written to a fresh file (the rows ``--copies`` times, so a table spans many
256 KiB blocks and block rounding does not dominate) and measured after a checkpoint.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zlib
from pathlib import Path

import duckdb

TEXT = ("args", "observation")


def _rows(store: Path) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("SELECT condition, task_id, repeat, seq, args, observation FROM actions "
                           "WHERE args IS NOT NULL ORDER BY ALL").fetchall()
    finally:
        con.close()


def _size(path: Path, layout: str, rows: list[tuple], copies: int) -> tuple[int, float]:
    con = duckdb.connect(str(path))
    kind = {"varchar": "VARCHAR", "varchar-zstd": "VARCHAR USING COMPRESSION zstd", "zlib-blob": "BLOB"}[layout]
    con.execute(f"CREATE TABLE t (condition VARCHAR, task_id VARCHAR, repeat BIGINT, seq BIGINT, "
                f"args {kind}, observation {kind})")
    if layout == "zlib-blob":
        rows = [(*r[:4], *(None if v is None else zlib.compress(v.encode(), 6) for v in r[4:])) for r in rows]
    app = con.appender("t")
    for k in range(copies):
        app.append_rows([(c, t, rep + 1000 * k, s, a, o) for c, t, rep, s, a, o in rows])
    app.flush()
    con.execute("CHECKPOINT")
    started = time.perf_counter()
    got = con.execute("SELECT args, observation FROM t").fetchall()
    if layout == "zlib-blob":
        got = [tuple(None if v is None else zlib.decompress(v).decode() for v in r) for r in got]
    read = time.perf_counter() - started
    con.close()
    return path.stat().st_size, read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    rows = _rows(args.store)
    raw = sum(len(v.encode()) for r in rows for v in r[4:] if v is not None) * args.copies
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.duckdb"
        duckdb.connect(str(empty)).close()
        base = empty.stat().st_size
        key_only, _ = _size(Path(tmp) / "keys.duckdb", "varchar", [(*r[:4], None, None) for r in rows], args.copies)
        print(f"{len(rows) * args.copies} actions, transcript text {raw / 1e6:.1f} MB raw; "
              f"the key columns alone take {(key_only - base) / 1e6:.2f} MB")
        for layout in ("varchar", "varchar-zstd", "zlib-blob"):
            size, read = _size(Path(tmp) / f"{layout}.duckdb", layout, rows, args.copies)
            text = size - key_only
            print(f"{layout:13s} file {size / 1e6:6.2f} MB, transcript columns {text / 1e6:6.2f} MB "
                  f"({raw / max(text, 1):.1f}x), read all back {read:.2f} s")


if __name__ == "__main__":
    main()
