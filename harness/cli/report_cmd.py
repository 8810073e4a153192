"""``harness report [RUN]``: every estimate of a stored run, stored beside it and printed.

The estimates are computed once by ``harness.analysis.report`` (which runs
``harness.analysis.suite``) and written to the store's ``estimates`` table (replacing
earlier ones of the same run), so notebooks and the paper read the very numbers printed
here. ``--format csv|json`` prints that table as one machine-readable document. This
module only reads the options, prints the analysis' notes and renders its tables.
"""

from __future__ import annotations

import json
from enum import StrEnum

import typer
from rich.console import Console
from rich.markup import escape

from harness.analysis.report import build_report
from harness.cli import render
from harness.core.errors import UserInputError
from harness.store import reader

err = Console(stderr=True)


class Format(StrEnum):
    table = "table"
    md = "md"
    tex = "tex"
    csv = "csv"
    json = "json"


def report(
    run: str = typer.Argument(None, help="Run id (default: the latest run in the store)."),
    db: str = typer.Option("results/harness.duckdb", "--db", help="The DuckDB results file."),
    run_opt: str = typer.Option(None, "--run", help="Run id (same as the argument)."),
    fmt: Format = typer.Option(Format.table, "--format", help="table | md | tex | csv | json"),
    resamples: int = typer.Option(10_000, help="Bootstrap resamples (seeded by the run's seed)."),
    store: bool = typer.Option(True, "--store/--no-store", help="Write the estimates into the store."),
    pair: str = typer.Option(None, "--pair", help="TREATMENT,BASELINE: the gap to report (default: the run's "
                                                   "`compare`, else its first two conditions)."),
    cost: str = typer.Option(None, "--cost", help="Cost model YAML pricing TCO and ROI (default: "
                                                  "configs/cost/default.yaml)."),
) -> None:
    from harness.analysis.cost_model import load_cost_model

    if resamples < 1:
        raise UserInputError("--resamples must be at least 1")
    cost_model = load_cost_model(cost) if cost else None  # a bad price: one line, before the store is read
    run_id = run or run_opt or reader.latest_run(db)
    made = build_report(db, run_id, pair=pair, resamples=resamples, store=store, cost_model=cost_model, note=_note)
    incomplete = made.incomplete()
    if fmt is Format.csv:  # one machine-readable document, never two: the header goes to stderr
        if incomplete:
            _note(incomplete)
        print(made.flat().to_csv(index=False), end="")
    elif fmt is Format.json:  # the document's "incomplete" field
        print(json.dumps(made.document(), indent=2, default=float, allow_nan=False))
    else:
        {Format.table: render.rich, Format.md: render.markdown, Format.tex: render.latex}[fmt](made.tables(),
                                                                                              incomplete)


def _note(text: str) -> None:
    err.print(f"[yellow]note:[/] {escape(text)}", highlight=False)
