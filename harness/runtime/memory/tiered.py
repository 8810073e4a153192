"""The agent-native memory variant: ``tiered`` = episodic + working + long-term.

* **Episodic** (``EpisodicBuffer``, FAISS): every item remembered this session, searchable
  by embedding similarity; exact below ``hnsw_threshold`` items, HNSW above.
* **Working** (``WorkingMemory``): the recent items under ``token_budget`` tokens, older
  ones compressed extractively toward the goal; ``context(goal)`` renders it.
* **Long-term** (``LongTermMemory`` over the ``MemoryStore``): facts consolidated as they
  are remembered (duplicates merged, contradictions resolved by recency with history,
  often-used facts protected from eviction); shared by every session and every instance
  given the same store and ``namespace``.

``remember(key, text, meta)`` writes to all three; ``meta={"long_term": False}`` keeps an
item out of long-term memory (an observation rather than a fact). ``recall`` searches
episodic and long-term by cosine similarity and returns one entry per subject: the
long-term (current, consolidated) value wins over a possibly superseded episodic copy.
``end_session()`` clears episodic and working memory and runs eviction; what survives a
session is exactly what long-term memory holds. ``observe`` keeps each session's briefing
in long-term memory without the agent asking: the one thing this layer does that the
human-oriented ones leave to the agent's diligence.

``remember`` refuses an item over ``max_item_chars`` (see ``memory.base``); a briefing is
the task's text, not the agent's, and is kept whatever its size (embedding a long text
costs time linear in it: ``embedders.LONG_TEXT_CHARS``).
"""

from __future__ import annotations

from typing import Any

from harness.core.clock import SimClock
from harness.core.errors import ConfigError
from harness.runtime.memory.base import (
    DEFAULT_MAX_ITEM_CHARS,
    Recalled,
    check_positive_int,
    check_snapshot,
    memory_variant,
    oversized,
    reject_unknown,
)
from harness.runtime.memory.consolidation import LongTermMemory
from harness.runtime.memory.embedders import make_embedder
from harness.runtime.memory.episodic import EpisodicBuffer, EpisodicItem
from harness.runtime.memory.store import MemoryStore
from harness.runtime.memory.working import WorkingMemory


@memory_variant("tiered")
class TieredMemory:
    def __init__(
        self,
        *,
        store: MemoryStore,
        clock: SimClock,
        embedder: str = "wordllama",  # or "hashing"; wordllama falls back to hashing if it cannot load
        embedder_fallback: bool = True,
        namespace: str = "default",
        hnsw_threshold: int = 20_000,
        hnsw_m: int = 32,
        ef_construction: int = 200,  # tuned at 100k real embeddings: see memory/episodic.py
        ef_search: int = 64,
        token_budget: int = 400,
        working_max_items: int = 200,
        merge_threshold: float = 0.95,
        protect_uses: int = 3,
        capacity: int = 2000,
        history_limit: int = 20,
        min_score: float = 0.0,  # recall drops hits below this cosine
        max_item_chars: int = DEFAULT_MAX_ITEM_CHARS,
        **unknown: Any,
    ):
        reject_unknown("tiered", unknown)
        self.max_item_chars = check_positive_int("tiered", "max_item_chars", max_item_chars)
        if not isinstance(min_score, int | float) or not -1.0 <= min_score <= 1.0:
            raise ConfigError(
                f"tiered memory option min_score must be in [-1, 1], got {min_score!r}"
            )
        self.clock = clock
        self.embedder = make_embedder(embedder, fallback=embedder_fallback)
        self.requested_embedder = embedder
        self.episodic = EpisodicBuffer(
            self.embedder.dim,
            self.embedder,
            hnsw_threshold=hnsw_threshold,
            hnsw_m=hnsw_m,
            ef_construction=ef_construction,
            ef_search=ef_search,
        )
        self.working = WorkingMemory(token_budget=token_budget, max_items=working_max_items)
        self.long_term = LongTermMemory(
            store,
            self.embedder,
            namespace=namespace,
            merge_threshold=merge_threshold,
            protect_uses=protect_uses,
            capacity=capacity,
            history_limit=history_limit,
        )
        self.min_score = float(min_score)
        self.next_id = 0
        self.outcomes: dict[str, int] = {}
        self.recalls = 0

    def remember(self, key: str, text: str, meta: dict[str, Any] | None = None) -> str | None:
        refused = oversized(key, text, meta, self.max_item_chars)
        if refused:
            return refused
        self._keep(key, text, meta)
        return None

    def _keep(self, key: str, text: str, meta: dict[str, Any] | None) -> None:
        meta = dict(meta or {})
        t = self.clock.now()
        self.episodic.add([EpisodicItem(self.next_id, text, key, meta, t)])
        self.next_id += 1
        self.working.add(key, text, t)
        if meta.get("long_term", True):
            outcome = self.long_term.put(key, text, meta, t)
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def recall(self, query: str, k: int = 5, *, record: bool = True) -> list[Recalled]:
        if k <= 0:
            return []
        self.recalls += record
        qv = self.embedder.embed([query])[0]
        best: dict[str, Recalled] = {}
        for key, score, rec in self.long_term.search(qv, k):
            best[key] = Recalled(key, rec["text"], score, "long_term", rec["meta"])
        for hit in self.episodic.search(qv, k):
            it = self.episodic.get(hit.id)
            subject = self.long_term.resolve(it.key)
            if subject in best:
                # the consolidated value is current; keep its text but credit the better match
                if hit.score > best[subject].score:
                    r = best[subject]
                    best[subject] = Recalled(r.key, r.text, hit.score, r.source, r.meta)
                continue
            if it.meta.get("long_term", True) and self.long_term.get(it.key) is not None:
                continue  # a fact whose current value ranked below k in long-term: not this stale copy
            best[subject] = Recalled(it.key, it.text, hit.score, "episodic", it.meta)
        ranked = sorted(best.values(), key=lambda r: (-r.score, r.key))
        out = [r for r in ranked if r.score >= self.min_score][:k]
        if record:
            self.long_term.touch([r.key for r in out if r.source == "long_term"])
        return out

    def context(self, goal: str = "") -> str:
        return self.working.view(goal).render()

    def observe(self, key: str, text: str) -> None:
        """Agent-native memory keeps the briefing itself: into long-term memory, where it
        outlives the session whether or not the agent wrote anything down."""
        self._keep(key, text, {"source": "briefing"})

    def end_session(self) -> None:
        self.episodic.clear()
        self.working.clear()
        self.long_term.evict()

    def snapshot(self) -> dict[str, Any]:
        return {
            "variant": "tiered",
            "embedder": self.embedder.name,
            "episodic": self.episodic.to_dict(),
            "working": self.working.to_dict(),
            "long_term": self.long_term.export(),
            "next_id": self.next_id,
            "outcomes": dict(sorted(self.outcomes.items())),
            "recalls": self.recalls,
        }

    def restore(self, state: dict[str, Any]) -> None:
        check_snapshot(state, "tiered")
        if state["embedder"] != self.embedder.name:
            raise ValueError(
                f"snapshot was embedded by {state['embedder']}, this layer uses {self.embedder.name}"
            )
        self.episodic.load_dict(state["episodic"])
        self.working.load_dict(state["working"])
        self.long_term.merge_in(state["long_term"])
        self.next_id = int(state["next_id"])
        self.outcomes = dict(state["outcomes"])
        self.recalls = int(state["recalls"])

    def stats(self) -> dict[str, Any]:
        return {
            "variant": "tiered",
            "embedder": self.embedder.name,
            "embedder_fallback": self.embedder.name != self.requested_embedder,
            "episodic_items": len(self.episodic),
            "episodic_index": self.episodic.kind,
            "working_items": len(self.working.items),
            "working_compression_ratio": self.working.last_ratio,
            "long_term_facts": len(self.long_term.all()),
            "long_term_evicted": self.long_term.evicted,
            "consolidation": dict(sorted(self.outcomes.items())),
            "recalls": self.recalls,
        }
