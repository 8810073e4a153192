"""``bench_memory()``: retrieval latency and recall, embedding throughput.

Retrieval: random L2-normalised 256-d vectors (the worst case for HNSW: no cluster
structure), drawn from a named stream. At each size the ``EpisodicBuffer`` as configured
(flat below its threshold, HNSW above) is timed query by query against an exact
``IndexFlatIP`` built in the same call, which is also the ground truth for recall@10.
All times are wall-clock (``wall_*``) and affect no result.
"""

from __future__ import annotations

import time
from typing import Any

import faiss
import numpy as np

from harness.core.rng import RngStreams
from harness.runtime.memory.embedders import HashingEmbedder, WordLlamaEmbedder
from harness.runtime.memory.episodic import EpisodicBuffer, EpisodicItem


def _pcts(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {
        "p50_ms": float(np.percentile(a, 50)),
        "p95_ms": float(np.percentile(a, 95)),
        "p99_ms": float(np.percentile(a, 99)),
        "mean_ms": float(a.mean()),
    }


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def bench_retrieval(
    n: int,
    *,
    dim: int = 256,
    n_queries: int = 200,
    k: int = 10,
    seed: int = 0,
    **buffer_config: Any,
) -> dict[str, Any]:
    rng = RngStreams(seed, "bench", 0).get(f"memory.bench.vectors.{n}")
    x, queries = _unit(rng, n, dim), _unit(rng, n_queries, dim)
    started = time.perf_counter()
    buf = EpisodicBuffer(dim, **buffer_config)
    buf.add([EpisodicItem(i, "") for i in range(n)], x)
    wall_build_s = time.perf_counter() - started
    ref = faiss.IndexFlatIP(dim)
    ref.add(x)
    lat, ref_lat, recalls = [], [], []
    for q in queries:
        t0 = time.perf_counter()
        hits = buf.search(q, k)
        t1 = time.perf_counter()
        _, exact = ref.search(q.reshape(1, -1), k)
        t2 = time.perf_counter()
        lat.append((t1 - t0) * 1000)
        ref_lat.append((t2 - t1) * 1000)
        recalls.append(len({h.id for h in hits} & set(exact[0].tolist())) / k)
    return {
        "n": n,
        "dim": dim,
        "index": buf.kind,
        "queries": n_queries,
        "wall_build_s": wall_build_s,
        f"recall_at_{k}": float(np.mean(recalls)),
        "wall_search": _pcts(lat),
        "reference_exact_flat": {"wall_search": _pcts(ref_lat)},
    }


def bench_embedders(n_texts: int = 2000, batch: int = 64) -> dict[str, Any]:
    vocab = [
        "service",
        "deploy",
        "cache",
        "database",
        "latency",
        "restart",
        "config",
        "rename",
        "function",
        "test",
        "branch",
        "release",
        "region",
        "replica",
        "password",
        "budget",
        "error",
        "metric",
        "log",
        "user",
        "request",
    ]
    rng = RngStreams(0, "bench", 0).get("memory.bench.texts")
    texts = [
        " ".join(vocab[i] for i in rng.integers(0, len(vocab), size=int(rng.integers(5, 25))))
        for _ in range(n_texts)
    ]
    out: dict[str, Any] = {"texts": n_texts, "batch": batch}
    for emb in (WordLlamaEmbedder(eager=True), HashingEmbedder()):
        emb.embed(texts[:batch])  # warm-up (hash caches, model load)
        t0 = time.perf_counter()
        per_batch = []
        for i in range(0, n_texts, batch):
            b0 = time.perf_counter()
            emb.embed(texts[i : i + batch])
            per_batch.append((time.perf_counter() - b0) * 1000)
        wall = time.perf_counter() - t0
        out[emb.name] = {
            "texts_per_s": n_texts / wall,
            "wall_s": wall,
            "wall_batch": _pcts(per_batch),
        }
    return out


def bench_memory(
    sizes: tuple[int, ...] = (10_000, 100_000), n_queries: int = 200, **buffer_config: Any
) -> dict[str, Any]:
    """Everything ``harness bench runtime`` prints for the memory layer."""
    return {
        "retrieval": [bench_retrieval(n, n_queries=n_queries, **buffer_config) for n in sizes],
        "embedding": bench_embedders(),
        "faiss_version": faiss.__version__,
        "omp_threads": faiss.omp_get_max_threads(),
    }


if __name__ == "__main__":
    import json
    import sys

    sizes = tuple(int(s) for s in sys.argv[1:]) or (10_000, 100_000)
    print(json.dumps(bench_memory(sizes), indent=2))
