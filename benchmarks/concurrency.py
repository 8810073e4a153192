"""Requests in flight at a model endpoint, and wall time, by ``executor.concurrency``.

A loopback OpenAI-compatible endpoint (``harness.agents.llm.loopback``) answers every chat
request like the mock model, after a fixed delay (a stand-in for a model's answer time),
and counts the requests it holds at once. ``harness run agent=llm`` is pointed at it through the real CLI, once per
concurrency, on the same episodes. The floor is the wall time the requests would need if
the stub always held as many as it held at most: requests x delay / max in flight; the
ratio says how close the run came to it (start-up, the episodes' own work, stragglers).
``run_s`` is the runner's own loop (the command's wall time without its start-up).

    python benchmarks/concurrency.py                                  # 40 smoke episodes, 2 workers, 1 vs 32
    python benchmarks/concurrency.py --concurrency 1 8 32 --delay 0.25 --tasks 20
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.agents.llm.loopback import LoopbackEndpoint

ROOT = Path(__file__).resolve().parents[1]


def measure(concurrency: int, workers: int, tasks: int, delay_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, LoopbackEndpoint(delay_s) as endpoint:
        args = ["experiment=smoke", f"workload.limit={tasks}", "repeats=1", "agent=llm",
                f"agent.base_url={endpoint.url}", f"agent.model={endpoint.model}", f"executor.workers={workers}", f"executor.concurrency={concurrency}",
                f"agent.concurrency={max(concurrency, 1)}", "progress=false", f"store.path={Path(tmp) / 'r.duckdb'}"]
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "harness.cli.main", "run", *args], cwd=ROOT,
                                capture_output=True, text=True)
        wall = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"concurrency={concurrency} failed:\n{result.stderr[-2000:]}")
        summary = next(line for line in result.stderr.splitlines() if "episodes executed" in line)
        episodes = int(re.search(r"(\d+) episodes executed", summary).group(1))
        rate = float(re.search(r"([\d.]+) ep/s", summary).group(1))
        stats = endpoint.stats()
        floor = stats.floor_s()
        return {"concurrency": concurrency, "workers": workers, "episodes": episodes, "requests": stats.requests,
                "max_in_flight": stats.peak_in_flight, "wall_s": round(wall, 2),
                "run_s": round(episodes / rate, 2) if rate else None,  # the runner's loop: no start-up
                "floor_s": round(floor, 2), "wall_over_floor": round(wall / floor, 2) if floor else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=20, help="smoke tasks; x 2 conditions = episodes")
    parser.add_argument("--delay", type=float, default=0.25, help="seconds the stub takes per answer")
    args = parser.parse_args()
    rows = [measure(c, args.workers, args.tasks, args.delay) for c in args.concurrency]
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
