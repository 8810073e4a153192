"""Long-term consolidation: facts that outlive sessions, shared through a ``MemoryStore``.

A fact is keyed by its subject (the ``key`` the agent remembers it under). The rules:

* **Contradictions resolve by recency, keeping history.** A new text for an existing key
  replaces the current value when it is at least as new (simulated time) as the current
  one; the replaced value goes to ``history`` with reason ``superseded``. A value older
  than the current one (a late writer) goes to history as ``stale`` and does not win.
* **Near-duplicates merge.** A new key whose text has cosine >= ``merge_threshold`` with
  an existing fact becomes an alias of it; its text is kept in history as ``merged``, so
  a wrong merge loses nothing.
* **Often-used facts are protected.** Every recall that returns a fact counts a use.
  When the namespace holds more than ``capacity`` facts, the least used (then the least
  recently updated) unprotected ones are evicted; facts with ``uses >= protect_uses`` are
  never evicted (so the namespace may exceed capacity when everything is protected).

Every record carries a revision number ``rev`` that each change increments; a snapshot
restore writes a record back only where the store's revision is older, so restoring an
old checkpoint never clobbers what another instance learned since.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.core.errors import ConfigError
from harness.runtime.memory.embedders import Embedder
from harness.runtime.memory.store import MemoryStore


def _same(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


class LongTermMemory:
    def __init__(
        self,
        store: MemoryStore,
        embedder: Embedder,
        *,
        namespace: str = "default",
        merge_threshold: float = 0.95,
        protect_uses: int = 3,
        capacity: int = 2000,
        history_limit: int = 20,
    ):
        if not 0.0 < merge_threshold <= 1.0:
            raise ConfigError(f"merge_threshold must be in (0, 1], got {merge_threshold!r}")
        for name, v in [
            ("protect_uses", protect_uses),
            ("capacity", capacity),
            ("history_limit", history_limit),
        ]:
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"long-term {name} must be a positive integer, got {v!r}")
        self.store = store
        self.embedder = embedder
        self.ns = f"lt:{namespace}"
        self.alias_ns = f"lt-alias:{namespace}"
        self.merge_threshold = merge_threshold
        self.protect_uses = protect_uses
        self.capacity = capacity
        self.history_limit = history_limit
        self._cache: dict[str, tuple[str, np.ndarray]] = {}  # key -> (text, vector)
        self.evicted = 0

    # -- reading ---------------------------------------------------------------------------
    def resolve(self, key: str) -> str:
        alias = self.store.get(self.alias_ns, key)
        return alias["to"] if alias else key

    def get(self, key: str) -> dict[str, Any] | None:
        return self.store.get(self.ns, self.resolve(key))

    def all(self) -> dict[str, dict[str, Any]]:
        return self.store.all(self.ns)

    def _vectors(self, records: dict[str, dict[str, Any]]) -> tuple[list[str], np.ndarray]:
        """Vectors of the current texts, re-embedding only what changed since last time
        (another instance may have written to the shared store in between)."""
        stale = [
            k for k, r in records.items() if k not in self._cache or self._cache[k][0] != r["text"]
        ]
        if stale:
            vecs = self.embedder.embed([records[k]["text"] for k in stale])
            for k, v in zip(stale, vecs, strict=True):
                self._cache[k] = (records[k]["text"], v)
        for k in set(self._cache) - set(records):
            del self._cache[k]
        keys = sorted(records)
        mat = (
            np.stack([self._cache[k][1] for k in keys])
            if keys
            else np.zeros((0, self.embedder.dim), np.float32)
        )
        return keys, mat

    def search(self, query_vec: np.ndarray, k: int) -> list[tuple[str, float, dict[str, Any]]]:
        """Exact cosine search over the facts (the consolidated set is small)."""
        records = self.all()
        keys, mat = self._vectors(records)
        if not keys or k <= 0:
            return []
        scores = mat @ np.asarray(query_vec, np.float32).reshape(-1)
        order = sorted(range(len(keys)), key=lambda i: (-float(scores[i]), keys[i]))[:k]
        return [(keys[i], float(scores[i]), records[keys[i]]) for i in order]

    # -- writing ---------------------------------------------------------------------------
    def _push_history(self, rec: dict[str, Any], entry: dict[str, Any]) -> None:
        rec["history"].append(entry)
        del rec["history"][: max(0, len(rec["history"]) - self.history_limit)]

    def put(self, key: str, text: str, meta: dict[str, Any] | None = None, t: float = 0.0) -> str:
        """Consolidate one fact; returns what happened: added, unchanged, updated, stale, merged."""
        meta = dict(meta or {})
        canonical = self.resolve(key)
        rec = self.store.get(self.ns, canonical)
        if rec is not None:
            if _same(rec["text"], text):
                # a reaffirmation makes the value newer: a late, older writer must not win over it
                if t > rec["updated"]:
                    rec["updated"] = t
                    rec["rev"] += 1
                    self.store.put(self.ns, canonical, rec)
                return "unchanged"
            if t >= rec["updated"]:
                self._push_history(
                    rec,
                    {
                        "text": rec["text"],
                        "t": rec["updated"],
                        "meta": rec["meta"],
                        "reason": "superseded",
                    },
                )
                rec.update(text=text, meta=meta, updated=t)
                outcome = "updated"
            else:
                self._push_history(rec, {"text": text, "t": t, "meta": meta, "reason": "stale"})
                outcome = "stale"
            rec["rev"] += 1
            self.store.put(self.ns, canonical, rec)
            return outcome
        records = self.all()
        keys, mat = self._vectors(records)
        if keys:
            scores = mat @ self.embedder.embed([text])[0]
            best = int(np.argmax(scores))
            if float(scores[best]) >= self.merge_threshold:
                target = records[keys[best]]
                self._push_history(
                    target, {"text": text, "t": t, "meta": meta, "reason": "merged", "key": key}
                )
                target["aliases"] = sorted(set(target["aliases"]) | {key})
                target["rev"] += 1
                self.store.put(self.ns, keys[best], target)
                self.store.put(self.alias_ns, key, {"to": keys[best]})
                return "merged"
        self.store.put(
            self.ns,
            key,
            {
                "key": key,
                "text": text,
                "meta": meta,
                "created": t,
                "updated": t,
                "rev": 1,
                "uses": 0,
                "history": [],
                "aliases": [],
            },
        )
        self.evict()
        return "added"

    def touch(self, keys: list[str]) -> None:
        """Count one use of each fact (a recall returned it)."""
        for key in keys:
            rec = self.store.get(self.ns, key)
            if rec is not None:
                rec["uses"] += 1
                rec["rev"] += 1
                self.store.put(self.ns, key, rec)

    def evict(self) -> list[str]:
        records = self.all()
        excess = len(records) - self.capacity
        if excess <= 0:
            return []
        unprotected = [r for r in records.values() if r["uses"] < self.protect_uses]
        victims = sorted(unprotected, key=lambda r: (r["uses"], r["updated"], r["key"]))[:excess]
        for r in victims:
            self.store.delete(self.ns, r["key"])
            for alias in r["aliases"]:
                self.store.delete(self.alias_ns, alias)
        self.evicted += len(victims)
        return [r["key"] for r in victims]

    # -- snapshot --------------------------------------------------------------------------
    def export(self) -> dict[str, Any]:
        return {"facts": self.all(), "aliases": self.store.all(self.alias_ns)}

    def merge_in(self, data: dict[str, Any]) -> None:
        """Write back records from an export where the store's copy is missing or older."""
        for key, rec in data.get("facts", {}).items():
            cur = self.store.get(self.ns, key)
            if cur is None or cur["rev"] < rec["rev"]:
                self.store.put(self.ns, key, rec)
        for alias, target in data.get("aliases", {}).items():
            if self.store.get(self.alias_ns, alias) is None:
                self.store.put(self.alias_ns, alias, target)
