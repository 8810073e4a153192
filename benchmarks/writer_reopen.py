"""The writer's cost per committed batch (issue 20: it reopens the store for each batch so
readers can follow a run). Synthetic episodes of 12 actions, the writer alone:

    python benchmarks/writer_reopen.py [EPISODES] [BATCH]

Run it on two checkouts (PYTHONPATH=...) to compare; it prints the wall time per batch.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from harness.core.models import ActionRecord, EpisodeRecord
from harness.store import ResultWriter, RunInfo


def _episode(i: int) -> EpisodeRecord:
    return EpisodeRecord(run_id="r", condition="c", task_id=f"t{i:05d}", repeat=0, category="code", family="f",
                         difficulty=1, seed=1, success=True, termination="submitted", check_detail="[]", actions=12,
                         tool_calls=12, tool_calls_ok=12, tool_calls_rejected=0, sim_minutes=1.0, world_digest="d")


def _actions(e: EpisodeRecord) -> list[ActionRecord]:
    return [ActionRecord(run_id="r", condition="c", task_id=e.task_id, repeat=0, seq=s, parent=None, tool="x",
                         ok=True, sim_minutes=1.0) for s in range(12)]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with ResultWriter(Path(tmp) / "s.duckdb", batch_size=batch) as writer:
            writer.begin_run(RunInfo(id="r", experiment="x", config={}, config_hash="h", workload_hash="w",
                                     code_version="v", seed=1, repeats=1, planned_episodes=n))
            for i in range(n):
                e = _episode(i)
                writer.add(e, _actions(e))
            writer.finish_run("r")
        took = time.perf_counter() - started
    print(f"{n} episodes, batch {batch}: {took:.2f} s, {took / (n / batch) * 1000:.1f} ms per batch")


if __name__ == "__main__":
    main()
