"""The episodic buffer: every remembered item of a session, searchable by similarity.

Vectors live in a FAISS index chosen by size: exact ``IndexFlatIP`` (inner product on
L2-normalised vectors = cosine) while the buffer holds fewer than ``hnsw_threshold`` live
items, ``IndexHNSWFlat`` once it crosses it (the whole index is rebuilt from the stored
vectors at that moment, so nothing is re-embedded).

Deletion is by tombstone: FAISS HNSW cannot remove vectors, so a deleted item's slot stays
in the index, searches over-fetch by the number of tombstones and filter them, and the
index is compacted (rebuilt from live vectors) once tombstones exceed a quarter of it.

Export format (decision): texts, metadata and the vectors themselves as base64 of
little-endian float32. Storing vectors makes a restore exact and independent of the
embedder loading in the resuming process (a wordllama that fell back to hashing would
otherwise give different neighbours silently); the price is ~1.4 KB of JSON per item.
The embedder's name and dim are recorded and checked on import.

HNSW parameters (defaults M=32, efConstruction=200, efSearch=64) were tuned on 100k
wordllama-embedded memory texts (``memory.bench``): recall@10 0.966 against exact search at
0.22 ms p50 per query, one thread. The trade-off: efConstruction is what buys recall on
such clustered, near-duplicate-heavy data (efC=40 needed efSearch=768 for ~0.95, at 10 ms);
its cost is build time (~60 s single-threaded for 100k, paid once, at migration and
compaction). Raising efSearch buys more recall per query (128: 0.972 at 0.43 ms; 256:
0.986 at 0.75 ms). Random Gaussian vectors are much harder and are reported separately.

Determinism: flat search is exact and ties go to the earlier slot. HNSW construction with
several OpenMP threads can depend on scheduling, so by default (``deterministic_build``)
the graph is built single-threaded; level sampling uses FAISS's fixed internal seed.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any

import faiss
import numpy as np

from harness.core.errors import ConfigError
from harness.runtime.memory.embedders import Embedder, l2_normalise

EXPORT_VERSION = 1


@dataclass(frozen=True)
class EpisodicItem:
    id: int
    text: str
    key: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    t: float = 0.0  # simulated minutes when it was remembered


@dataclass(frozen=True)
class Hit:
    id: int
    score: float  # cosine similarity in [-1, 1]


def encode_vectors(x: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(x, dtype="<f4").tobytes()).decode("ascii")


def decode_vectors(s: str, dim: int) -> np.ndarray:
    raw = base64.b64decode(s.encode("ascii"), validate=True)
    if len(raw) % (4 * dim):
        raise ValueError(
            f"vector payload of {len(raw)} bytes is not a whole number of {dim}-d float32 rows"
        )
    return np.frombuffer(raw, dtype="<f4").reshape(-1, dim).astype(np.float32)


class EpisodicBuffer:
    """Similarity search over remembered items (see the module docstring for guarantees)."""

    def __init__(
        self,
        dim: int,
        embedder: Embedder | None = None,
        *,
        hnsw_threshold: int = 20_000,
        hnsw_m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 64,
        deterministic_build: bool = True,
    ):
        for name, v in [
            ("hnsw_threshold", hnsw_threshold),
            ("hnsw_m", hnsw_m),
            ("ef_construction", ef_construction),
            ("ef_search", ef_search),
        ]:
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"episodic {name} must be a positive integer, got {v!r}")
        if embedder is not None and embedder.dim != dim:
            raise ConfigError(
                f"embedder {embedder.name} is {embedder.dim}-d but the buffer is {dim}-d"
            )
        self.dim = dim
        self.embedder = embedder
        self.hnsw_threshold = hnsw_threshold
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.deterministic_build = deterministic_build
        self._reset()

    def _reset(self) -> None:
        self._vecs = np.zeros((0, self.dim), dtype=np.float32)  # slot -> vector
        self._slot_id: list[int] = []  # slot -> item id
        self._slot_of: dict[int, int] = {}  # live item id -> slot
        self._items: dict[int, EpisodicItem] = {}
        self._dead: set[int] = set()  # tombstoned slots
        self.kind = "flat"
        self._index: faiss.Index = faiss.IndexFlatIP(self.dim)
        self.migrations = 0

    # -- size and lookup -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item_id: int) -> bool:
        return item_id in self._items

    def get(self, item_id: int) -> EpisodicItem:
        return self._items[item_id]

    def items(self) -> list[EpisodicItem]:
        return [self._items[i] for i in sorted(self._items)]

    # -- index building --------------------------------------------------------------------
    def _new_index(self, kind: str) -> faiss.Index:
        if kind == "flat":
            return faiss.IndexFlatIP(self.dim)
        index = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.ef_construction
        index.hnsw.efSearch = self.ef_search
        return index

    def _index_add(self, vecs: np.ndarray) -> None:
        if self.kind == "hnsw" and self.deterministic_build:
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                self._index.add(vecs)
            finally:
                faiss.omp_set_num_threads(threads)
        else:
            self._index.add(vecs)

    def _rebuild(self) -> None:
        """Rebuild from live vectors only (compaction), choosing flat or HNSW by size."""
        live = [s for s in range(len(self._slot_id)) if s not in self._dead]
        self._vecs = (
            np.ascontiguousarray(self._vecs[live]) if live else np.zeros((0, self.dim), np.float32)
        )
        self._slot_id = [self._slot_id[s] for s in live]
        self._slot_of = {item_id: s for s, item_id in enumerate(self._slot_id)}
        self._dead = set()
        self.kind = "hnsw" if len(self._slot_id) >= self.hnsw_threshold else "flat"
        self._index = self._new_index(self.kind)
        if len(self._vecs):
            self._index_add(self._vecs)

    # -- mutation --------------------------------------------------------------------------
    def add(
        self,
        items: list[EpisodicItem],
        vectors: np.ndarray | None = None,
        *,
        normalise: bool = True,
    ) -> None:
        """Add items; vectors are embedded from the texts unless given (rows L2-normalised;
        ``normalise=False`` stores them bit for bit, as a restore must)."""
        if not items:
            return
        ids = [it.id for it in items]
        if len(set(ids)) != len(ids) or any(i in self._items for i in ids):
            raise ValueError("episodic item ids must be unique (delete an id before reusing it)")
        if vectors is None:
            if self.embedder is None:
                raise ValueError("no embedder: pass vectors explicitly")
            vectors = self.embedder.embed([it.text for it in items])
        vecs = np.asarray(vectors, dtype=np.float32).reshape(len(items), self.dim)
        # normalising twice moves the last bits, so a restore would not search byte-identically
        vecs = l2_normalise(vecs) if normalise else np.ascontiguousarray(vecs)
        start = len(self._slot_id)
        self._vecs = np.concatenate([self._vecs, vecs]) if start else vecs.copy()
        for k, it in enumerate(items):
            self._items[it.id] = it
            self._slot_id.append(it.id)
            self._slot_of[it.id] = start + k
        if self.kind == "flat" and len(self._items) >= self.hnsw_threshold:
            self.migrations += 1
            self._rebuild()  # crossing the threshold: migrate everything into HNSW
        else:
            self._index_add(vecs)

    def delete(self, item_id: int) -> bool:
        """Tombstone an item; returns False if it was not there."""
        slot = self._slot_of.pop(item_id, None)
        if slot is None:
            return False
        del self._items[item_id]
        self._dead.add(slot)
        if len(self._dead) * 4 > len(self._slot_id):
            self._rebuild()
        return True

    def clear(self) -> None:
        self._reset()

    # -- search ----------------------------------------------------------------------------
    def search(self, query: str | np.ndarray, k: int = 10) -> list[Hit]:
        """The k most similar live items, best first (ties: earlier slot first)."""
        if k <= 0 or not self._items:
            return []
        if isinstance(query, str):
            if self.embedder is None:
                raise ValueError("no embedder: pass a query vector")
            q = self.embedder.embed([query])
        else:
            q = l2_normalise(np.asarray(query, dtype=np.float32).reshape(1, self.dim))
        fetch = min(k + len(self._dead), len(self._slot_id))
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = max(self.ef_search, fetch)
        scores, slots = self._index.search(q, fetch)
        hits = [
            Hit(self._slot_id[s], float(sc))
            for sc, s in zip(scores[0], slots[0], strict=True)
            if s >= 0 and s not in self._dead
        ]
        return hits[:k]

    # -- export ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        live = [s for s in range(len(self._slot_id)) if s not in self._dead]
        return {
            "version": EXPORT_VERSION,
            "dim": self.dim,
            "embedder": getattr(self.embedder, "name", None),
            "items": [asdict(self._items[self._slot_id[s]]) for s in live],
            "vectors": encode_vectors(self._vecs[live]) if live else "",
        }

    def load_dict(self, data: dict[str, Any]) -> None:
        """Replace the contents with an export (checked: version, dim, embedder, row count)."""
        if data.get("version") != EXPORT_VERSION:
            raise ValueError(
                f"episodic export version {data.get('version')!r} is not {EXPORT_VERSION}"
            )
        if data.get("dim") != self.dim:
            raise ValueError(f"episodic export is {data.get('dim')}-d, buffer is {self.dim}-d")
        mine = getattr(self.embedder, "name", None)
        if self.embedder is not None and data.get("embedder") not in (None, mine):
            raise ValueError(
                f"episodic export was embedded by {data.get('embedder')}, buffer uses {mine}"
            )
        items = [EpisodicItem(**it) for it in data.get("items", [])]
        vecs = (
            decode_vectors(data["vectors"], self.dim)
            if items
            else np.zeros((0, self.dim), np.float32)
        )
        if len(vecs) != len(items):
            raise ValueError(f"episodic export has {len(items)} items but {len(vecs)} vectors")
        self._reset()
        self.add(items, vecs, normalise=False)
