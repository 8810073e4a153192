"""``harness store``: look after a results store (recover one whose write-ahead log was damaged)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from harness.store.recover import recover as recover_store

app = typer.Typer(add_completion=False, no_args_is_help=True)
out = Console(soft_wrap=True)


@app.command("recover")
def recover(path: Path = typer.Argument(..., help="the DuckDB results file, e.g. results/harness.duckdb")) -> None:
    """Open a store DuckDB refuses because its write-ahead log is damaged, keeping every
    commit before the damage (the damaged log is kept beside it). A healthy store is left alone."""
    done = recover_store(path)
    if done.action == "healthy":
        out.print(f"{done.path} opens cleanly; nothing to recover (left untouched).")
    else:
        out.print(f"{done.path}: the write-ahead log was damaged at byte {done.damaged_at}; "
                  f"kept every commit before it and dropped {done.log_bytes_dropped} bytes after it.")
        out.print(f"  the damaged log is kept at {done.kept_log}")
    for run_id, n in done.episodes.items():
        out.print(f"  run {run_id}: {n} episodes stored")
    if done.action == "recovered":
        out.print("Re-run the same `harness run ...` command to resume: episodes lost with the damaged "
                  "commits are run again, deterministically.")
