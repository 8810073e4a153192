"""Recovering a results store whose write-ahead log was damaged.

DuckDB appends every commit to ``<store>.wal`` (checksummed entries, fsynced on commit)
and folds the log into the main file at checkpoints. Two kinds of damage reach a user:

- a torn tail (the process or machine died mid-append): DuckDB replays the log up to the
  last complete commit and drops the rest by itself. That commit was never acknowledged,
  so nothing reported as committed is lost; re-running the same command resumes.
- a damaged entry (a flipped byte, a bad sector, a partial copy): DuckDB refuses to open
  the store at all, naming the entry whose checksum does not match.

``recover`` handles the second kind the way the first is handled: it keeps every commit
that precedes the damaged entry and nothing after it. It never destroys bytes: the
damaged log is kept beside the store (``<store>.wal.damaged-<sha>``) before the live log
is cut at the damaged entry, so the step can be undone or examined.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from harness.core.errors import StoreError
from harness.store.files import check_store_path, fetch, translated

_DAMAGED_ENTRY = re.compile(r"Corrupt WAL file: entry at byte position (\d+)")


@dataclass(frozen=True)
class Recovery:
    """What ``recover`` found and did."""

    path: Path
    action: str  # healthy | recovered
    damaged_at: int | None = None  # byte offset of the first damaged log entry
    log_bytes_dropped: int = 0
    kept_log: Path | None = None  # the damaged log, preserved
    episodes: dict[str, int] = field(default_factory=dict)  # run id -> episodes now stored


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def damaged_entry(exc: BaseException) -> int | None:
    """The byte offset of the damaged log entry DuckDB names in ``exc``, if it names one."""
    found = _DAMAGED_ENTRY.search(str(exc))
    return int(found.group(1)) if found else None


def _open_error(path: Path) -> duckdb.Error | None:
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error as exc:
        return exc
    return None


def _episodes_by_run(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        with translated(path, "count its episodes"):
            return dict(fetch(con, "SELECT run_id, count(*) FROM episodes GROUP BY run_id ORDER BY run_id"))
    finally:
        con.close()


def recover(path: str | Path) -> Recovery:
    """Make the store at ``path`` open again, keeping every commit before a damaged log entry.

    A healthy store is left byte-for-byte alone. Damage that is not in the log (the main
    file itself) cannot be repaired here and raises StoreError without touching anything.
    """
    store = check_store_path(path, must_exist=True)
    error = _open_error(store)
    if error is None:
        return Recovery(store, "healthy", episodes=_episodes_by_run(store))
    at = damaged_entry(error)
    log = wal_path(store)
    if at is None or not log.exists():
        raise StoreError(f"results store {store} cannot be opened, and the damage is not in its write-ahead log: "
                         f"{str(error).strip().splitlines()[0]}",
                         hint="restore the file from a copy, or re-run into a new store.path (runs are deterministic)")
    kept = _preserve(log)
    size = log.stat().st_size
    with open(log, "r+b") as fh:
        fh.truncate(at)
        fh.flush()
        os.fsync(fh.fileno())
    still = _open_error(store)
    if still is not None:
        raise StoreError(f"results store {store} still cannot be opened after cutting its log at byte {at}: "
                         f"{str(still).strip().splitlines()[0]}",
                         hint=f"the original log is kept at {kept}; restore the store from a copy")
    con = duckdb.connect(str(store))
    try:
        with translated(store, "checkpoint the recovered store"):
            fetch(con, "CHECKPOINT")
    finally:
        con.close()
    return Recovery(store, "recovered", at, size - at, kept, _episodes_by_run(store))


def _preserve(log: Path) -> Path:
    """Copy the damaged log aside under a name derived from its content (re-running is safe)."""
    digest = hashlib.sha256(log.read_bytes()).hexdigest()[:12]
    kept = log.with_name(f"{log.name}.damaged-{digest}")
    if not kept.exists():
        shutil.copy2(log, kept)
    return kept
