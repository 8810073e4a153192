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

from typing import Any, Literal

from pydantic import Field

from harness.core.clock import SimClock
from harness.runtime.memory.base import (
    MEMORY_LAYERS,
    MemoryOptions,
    PositiveInt,
    Recalled,
    check_snapshot,
    oversized,
)
from harness.runtime.memory.consolidation import LongTermMemory
from harness.runtime.memory.embedders import make_embedder
from harness.runtime.memory.episodic import EpisodicBuffer, EpisodicItem
from harness.runtime.memory.store import InMemoryStore, MemoryStore
from harness.runtime.memory.working import WorkingMemory


class TieredOptions(MemoryOptions):
    """``layers.memory.config`` of the tiered variant; the bounds are those the tiers check."""

    embedder: Literal["wordllama", "hashing"] = "wordllama"  # wordllama falls back to hashing if it cannot load
    embedder_fallback: bool = True
    namespace: str = "default"
    hnsw_threshold: PositiveInt = 20_000
    hnsw_m: PositiveInt = 32
    ef_construction: PositiveInt = 200  # tuned at 100k real embeddings: see memory/episodic.py
    ef_search: PositiveInt = 64
    token_budget: PositiveInt = 400
    working_max_items: PositiveInt = 200
    merge_threshold: float = Field(0.95, gt=0.0, le=1.0)
    protect_uses: PositiveInt = 3
    capacity: PositiveInt = 2000
    history_limit: PositiveInt = 20
    min_score: float = Field(0.0, ge=-1.0, le=1.0)  # recall drops hits below this cosine


@MEMORY_LAYERS.register("tiered", options=TieredOptions)
class TieredMemory:
    def __init__(self, options: TieredOptions | None = None, *, store: MemoryStore | None = None,
                 clock: SimClock | None = None):
        o = options or TieredOptions()
        self.max_item_chars = o.max_item_chars
        self.clock = clock or SimClock()
        self.embedder = make_embedder(o.embedder, fallback=o.embedder_fallback)
        self.requested_embedder = o.embedder
        self.episodic = EpisodicBuffer(
            self.embedder.dim,
            self.embedder,
            hnsw_threshold=o.hnsw_threshold,
            hnsw_m=o.hnsw_m,
            ef_construction=o.ef_construction,
            ef_search=o.ef_search,
        )
        self.working = WorkingMemory(token_budget=o.token_budget, max_items=o.working_max_items)
        self.long_term = LongTermMemory(
            store if store is not None else InMemoryStore(),
            self.embedder,
            namespace=o.namespace,
            merge_threshold=o.merge_threshold,
            protect_uses=o.protect_uses,
            capacity=o.capacity,
            history_limit=o.history_limit,
        )
        self.min_score = o.min_score
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
