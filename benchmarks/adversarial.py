"""Re-run every attack of issue 17 through the CLI and print what each achieved (a script,
not a test; ``tests/adversarial/`` asserts the same outcomes on smaller slices).

For each attack agent of ``tests/adversarial/agents.py``: completion per condition on a
40-task W500 slice (agent_native and human, one repeat), how the episodes ended, whether
anything was written outside the sandbox, whether the host file the attack deletes is
still there, and whether the run finished (its exit code). Then the cost of containment:
``experiment=smoke`` episodes per second with the reference agent and with
``agent=mock``.

    .venv/bin/python benchmarks/adversarial.py [--tasks 40]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.adversarial.agents import ESCAPE_DIR  # noqa: E402

HARNESS = str(Path(sys.executable).with_name("harness"))
ATTACKS = {
    "do-nothing (control)": ("Idle", {}),
    "1 preamble in __init__.py": ("Preamble", {}),
    "2 test module escapes": ("EscapingTest", {}),
    "3 frame walk / disk read": ("FrameWalker", {}),
    "5 agent never yields": ("NeverYields", {"agent.limits.action_seconds": "3"}),
    "5 test swallows time limits": ("HangingTest", {}),
    "5 huge inputs": ("HugeInputs", {}),
    "6 SystemExit": ("Raises", {"+agent.options.kind": "SystemExit"}),
    "6 KeyboardInterrupt": ("Raises", {"+agent.options.kind": "KeyboardInterrupt"}),
    "6 os._exit": ("Raises", {"+agent.options.kind": "exit"}),
    "6 lone surrogate": ("BadText", {}),
}


def _run(args: list[str], env: dict[str, str]) -> tuple[int, float, str]:
    started = time.perf_counter()
    proc = subprocess.run([HARNESS, "run", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    return proc.returncode, time.perf_counter() - started, proc.stderr.strip().splitlines()[-1:] or [""]


def _episodes(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT condition, count(*), sum(success::INT), "
                           "string_agg(DISTINCT termination, ',') FROM episodes GROUP BY condition "
                           "ORDER BY condition").fetchall()


def attacks(tasks: int, scratch: Path) -> None:
    escape = Path(ESCAPE_DIR)  # where the attacks write if they get out (the agents' default)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    print(f"{'attack':32} {'exit':>4} {'wall s':>7}  completion (condition: passed/episodes, terminations)"
          "  outside written  host file kept")
    for label, (cls, extra) in ATTACKS.items():
        shutil.rmtree(escape, ignore_errors=True)
        escape.mkdir(parents=True)
        (escape / "victim").write_text("must survive")
        db = scratch / f"{cls}-{len(os.listdir(scratch))}.duckdb"
        args = ["experiment=smoke", f"workload.limit={tasks}", "repeats=1", "executor.workers=2",
                "agent=custom", f"agent.import_path=tests.adversarial.agents:{cls}", f"store.path={db}",
                "max_errors=100000", *(f"{k}={v}" for k, v in extra.items())]
        code, wall, _ = _run(args, env)
        rows = _episodes(db) if db.exists() else []
        outcome = "; ".join(f"{c}: {s}/{n} ({t})" for c, n, s, t in rows) or "no episodes"
        written = sorted(p.name for p in escape.iterdir() if p.name != "victim")
        print(f"{label:32} {code:>4} {wall:>7.1f}  {outcome}  {written or 'nothing'}  "
              f"{(escape / 'victim').exists()}")


def containment_cost(scratch: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for agent in ("reference", "mock"):
        db = scratch / f"smoke-{agent}.duckdb"
        code, wall, _ = _run(["experiment=smoke", f"agent={agent}", f"store.path={db}", "executor.workers=2"], env)
        with duckdb.connect(str(db), read_only=True) as con:
            n = con.execute("SELECT count(*) FROM episodes").fetchone()[0]
        print(f"smoke agent={agent:9} exit {code}  {n} episodes in {wall:.1f} s = {n / wall:.2f} ep/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--skip-attacks", action="store_true")
    parser.add_argument("--skip-cost", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="harness-adversarial-"))
    try:
        if not args.skip_attacks:
            attacks(args.tasks, scratch)
        if not args.skip_cost:
            containment_cost(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
