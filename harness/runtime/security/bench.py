"""``bench_security()``: authorization latency per call and policy compile time.

Wall-clock only (performance, never results). Each measurement reports median, p95 and
p99 in microseconds; ``ambient`` (no check at all) is measured in the same call as the
reference floor. Capability sets of 100 and 10,000 capabilities are measured twice:
``indexed`` patterns whose first path segment is literal (the common case, served by the
head index) and ``unindexed`` patterns that start with a wildcard (every one must be
tried: the worst case).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from harness.core.rng import RngStreams
from harness.runtime.security.ambient import AmbientSecurity
from harness.runtime.security.capabilities import CapabilitySet
from harness.runtime.security.policy import compile_policy


def _stats(samples_s: list[float]) -> dict[str, float]:
    us = np.asarray(samples_s) * 1e6
    return {"median_us": float(np.median(us)), "p95_us": float(np.percentile(us, 95)),
            "p99_us": float(np.percentile(us, 99)), "n": len(us)}


def _capset(n: int, indexed: bool) -> CapabilitySet:
    caps = CapabilitySet()
    for i in range(n):
        kind = i % 3
        if kind == 0:
            caps.grant(f"file:dir{i}/**" if indexed else f"file:*/dir{i}/**", ["read", "write"])
        elif kind == 1:
            caps.grant(f"service:env{i}/*" if indexed else f"service:*/svc{i}", ["restart"])
        else:
            caps.grant(f"table:t{i}" if indexed else f"table:t{i}*", ["query"])
    return caps


def _requests(n: int, indexed: bool, count: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    out = []
    for i in rng.integers(0, n, size=count):
        i = int(i)
        miss = rng.random() < 0.3  # some requests nothing grants
        kind = i % 3
        if kind == 0:
            path = f"dir{i}/a/b.py" if indexed else f"x/dir{i}/a.py"
            out.append(("file:" + ("nope/" if miss else "") + path, "write"))
        elif kind == 1:
            out.append((f"service:env{i}/api" if indexed else f"service:prod/svc{i}", "deploy" if miss else "restart"))
        else:
            out.append((f"table:t{i}", "delete" if miss else "query"))
    return out


def _time_calls(fn, calls: list[tuple[str, str]]) -> list[float]:
    samples = []
    for resource, action in calls:
        t0 = time.perf_counter()
        fn(resource, action)
        samples.append(time.perf_counter() - t0)
    return samples


def bench_security(calls: int = 2000, seed: int = 0) -> dict[str, Any]:
    rng = RngStreams(seed, "bench", 0).get("bench.security")
    out: dict[str, Any] = {}
    ambient = AmbientSecurity()
    reqs = _requests(100, True, calls, rng)
    out["ambient"] = _stats(_time_calls(lambda r, a: ambient.authorize(a, r, 0.0), reqs))
    for n in (100, 10_000):
        for indexed in (True, False):
            caps = _capset(n, indexed)
            reqs = _requests(n, indexed, calls if indexed else max(200, calls // 10), rng)
            key = f"capabilities_{n}_{'indexed' if indexed else 'unindexed'}"
            out[key] = _stats(_time_calls(lambda r, a, c=caps: c.authorize(r, a, 0.0), reqs))
    for sentences in (10, 1000):
        policy = [f"may read files matching *.py under src/m{i}/ for {i + 1} minutes" if i % 2 else
                  f"may not restart services in env{i}" for i in range(sentences)]
        samples = []
        for _ in range(5 if sentences > 100 else 50):
            t0 = time.perf_counter()
            compile_policy(policy)
            samples.append(time.perf_counter() - t0)
        out[f"policy_compile_{sentences}_sentences"] = _stats(samples)
    caps = CapabilitySet(max_depth=100)
    root = caps.grant("file:src/**", ["read", "write"])
    samples = []
    for i in range(200):
        t0 = time.perf_counter()
        caps.derive(root.id, f"file:src/m{i}/**/*.py", ["read"])
        samples.append(time.perf_counter() - t0)
    out["derive_with_containment"] = _stats(samples)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(bench_security(), indent=2))
