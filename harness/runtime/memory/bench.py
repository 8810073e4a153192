"""``bench_memory()``: retrieval latency and recall, embedding throughput.

Retrieval is measured on realistic memories: distinct texts generated deterministically
from templates x vocabularies (conventions, file maps, definitions, incident notes),
embedded with the default embedder, queried with paraphrase-like questions. The embedded
matrix is cached under the temp dir keyed by a hash of the texts and the embedder (100k
texts take ~11 s to embed). Random Gaussian vectors (no low intrinsic dimension: the
adversarial case for any graph index) are kept as a labelled stress case.

At each size the ``EpisodicBuffer`` as configured (flat below its threshold, HNSW above)
is timed query by query against an exact ``IndexFlatIP`` built in the same call, which is
also the ground truth for recall@10. Recall is tie-aware: a hit whose exact score equals
the 10th exact score counts (template texts that differ only in word order embed to the
same bag-of-tokens vector, and which of two equal vectors exact search returns is
arbitrary). Latency is measured with one FAISS thread (``omp_set_num_threads(1)``): a
single-query search gains nothing from threads and their scheduling adds noise. All
times are wall-clock (``wall_*``) and affect no result.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from harness.core.rng import RngStreams, stream
from harness.runtime.memory.embedders import (
    Embedder,
    HashingEmbedder,
    WordLlamaEmbedder,
    make_embedder,
)
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


# -- realistic memory corpus -------------------------------------------------------------
SERVICES = ["billing", "checkout", "auth", "search", "ingest", "payments", "gateway", "scheduler", "notifier", "catalog",
            "inventory", "reports", "profile", "ledger", "export", "metrics", "mailer", "uploader", "cache", "router"]
REGIONS = ["eu-west", "us-east", "us-west", "ap-south", "eu-north", "sa-east", "ap-east", "ca-central"]
SYMPTOMS = ["p99 latency spiked", "error rate climbed", "memory grew without bound", "disk filled up",
            "requests timed out", "the queue backed up", "CPU pinned at 100%", "connections were refused",
            "replicas fell behind", "health checks flapped", "TLS handshakes failed", "cron jobs overlapped"]
CAUSES = ["a config push", "a schema migration", "a dependency upgrade", "a cache eviction storm",
          "a certificate rotation", "a feature flag flip", "a bad deploy", "a DNS change", "a noisy neighbour",
          "a leaked file handle", "a retry loop", "an expired token"]
FIXES = ["rolling back the release", "raising the pool size", "restarting the workers", "pinning the old version",
         "adding an index", "draining the node", "clearing the cache", "rotating the key", "reverting the flag",
         "increasing the timeout", "sharding the table", "throttling the client"]
THINGS = ["function names", "test files", "log messages", "config keys", "branch names", "commit messages",
          "error codes", "metric names", "database columns", "API routes", "feature flags", "docstrings"]
STYLES = ["snake_case", "camelCase", "kebab-case", "a ticket prefix", "past tense", "imperative mood",
          "a service prefix", "UPPER_CASE", "a version suffix", "British spelling", "no abbreviations", "a team tag"]
MODULES = ["parser", "client", "models", "views", "utils", "handlers", "schema", "worker", "settings", "storage",
           "auth", "routes", "tasks", "cli", "config", "validators"]
VERBS = ["load", "parse", "render", "validate", "compute", "fetch", "sync", "merge", "flush", "resolve", "encode",
         "retry", "schedule", "export", "normalize", "index"]
NOUNS = ["invoice", "order", "user", "session", "token", "report", "batch", "record", "payload", "schema",
         "ticket", "metric", "account", "refund", "shipment", "quota"]
TERMS = ["SLO", "error budget", "canary", "blast radius", "runbook", "on-call rotation", "hot path", "backfill",
         "dead letter queue", "circuit breaker", "golden signal", "toil", "idempotency key", "feature freeze"]
MEANINGS = ["the target we promise users", "what we may still spend on failures", "a small first rollout",
            "how much breaks if this fails", "the step by step recovery guide", "who answers pages this week",
            "code run on every request", "recomputing old rows", "where failed messages wait",
            "the switch that stops calls to a failing service", "latency, traffic, errors, saturation",
            "manual repetitive work", "a key that makes a retry safe", "no merges before the release"]
TEAMS = ["platform", "data", "growth", "infra", "security", "mobile", "web", "sre", "ml", "finance"]


def _pick(rng: np.random.Generator, xs: list[str]) -> str:
    return xs[int(rng.integers(len(xs)))]


def _memory(rng: np.random.Generator, i: int) -> str:
    kind = i % 4
    svc, team = _pick(rng, SERVICES), _pick(rng, TEAMS)
    if kind == 0:
        return (f"Convention in the {svc} repo owned by {team}: {_pick(rng, THINGS)} use {_pick(rng, STYLES)}, "
                f"and {_pick(rng, THINGS)} use {_pick(rng, STYLES)}.")
    if kind == 1:
        fn = f"{_pick(rng, VERBS)}_{_pick(rng, NOUNS)}"
        return (f"File map: {fn} lives in {svc}/{_pick(rng, MODULES)}.py and is called from "
                f"{svc}/{_pick(rng, MODULES)}.py by the {team} team.")
    if kind == 2:
        return (f"Definition from the {team} team wiki for {svc}: {_pick(rng, TERMS)} means {_pick(rng, MEANINGS)}; "
                f"see also {_pick(rng, TERMS)}.")
    return (f"Incident in {svc} ({_pick(rng, REGIONS)}): {_pick(rng, SYMPTOMS)} after {_pick(rng, CAUSES)}; "
            f"fixed by {_pick(rng, FIXES)}; {team} owns the follow-up.")


def memory_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct memory texts, the same for a given (n, seed) in any process."""
    rng = stream(seed, "bench", 0, "memory.bench.corpus")
    seen, out = set(), []
    i = 0
    while len(out) < n:
        t = _memory(rng, i)
        i += 1
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def _query(rng: np.random.Generator, i: int) -> str:
    kind = i % 4
    svc, team = _pick(rng, SERVICES), _pick(rng, TEAMS)
    if kind == 0:
        return f"how should {_pick(rng, THINGS)} be named in {svc}? {team} said {_pick(rng, STYLES)}"
    if kind == 1:
        return f"where is {_pick(rng, VERBS)}_{_pick(rng, NOUNS)} defined in {svc}, which module"
    if kind == 2:
        return f"what does {_pick(rng, TERMS)} mean for the {team} team"
    return f"{svc} in {_pick(rng, REGIONS)} had {_pick(rng, SYMPTOMS)}, what fixed it last time"


def query_texts(n: int, seed: int = 0) -> list[str]:
    """Paraphrase-like questions over the same vocabularies, worded unlike any memory."""
    rng = stream(seed, "bench", 0, "memory.bench.queries")
    return [_query(rng, i) for i in range(n)]


def embed_cached(embedder: Embedder, texts: list[str], cache_dir: str | None = None) -> np.ndarray:
    """Embed in batches, caching the matrix under the temp dir keyed by texts + embedder."""
    h = hashlib.sha256(f"{embedder.name}/{embedder.dim}".encode())
    for t in texts:
        h.update(t.encode() + b"\0")
    path = Path(cache_dir or tempfile.gettempdir()) / f"harness-membench-{h.hexdigest()[:24]}.npy"
    if path.exists():
        x = np.load(path)
        if x.shape == (len(texts), embedder.dim):
            return x
    x = np.concatenate([embedder.embed(texts[i : i + 10_000]) for i in range(0, len(texts), 10_000)])
    np.save(path, x)
    return x


def tie_aware_recall(found: list[int], exact_ids: np.ndarray, kth_score: float, scores: np.ndarray,
                     k: int, eps: float = 1e-5) -> float:
    """Share of the k results that are exact top-k or tie with the k-th exact score."""
    ok = set(exact_ids.tolist())
    return sum(1 for i in found[:k] if i in ok or float(scores[i]) >= kth_score - eps) / k


def bench_retrieval(
    n: int,
    *,
    vectors: np.ndarray | None = None,
    queries: np.ndarray | None = None,
    dim: int = 256,
    n_queries: int = 200,
    k: int = 10,
    seed: int = 0,
    **buffer_config: Any,
) -> dict[str, Any]:
    """One size; random unit vectors unless ``vectors``/``queries`` are given."""
    if vectors is None or queries is None:
        rng = RngStreams(seed, "bench", 0).get(f"memory.bench.vectors.{n}")
        vectors, queries = _unit(rng, n, dim), _unit(rng, n_queries, dim)
    x, dim = vectors[:n], vectors.shape[1]
    started = time.perf_counter()
    buf = EpisodicBuffer(dim, **buffer_config)
    buf.add([EpisodicItem(i, "") for i in range(n)], x, normalise=False)
    wall_build_s = time.perf_counter() - started
    ref = faiss.IndexFlatIP(dim)
    ref.add(x)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        lat, ref_lat, recalls = [], [], []
        for q in queries:
            t0 = time.perf_counter()
            hits = buf.search(q, k)
            t1 = time.perf_counter()
            d, exact = ref.search(q.reshape(1, -1), k)
            t2 = time.perf_counter()
            lat.append((t1 - t0) * 1000)
            ref_lat.append((t2 - t1) * 1000)
            recalls.append(tie_aware_recall([h.id for h in hits], exact[0], float(d[0, -1]), x @ q, k))
    finally:
        faiss.omp_set_num_threads(threads)
    return {
        "n": n,
        "dim": dim,
        "index": buf.kind,
        "params": {"hnsw_m": buf.hnsw_m, "ef_construction": buf.ef_construction, "ef_search": buf.ef_search},
        "queries": len(queries),
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


TARGETS = {"p50_ms": 1.0, "recall_at_10": 0.95}  # at 100k memories (the issue)


def bench_real(sizes: tuple[int, ...], n_queries: int, **buffer_config: Any) -> list[dict[str, Any]]:
    embedder = make_embedder("wordllama")
    texts = memory_texts(max(sizes))
    t0 = time.perf_counter()
    x = embed_cached(embedder, texts)
    wall_embed_s = time.perf_counter() - t0  # ~0 when the cache hit
    q = embedder.embed(query_texts(n_queries))
    return [{**bench_retrieval(n, vectors=x, queries=q, **buffer_config), "embedder": embedder.name,
             "wall_embed_or_cache_s": wall_embed_s, "target": TARGETS} for n in sizes]


def bench_memory(
    sizes: tuple[int, ...] = (10_000, 100_000),
    n_queries: int = 200,
    stress_size: int = 30_000,
    **buffer_config: Any,
) -> dict[str, Any]:
    """Everything ``harness bench runtime`` prints for the memory layer.

    The random-vector stress case runs at ``stress_size`` (above the HNSW threshold) rather
    than 100k: building a 100k graph single-threaded costs about a minute by itself."""
    # The bench builds with all threads (construction order then may vary run to run; the
    # recall it reports is the tuned parameters', not one graph's).
    cfg = {"deterministic_build": False, **buffer_config}
    return {
        "retrieval_real_text": bench_real(sizes, n_queries, **cfg),
        "retrieval_random_stress": bench_retrieval(stress_size, n_queries=n_queries, **cfg),
        "embedding": bench_embedders(),
        "faiss_version": faiss.__version__,
        "omp_threads": faiss.omp_get_max_threads(),
    }


if __name__ == "__main__":
    import json
    import sys

    sizes = tuple(int(s) for s in sys.argv[1:]) or (10_000, 100_000)
    print(json.dumps(bench_memory(sizes), indent=2))
