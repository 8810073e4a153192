"""Checkpoint stores: where encoded records live. Stores hold bytes and never interpret them.

``latest_valid`` is the recovery rule: walk back from the newest record until one decodes
and verifies, so a torn write or a flipped byte in the newest checkpoint costs the work
since the previous one, not the session. The decoder is passed in (by default a full
snapshot decoder); the incremental layer passes one that composes deltas onto their base.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from harness.core.errors import ConfigError
from harness.runtime.execution.codec import decode_snapshot
from harness.runtime.execution.errors import CheckpointError

T = TypeVar("T")
SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


class CheckpointStore(Protocol):
    """Append-mostly storage of checkpoint records keyed by (session_id, seq)."""

    def put(self, session_id: str, seq: int, blob: bytes) -> None:
        """Store (or replace) one record; durable when the call returns (per ``synchronous``)."""

    def get(self, session_id: str, seq: int) -> bytes | None: ...

    def list(self, session_id: str) -> list[int]:
        """The stored seqs of a session, ascending."""

    def delete(self, session_id: str, seqs: list[int] | None = None) -> None:
        """Delete the given seqs (all of the session's records when None)."""

    def close(self) -> None: ...


def latest_valid(
    store: CheckpointStore, session_id: str, decode: Callable[[int, bytes], T] | None = None
) -> tuple[int, T] | None:
    """(seq, decoded) of the newest record that decodes and verifies, or None.

    ``decode(seq, blob)`` must raise a ``CheckpointError`` for anything untrustworthy; only
    those are skipped, any other exception is a bug and propagates.
    """
    dec = decode or (lambda _seq, blob: decode_snapshot(blob))
    for seq in reversed(store.list(session_id)):
        blob = store.get(session_id, seq)
        if blob is None:
            continue
        try:
            return seq, dec(seq, blob)
        except CheckpointError:
            continue
    return None


class MemoryCheckpointStore:
    """In-process store. It still stores immutable ``bytes`` copies, so every resume goes
    through decode exactly as with SQLite and no live object is ever shared."""

    def __init__(self) -> None:
        self._data: dict[str, dict[int, bytes]] = {}

    def put(self, session_id: str, seq: int, blob: bytes) -> None:
        self._data.setdefault(session_id, {})[int(seq)] = bytes(blob)

    def get(self, session_id: str, seq: int) -> bytes | None:
        return self._data.get(session_id, {}).get(int(seq))

    def list(self, session_id: str) -> list[int]:
        return sorted(self._data.get(session_id, {}))

    def delete(self, session_id: str, seqs: list[int] | None = None) -> None:
        if seqs is None:
            self._data.pop(session_id, None)
            return
        records = self._data.get(session_id, {})
        for s in seqs:
            records.pop(int(s), None)

    def latest_valid(self, session_id: str, decode: Callable[[int, bytes], Any] | None = None):
        return latest_valid(self, session_id, decode)

    def close(self) -> None:
        pass


class SqliteCheckpointStore:
    """One SQLite table ``checkpoints(session_id, seq, blob)`` in WAL mode.

    ``synchronous=FULL`` fsyncs the WAL on every commit (a checkpoint survives power loss);
    ``NORMAL`` fsyncs only at WAL checkpoints (survives a process crash, may lose the last
    commits on power loss). ``path=None`` uses a private in-memory database.
    """

    def __init__(self, path: str | None = None, synchronous: str = "FULL"):
        sync = str(synchronous).upper()
        if sync not in SYNCHRONOUS:
            raise ConfigError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}, got {synchronous!r}")
        self.path = ":memory:" if path is None else str(path)
        self.synchronous = sync
        # isolation_level=None: we issue no implicit BEGIN; each INSERT is its own commit.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={sync}")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS checkpoints ("
            " session_id TEXT NOT NULL, seq INTEGER NOT NULL, blob BLOB NOT NULL,"
            " PRIMARY KEY (session_id, seq))"
        )

    def put(self, session_id: str, seq: int, blob: bytes) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO checkpoints (session_id, seq, blob) VALUES (?, ?, ?)",
            (session_id, int(seq), blob),
        )

    def get(self, session_id: str, seq: int) -> bytes | None:
        row = self._db.execute(
            "SELECT blob FROM checkpoints WHERE session_id = ? AND seq = ?", (session_id, int(seq))
        ).fetchone()
        return None if row is None else bytes(row[0])

    def list(self, session_id: str) -> list[int]:
        rows = self._db.execute(
            "SELECT seq FROM checkpoints WHERE session_id = ? ORDER BY seq", (session_id,)
        ).fetchall()
        return [r[0] for r in rows]

    def delete(self, session_id: str, seqs: list[int] | None = None) -> None:
        if seqs is None:
            self._db.execute("DELETE FROM checkpoints WHERE session_id = ?", (session_id,))
        else:
            self._db.executemany(
                "DELETE FROM checkpoints WHERE session_id = ? AND seq = ?", [(session_id, int(s)) for s in seqs]
            )

    def latest_valid(self, session_id: str, decode: Callable[[int, bytes], Any] | None = None):
        return latest_valid(self, session_id, decode)

    def close(self) -> None:
        self._db.close()


def make_store(kind: str, path: str | None = None, synchronous: str = "FULL") -> CheckpointStore:
    if kind == "sqlite":
        return SqliteCheckpointStore(path, synchronous)
    if kind == "memory":
        return MemoryCheckpointStore()
    raise ConfigError(f"unknown checkpoint store {kind!r}; known: memory, sqlite")
