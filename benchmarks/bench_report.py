"""Time every estimate of a stored run (what `harness report` computes), 10,000 resamples.

    .venv/bin/python benchmarks/bench_report.py results/table2.duckdb [RUN_ID]

Prints the wall time of loading the episodes and of each analysis; numbers, never asserts.
"""

from __future__ import annotations

import sys
import time

from harness.analysis.report import plan_of
from harness.analysis.suite import Analyses, Settings
from harness.store import reader


def main(db: str, run_id: str | None = None) -> None:
    run_id = run_id or reader.latest_run(db)
    t0 = time.perf_counter()
    episodes = reader.episodes(db, run_id)
    info = reader.run_info(db, run_id)
    t1 = time.perf_counter()
    analyses = Analyses(run_id, episodes, plan_of(info, episodes), Settings(resamples=10_000, seed=0))
    t2 = time.perf_counter()
    print(f"{len(episodes)} episodes loaded in {t1 - t0:.2f} s; bootstrap indices built in {t2 - t1:.3f} s")
    total = 0
    for name in ("completion", "gap", "decomposition", "pass_k", "accuracy", "retention"):
        start = time.perf_counter()
        rows = getattr(analyses, name)()
        took = time.perf_counter() - start
        total += took
        print(f"  {name:<14} {len(rows):>4} estimates  {took:6.3f} s")
    print(f"all estimates: {total + (t2 - t1):.2f} s (10,000 resamples each)")


if __name__ == "__main__":
    main(*sys.argv[1:])
