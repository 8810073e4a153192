"""Digests of the rows that experiments store, to show that a refactor changed no behaviour.

For each experiment (run through the real CLI on a slice: ``harness chaos`` for Table 3,
``harness run`` for the others), the sha256 of its deterministic rows: every episode
column but ``wall_*`` and ``run_id`` (``reader.deterministic_episode_rows``) for the
episode experiments; for Table 3, whose kills land at wall-clock times, the rows
that do not depend on timing (each configured session's final-state verdict and duplicate
count, and the configured settings).

    python benchmarks/row_digests.py                 # the CI slices, print JSON
    python benchmarks/row_digests.py --full          # table2 on 100 tasks x 5 repeats etc.
    python benchmarks/row_digests.py --check FILE    # exit 1 when a digest differs

``tests/integration/test_row_digests.py`` keeps the CI slices equal to
``tests/data/row_digests.json``; refresh that file only after an intended change of
behaviour (and say why in the commit message), like ``make reference``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name -> CLI overrides. The CI slices touch every family (smoke) and every condition kind.
SLICES: dict[str, list[str]] = {
    "smoke": ["experiment=smoke", "workload.limit=24"],
    "table2": ["experiment=table2", "workload.limit=16", "repeats=1"],
    "table1": ["experiment=table1", "workload.limit=24"],
    "table3": ["experiment=table3", "chaos.tasks=2", "chaos.sessions_per_task=2", "chaos.actions_per_session=300",
               "chaos.kills=4", "chaos.mean_kill_gap_ms=100", "chaos.max_chaos_seconds=60"],
}
FULL: dict[str, list[str]] = {
    "smoke": ["experiment=smoke"],
    "table2": ["experiment=table2", "workload.limit=100"],
    "table1": ["experiment=table1"],
    "table3": SLICES["table3"],
}
CHAOS = {"table3"}  # run by `harness chaos` (worker processes and kills), the rest by `harness run`
TIMING_FREE_CONFIG = ("heartbeat_interval_ms", "heartbeat_timeout_ms", "checkpoint_every", "poll_ms",
                      "kills_configured", "tasks_configured")


def _rows(db: Path, run_id: str, table3: bool) -> list:
    import duckdb

    from harness.store import reader

    if not table3:
        return [list(r) for r in reader.deterministic_episode_rows(db, run_id)]
    con = duckdb.connect(str(db), read_only=True)
    try:
        configured = con.execute(
            "SELECT value FROM exec_perf WHERE run_id = ? AND metric = 'tasks_configured'", [run_id]).fetchone()[0]
        rows = con.execute(
            "SELECT event, task_id, metric, value FROM exec_perf WHERE run_id = ? AND "
            "(event = 'session' OR (event = 'config' AND list_contains(?, metric))) ORDER BY ALL",
            [run_id, list(TIMING_FREE_CONFIG)]).fetchall()
    finally:
        con.close()
    tasks = sorted({r[1].rsplit(".s", 1)[0] for r in rows if r[0] == "session"})[: int(configured)]
    return [list(r) for r in rows if r[0] == "config" or r[1].rsplit(".s", 1)[0] in tasks]


def digest(name: str, overrides: list[str], workdir: Path) -> dict:
    db = workdir / f"{name}.duckdb"
    command = "chaos" if name in CHAOS else "run"
    cmd = [sys.executable, "-m", "harness.cli.main", command, *overrides, f"store.path={db}", f"run.id={name}",
           "executor.workers=2"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{name}: harness {command} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    rows = _rows(db, name, table3=name == "table3")
    blob = json.dumps(rows, default=str, separators=(",", ":")).encode()
    return {"overrides": overrides, "rows": len(rows), "sha256": hashlib.sha256(blob).hexdigest()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the larger slices the closing notes report")
    ap.add_argument("--only", nargs="*", help="experiments to run (default: all)")
    ap.add_argument("--check", type=Path, help="compare against this JSON file; exit 1 on a difference")
    args = ap.parse_args()
    slices = FULL if args.full else SLICES
    names = args.only or list(slices)
    with tempfile.TemporaryDirectory(prefix="row-digests-") as tmp:
        got = {n: digest(n, slices[n], Path(tmp)) for n in names}
    print(json.dumps(got, indent=2))
    if args.check:
        want = json.loads(args.check.read_text())
        bad = [n for n in names if want.get(n, {}).get("sha256") != got[n]["sha256"]]
        for n in bad:
            print(f"{n}: rows differ ({got[n]['rows']} rows, {got[n]['sha256'][:12]} vs "
                  f"{want.get(n, {}).get('sha256', 'none')[:12]})", file=sys.stderr)
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
