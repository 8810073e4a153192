"""``harness paper [RUN...]``: the report's tables and figures, each beside its published number."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console


def paper(
    runs: list[str] = typer.Argument(None, help="Run ids (default: the latest run of each kind: table2-like, table3, table1/table4, phases, skill_study, sensitivity)."),
    db: str = typer.Option("results/harness.duckdb", "--db", help="The DuckDB results file."),
    out: Path = typer.Option(Path("paper"), "--out", help="Where tables/, figures/ and main.tex go."),
    latex: bool = typer.Option(True, "--latex/--no-latex", help="Build main.pdf when a LaTeX toolchain exists."),
    cost: str = typer.Option(None, "--cost", help="Cost model YAML (default: configs/cost/default.yaml)."),
) -> None:
    from harness.analysis.cost_model import load_cost_model
    from harness.paper.build import build  # matplotlib only when a paper is built

    cost_model = load_cost_model(cost) if cost else None  # a bad price: one line, nothing written
    built = build(db, list(runs or []), out, latex=latex, cost_model=cost_model)
    console = Console()
    console.print(f"[bold]harness paper[/]: {len(built.files)} files written")
    for path in built.files:
        print(f"  {path}")  # one path per line, never wrapped: scripts read this list
    for note in built.notes:
        console.print(f"[dim]{note}[/]", highlight=False)
