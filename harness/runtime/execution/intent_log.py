"""Write-ahead intent log: an effect interrupted by a crash is never applied twice.

Before an action's effect is applied, ``intent(seq, action digest, world digest before)``
is committed; after it, ``completion(seq, result)``. On resume the deterministic agent
proposes the same actions again from the last checkpoint on, and ``execute_once``:

* seq completed -> returns the recorded result; the effect is not applied again;
* intent without completion (crash in between) -> asks ``reconcile(intent)``, a callback
  that inspects the world (e.g. its digest against ``world_before``); if the effect is
  there, the completion is recorded from what the world shows, otherwise it is applied;
* no record -> intent, apply, completion.

A different action digest at a logged seq means the agent is not deterministic, and
replay cannot be trusted: ``IntentConflictError``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.core.errors import ConfigError
from harness.core.hashing import canonical_json, stable_hash
from harness.runtime.execution.errors import IntentConflictError


@dataclass(frozen=True)
class Intent:
    session_id: str
    seq: int
    action_digest: str
    world_before: str | None
    result: dict[str, Any] | None  # None until completed
    result_digest: str | None

    @property
    def completed(self) -> bool:
        return self.result_digest is not None


def action_digest(action: dict[str, Any]) -> str:
    return stable_hash(action, length=32)


class IntentLog:
    """SQLite-backed (``path=None``: in-memory database); one row per (session, seq)."""

    def __init__(self, path: str | None = None, synchronous: str = "FULL"):
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ConfigError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, got {synchronous!r}")
        self._db = sqlite3.connect(":memory:" if path is None else str(path), isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS intents (session_id TEXT NOT NULL, seq INTEGER NOT NULL,"
            " action_digest TEXT NOT NULL, world_before TEXT, result TEXT, result_digest TEXT,"
            " PRIMARY KEY (session_id, seq))"
        )

    # -- records ----------------------------------------------------------------------------
    def intent(self, session_id: str, seq: int, digest: str, world_before: str | None = None) -> None:
        self._db.execute(
            "INSERT INTO intents (session_id, seq, action_digest, world_before) VALUES (?, ?, ?, ?)",
            (session_id, seq, digest, world_before),
        )

    def complete(self, session_id: str, seq: int, result: dict[str, Any]) -> str:
        text = canonical_json(result)
        digest = stable_hash(text, length=32)
        cur = self._db.execute(
            "UPDATE intents SET result = ?, result_digest = ? WHERE session_id = ? AND seq = ?",
            (text, digest, session_id, seq),
        )
        if cur.rowcount != 1:
            raise KeyError(f"no intent recorded for {session_id}#{seq}")
        return digest

    def get(self, session_id: str, seq: int) -> Intent | None:
        row = self._db.execute(
            "SELECT action_digest, world_before, result, result_digest FROM intents"
            " WHERE session_id = ? AND seq = ?", (session_id, seq)
        ).fetchone()
        if row is None:
            return None
        return Intent(session_id, seq, row[0], row[1], None if row[2] is None else json.loads(row[2]), row[3])

    def pending(self, session_id: str) -> list[int]:
        """Seqs with an intent but no completion."""
        rows = self._db.execute(
            "SELECT seq FROM intents WHERE session_id = ? AND result_digest IS NULL ORDER BY seq", (session_id,)
        ).fetchall()
        return [r[0] for r in rows]

    def discard(self, session_id: str) -> None:
        self._db.execute("DELETE FROM intents WHERE session_id = ?", (session_id,))

    def close(self) -> None:
        self._db.close()

    # -- the guard --------------------------------------------------------------------------
    def execute_once(
        self,
        session_id: str,
        seq: int,
        action: dict[str, Any],
        apply: Callable[[], dict[str, Any]],
        reconcile: Callable[[Intent], dict[str, Any] | None],
        world_digest: Callable[[], str] | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Run ``apply`` at most once for (session, seq). Returns (result, applied_now)."""
        digest = action_digest(action)
        rec = self.get(session_id, seq)
        if rec is not None and rec.action_digest != digest:
            raise IntentConflictError(
                f"action #{seq} of {session_id} differs from the one in the intent log",
                hint="the agent is not deterministic given its observations; replay is unsafe",
            )
        if rec is not None and rec.completed:
            return rec.result or {}, False
        if rec is not None:  # crashed between intent and completion: ask the world
            found = reconcile(rec)
            if found is not None:
                self.complete(session_id, seq, found)
                return found, False
        else:
            self.intent(session_id, seq, digest, world_digest() if world_digest else None)
        result = apply()
        self.complete(session_id, seq, result)
        return result, True
