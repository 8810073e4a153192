"""``harness runs [--db PATH] [--json]``: the runs in a store, oldest first.

One row per run: id, experiment, status (running, stopped, finished), episodes stored
of those planned, when it started and finished. ``status`` is what the runner last
wrote: a run killed outright (SIGKILL, a power cut) still says ``running``; ``stopped``
is a run interrupted by Ctrl-C or SIGTERM. Either resumes with the same command.
"""

from __future__ import annotations

import json
import math
import sys
from datetime import datetime

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from harness.core.errors import StoreError
from harness.store import reader

COLUMNS = ("id", "experiment", "status", "episodes_done", "planned_episodes", "started", "finished")


def runs(
    db: str = typer.Option("results/harness.duckdb", "--db", help="The DuckDB results file."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document: a list of runs."),
) -> None:
    rows = listed(db)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title=f"runs in {db}", title_justify="left")
    # an id is never cut (it is what `report` and `compare` take): in a narrow terminal the others wrap
    table.add_column("run", no_wrap=True)
    for name in ("experiment", "status", "episodes", "started (UTC)", "finished (UTC)"):
        table.add_column(name, justify="right" if name == "episodes" else "left")
    for r in rows:
        status = {"stopped": "[yellow]stopped[/]", "running": "[cyan]running[/]"}.get(r["status"], r["status"])
        table.add_row(r["id"], r["experiment"], status, f"{r['episodes_done']}/{r['planned_episodes']}",
                      r["started"] or "", r["finished"] or "")
    Console(width=None if sys.stdout.isatty() else 160).print(table)  # pipes and logs: don't squeeze


def listed(db: str) -> list[dict]:
    """The store's runs as plain dicts (times as ``YYYY-MM-DD HH:MM:SS``). A missing or
    empty store is one line of error (the reader's hint folded into it)."""
    try:
        frame = reader.list_runs(db)
    except StoreError as exc:
        raise StoreError(f"{exc.message}" + (f"; {exc.hint}" if exc.hint else "")) from None
    if frame.empty:
        raise StoreError(f"no runs in {db}; run `harness run experiment=...` first")
    return [{c: _plain(row[c]) for c in COLUMNS} for _, row in frame.iterrows()]


def _plain(value: object) -> object:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None  # an unfinished run's end time
    if isinstance(value, datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.item() if hasattr(value, "item") else value
