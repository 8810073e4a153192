"""``bench_observability()``: record overhead and query latency, with references measured in
the same call. Wall time here measures performance only and never affects a result.

- record: per-action cost of ``causal`` and ``textlog`` ``record``, against appending a
  prebuilt tuple to a list (the cheapest possible log) as the floor;
- queries on an N-action DAG (10k by default): ``last_change`` (indexed) against a
  reverse linear scan over the nodes, ``ancestors`` (graph walk) against a naive fixed
  point that rescans every node until nothing is added (what a flat log forces).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from harness.runtime.observability.base import ActionEvent
from harness.runtime.observability.causal import CausalDag, CausalLayer
from harness.runtime.observability.textlog import TextLogLayer


def _stats(samples_s: list[float]) -> dict[str, float]:
    a = np.asarray(samples_s) * 1e6
    return {"p50_us": round(float(np.percentile(a, 50)), 3), "p95_us": round(float(np.percentile(a, 95)), 3),
            "p99_us": round(float(np.percentile(a, 99)), 3), "n": len(a)}


def _time_each(fn: Callable[[int], Any], n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t)
    return out


def synthetic_events(n: int, *, files: int = 200, seed: int = 0) -> list[ActionEvent]:
    """A reproducible workload: reads and edits over ``files`` files, each edit depending on
    the latest read of its file; two lines of work; one call in ten fails."""
    rng = np.random.default_rng(seed)
    last_read: dict[str, int] = {}
    events = []
    for i in range(n):
        f = f"file:src/m{int(rng.integers(files))}.py"
        edit = bool(rng.random() < 0.4)
        deps = (last_read[f],) if edit and f in last_read else ()
        events.append(ActionEvent(tool="edit" if edit else "read", args={"path": f, "i": i},
                                  ok=bool(rng.random() >= 0.1), reads=() if edit else (f,),
                                  writes=(f,) if edit else (), deps=deps, line=("a", "b")[i % 2],
                                  sim_minutes=i * 0.1, minutes=0.1))
        if not edit:
            last_read[f] = i
    return events


def _scan_last_change(dag: CausalDag, resource: str) -> int | None:
    for n in reversed(dag.nodes):
        if resource in n.writes:
            return n.seq
    return None


def _scan_ancestors(dag: CausalDag, seq: int) -> list[int]:
    """One pass over every node, newest first: exact because references only point back."""
    found: set[int] = {seq}
    for n in reversed(dag.nodes):
        if n.seq in found:
            found.update(n.deps)
            if n.parent is not None:
                found.add(n.parent)
    found.discard(seq)
    return sorted(found)


def bench_observability(n_actions: int = 10_000, n_record: int = 5_000, n_queries: int = 200,
                        n_scan_ancestors: int = 50) -> dict[str, Any]:
    events = synthetic_events(max(n_actions, n_record))
    rec_events = events[:n_record]
    causal, textlog, floor_log = CausalLayer(), TextLogLayer(), []
    row = ("t", "tool", "args")
    out: dict[str, Any] = {
        "record_causal": _stats(_time_each(lambda i: causal.record(rec_events[i]), n_record)),
        "record_textlog": _stats(_time_each(lambda i: textlog.record(rec_events[i]), n_record)),
        "record_reference_list_append": _stats(_time_each(lambda i: floor_log.append(row), n_record)),
    }
    dag = CausalDag()
    for ev in events[:n_actions]:
        dag.add(ev)
    rng = np.random.default_rng(1)
    resources = [f"file:src/m{int(k)}.py" for k in rng.integers(200, size=n_queries)]
    seqs = [int(s) for s in rng.integers(n_actions // 2, n_actions, size=n_queries)]
    indexed = [(dag.last_change(r).seq if dag.last_change(r) else None) for r in resources]
    scanned = [_scan_last_change(dag, r) for r in resources]
    k = min(n_scan_ancestors, n_queries)
    out.update({
        "dag_actions": n_actions,
        "last_change_indexed": _stats(_time_each(lambda i: dag.last_change(resources[i]), n_queries)),
        "last_change_reference_scan": _stats(_time_each(lambda i: _scan_last_change(dag, resources[i]), n_queries)),
        "last_change_agree": indexed == scanned,
        "ancestors_walk": _stats(_time_each(lambda i: dag.ancestors(seqs[i]), n_queries)),
        "dependencies_walk": _stats(_time_each(lambda i: dag.dependencies(seqs[i]), n_queries)),
        "ancestors_reference_scan": _stats(_time_each(lambda i: _scan_ancestors(dag, seqs[i]), k)),
        "ancestors_agree": all(dag.ancestors(seqs[i]) == _scan_ancestors(dag, seqs[i]) for i in range(k)),
    })
    return out


if __name__ == "__main__":  # pragma: no cover - manual run
    import json

    print(json.dumps(bench_observability(), indent=2))
