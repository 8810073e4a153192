"""``MemoryStore``: where long-term memory outlives a session and is shared by instances.

Values are JSON-able dicts grouped in namespaces (e.g. one per team or task family). Both
implementations round-trip every value through JSON, so code that works against the
in-memory store cannot rely on sharing live objects and then break on SQLite.
Writes are last-writer-wins per key; callers that read-modify-write (consolidation)
resolve conflicts by the revision number stored inside the value.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Protocol

from harness.core.errors import ConfigError


class MemoryStore(Protocol):
    def put(self, namespace: str, key: str, value: dict[str, Any]) -> None: ...

    def get(self, namespace: str, key: str) -> dict[str, Any] | None: ...

    def delete(self, namespace: str, key: str) -> bool: ...

    def all(self, namespace: str) -> dict[str, dict[str, Any]]:
        """Every key of the namespace with its value, keys sorted."""

    def namespaces(self) -> list[str]: ...


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class InMemoryStore:
    """A dict of dicts of JSON strings; shared by passing the same object around."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, str]] = {}

    def put(self, namespace: str, key: str, value: dict[str, Any]) -> None:
        self._data.setdefault(namespace, {})[key] = _dump(value)

    def get(self, namespace: str, key: str) -> dict[str, Any] | None:
        raw = self._data.get(namespace, {}).get(key)
        return None if raw is None else json.loads(raw)

    def delete(self, namespace: str, key: str) -> bool:
        return self._data.get(namespace, {}).pop(key, None) is not None

    def all(self, namespace: str) -> dict[str, dict[str, Any]]:
        ns = self._data.get(namespace, {})
        return {k: json.loads(ns[k]) for k in sorted(ns)}

    def namespaces(self) -> list[str]:
        return sorted(n for n, d in self._data.items() if d)


class SQLiteStore:
    """One table (namespace, key, value JSON) in a SQLite file, WAL mode; safe to open from
    several processes (SQLite serialises writers)."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL"):
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ConfigError(
                f"sqlite synchronous must be OFF, NORMAL, FULL or EXTRA, got {synchronous!r}"
            )
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS memory (namespace TEXT NOT NULL, key TEXT NOT NULL,"
            " value TEXT NOT NULL, PRIMARY KEY (namespace, key))"
        )

    def put(self, namespace: str, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO memory VALUES (?, ?, ?) ON CONFLICT(namespace, key) DO UPDATE SET value=excluded.value",
                (namespace, key, _dump(value)),
            )

    def get(self, namespace: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM memory WHERE namespace=? AND key=?", (namespace, key)
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def delete(self, namespace: str, key: str) -> bool:
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM memory WHERE namespace=? AND key=?", (namespace, key)
            )
        return cur.rowcount > 0

    def all(self, namespace: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, value FROM memory WHERE namespace=? ORDER BY key", (namespace,)
            ).fetchall()
        return {k: json.loads(v) for k, v in rows}

    def namespaces(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT namespace FROM memory ORDER BY namespace"
            ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        self._db.close()
