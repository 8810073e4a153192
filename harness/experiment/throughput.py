"""Episode throughput, each measured beside its reference in the same process and run
(``harness bench episodes``): a noisy machine moves both sides, so the ratios mean more
than the seconds.

- ``by_workers``: the smoke experiment by worker count; one worker is the reference.
- ``model_bound``: an ``agent=llm`` run against a loopback endpoint with a fixed answer
  time (``agents.llm.loopback``): requests in flight at most, and the wall time against the
  latency-bound floor (requests x latency / peak in flight). The start-up (configs,
  workers, the first request) is measured apart: the time until the first request.
- ``ray_vs_local``: the same experiment with the same worker count on the local pool and
  on a local Ray; Ray's own start-up is measured apart, the actors' start in the run.

Nothing here asserts: benchmarks report, tests decide.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.agents.llm.loopback import LoopbackEndpoint
from harness.experiment.config import build_run_config
from harness.experiment.runner import RunSummary, run_experiment


def _timed_run(overrides: Sequence[str], db: Path) -> tuple[RunSummary, float]:
    cfg = build_run_config([*overrides, "progress=false", f"store.path={db}"])
    started = time.perf_counter()
    summary = run_experiment(cfg)
    return summary, time.perf_counter() - started


def _rate(summary: RunSummary, wall: float) -> dict[str, Any]:
    return {"episodes": summary.executed, "wall_s": round(wall, 2),
            "episodes_per_s": round(summary.executed / wall, 2) if wall else None}


def by_workers(workers: Sequence[int] = (1, 2), experiment: str = "smoke") -> dict[str, Any]:
    """Throughput by worker count; the first count is the reference."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for w in workers:
            summary, wall = _timed_run([f"experiment={experiment}", f"executor.workers={w}"], Path(tmp) / f"w{w}.db")
            out[f"workers={w}"] = _rate(summary, wall)
    ref = out[f"workers={workers[0]}"]["episodes_per_s"]
    for row in out.values():
        row["ratio_vs_reference"] = round(row["episodes_per_s"] / ref, 2)
    return out


def model_bound(workers: int = 2, concurrency: int = 32, tasks: int = 20, latency_s: float = 0.25) -> dict[str, Any]:
    """``tasks`` smoke tasks (x 2 conditions) with ``agent=llm`` against a loopback endpoint
    answering after ``latency_s``; ``concurrency`` episodes in flight per worker process,
    and as many requests per process (``agent.concurrency``)."""
    overrides = ["experiment=smoke", f"workload.limit={tasks}", "repeats=1", "agent=llm",
                 f"executor.workers={workers}", f"executor.concurrency={concurrency}",
                 f"agent.concurrency={concurrency}"]
    with tempfile.TemporaryDirectory() as tmp, LoopbackEndpoint(latency_s) as endpoint:
        summary, wall = _timed_run([*overrides, f"agent.base_url={endpoint.url}", f"agent.model={endpoint.model}"],
                                   Path(tmp) / "r.db")
        stats = endpoint.stats()
    floor = stats.floor_s()
    startup = stats.first_request_s or 0.0
    return {
        "workers": workers, "concurrency": concurrency, "latency_s": latency_s, **_rate(summary, wall),
        "requests": stats.requests, "peak_in_flight": stats.peak_in_flight,
        "startup_s": round(startup, 2), "floor_s": round(floor, 2),
        "wall_over_floor": round(wall / floor, 2) if floor else None,
        "wall_over_floor_plus_startup": round(wall / (floor + startup), 2) if floor else None,
    }


def ray_vs_local(workers: int = 2, experiment: str = "smoke", overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The same experiment on the local pool and on a local Ray with ``workers`` each;
    a Ray it starts is stopped afterwards (one already running is used and left running)."""
    from harness.experiment.executors import _ray_session as session

    already_up = session.require_ray().is_initialized()
    base = [f"experiment={experiment}", f"executor.workers={workers}", *overrides]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        summary, wall = _timed_run(base, Path(tmp) / "local.db")
        out["local"] = _rate(summary, wall)
        started = time.perf_counter()
        session.connect(None, workers)
        out["ray_startup_s"] = round(time.perf_counter() - started, 2)
        try:
            summary, wall = _timed_run([*base, "executor.name=ray"], Path(tmp) / "ray.db")
            out["ray"] = _rate(summary, wall)
            # the actors are warm now, as for the later runs of a sweep
            summary, wall = _timed_run([*base, "executor.name=ray"], Path(tmp) / "ray_warm.db")
            out["ray_warm"] = _rate(summary, wall)
        finally:
            if not already_up:
                session.shutdown()
    local = out["local"]["episodes_per_s"]
    out["ratio_ray_over_local"] = round(out["ray"]["episodes_per_s"] / local, 2)
    out["ratio_warm_ray_over_local"] = round(out["ray_warm"]["episodes_per_s"] / local, 2)
    return out
