"""``harness compare RUN_A RUN_B``: the paired difference of two runs and the CI regression gate.

A run is named as ``RUN_ID`` (in ``--db``), ``PATH.duckdb`` (its latest run) or
``PATH.duckdb:RUN_ID``. Exit codes: 0 no regression, 1 B is significantly worse than A by
more than the margin, 2 the input cannot be compared (said why).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from enum import StrEnum

import typer
from rich.console import Console
from rich.table import Table

from harness.analysis.regression import METRICS, regressed
from harness.analysis.run_compare import check_options, compare_episodes
from harness.store import reader


class Output(StrEnum):
    table = "table"
    json = "json"


def _locate(spec: str, db: str) -> tuple[str, str]:
    """(store path, run id) from RUN_ID, PATH.duckdb or PATH.duckdb:RUN_ID."""
    if ".duckdb" in spec:
        path, _, run = spec.partition(".duckdb")
        path += ".duckdb"
        run_id = run.removeprefix(":") or reader.latest_run(path)
        return path, run_id
    return db, spec


def compare_runs(
    run_a: str = typer.Argument(..., help="The reference run: RUN_ID, PATH.duckdb or PATH.duckdb:RUN_ID."),
    run_b: str = typer.Argument(..., help="The run under test, named the same ways."),
    db: str = typer.Option("results/harness.duckdb", "--db", help="Store for bare run ids."),
    metric: str = typer.Option("completion", help=f"One of: {', '.join(METRICS)}."),
    margin: float = typer.Option(0.02, help="Tolerated drop (0.02 = 2 points) before a significant drop fails."),
    resamples: int = typer.Option(10_000, help="Bootstrap resamples."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
    fmt: Output = typer.Option(Output.table, "--format", help="table | json"),
) -> None:
    check_options(metric, margin, resamples)
    (path_a, id_a), (path_b, id_b) = _locate(run_a, db), _locate(run_b, db)
    hashes = reader.run_info(path_a, id_a).get("workload_hash"), reader.run_info(path_b, id_b).get("workload_hash")
    rows = compare_episodes(reader.episodes(path_a, id_a), reader.episodes(path_b, id_b), hashes, (run_a, run_b),
                            metric=metric, margin=margin, resamples=resamples, seed=seed)
    failed = regressed(rows)
    if fmt is Output.json:
        print(json.dumps({"a": f"{path_a}:{id_a}", "b": f"{path_b}:{id_b}", "metric": metric, "margin": margin,
                          "resamples": resamples, "seed": seed, "regression": bool(failed),
                          "rows": [asdict(r) for r in rows]}, indent=2))
    else:
        _print(rows, metric, margin, f"{path_a}:{id_a}", f"{path_b}:{id_b}", failed)
    if failed:
        raise typer.Exit(1)


def _print(rows, metric, margin, a, b, failed) -> None:
    console = Console(width=None if sys.stdout.isatty() else 140)
    t = Table(title=f"{metric}: B − A, paired on (condition, task, repeat); task bootstrap 95% CI\n"
                    f"A = {a}\nB = {b}")
    for col in ("condition", "category", "tasks", "A", "B", "B − A", "95% CI", "method", "verdict"):
        t.add_column(col, justify="right" if col in ("tasks", "A", "B", "B − A", "95% CI") else "left", no_wrap=True)
    for r in rows:
        verdict = "REGRESSION" if r.regression else ("worse" if r.high < 0 else "ok")
        t.add_row(r.condition, r.category, str(r.tasks), f"{100 * r.a:.1f}%", f"{100 * r.b:.1f}%",
                  f"{100 * r.diff:+.1f}pp", f"[{100 * r.low:+.1f}, {100 * r.high:+.1f}]", r.method, verdict)
    console.print(t)
    if failed:
        console.print(f"[bold red]regression:[/] B is significantly worse than A by more than {100 * margin:.1f} "
                      f"points in: {', '.join(r.condition for r in failed)}")
    else:
        console.print(f"no regression beyond the {100 * margin:.1f}-point margin")
