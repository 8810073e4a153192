"""``harness tasks``: generate a workload's manifest, validate it, show one task."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from harness.core.errors import ConfigError
from harness.experiment.config import compose_config
from harness.workload import get_family, run_checkers
from harness.workload.gold import apply_gold
from harness.workload.workloads import WorkloadConfig, build_workload, workload_hash

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)


def _workload(name: str, limit: int | None) -> WorkloadConfig:
    # ~experiment: an experiment may subset the workload (smoke does); tasks commands see all of it
    overrides = ["~experiment", f"workload={name}"] + ([f"workload.limit={limit}"] if limit else [])
    return WorkloadConfig(**compose_config(overrides)["workload"])


@app.command("generate")
def generate(
    workload: str = typer.Option("rename", help="Workload config name (configs/workload/)."),
    out: Path = typer.Option(None, help="Manifest path (default workloads/<name>/manifest.jsonl)."),
) -> None:
    """Write the workload's task specs, one JSON per line, and their content hash."""
    tasks = build_workload(_workload(workload, None))
    path = out or Path("workloads") / workload / "manifest.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(t.model_dump_json() + "\n" for t in tasks))
    path.with_suffix(".sha256").write_text(workload_hash(tasks) + "\n")
    console.print(f"{len(tasks)} tasks -> {path} (hash {workload_hash(tasks)})")


@app.command("validate")
def validate(
    workload: str = typer.Option("rename", help="Workload config name (configs/workload/)."),
    limit: int = typer.Option(None, help="Validate a stratified subset of N tasks."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per task."),
) -> None:
    """Prove for every task: the gold solution passes every checker, the initial world fails one."""
    tasks = build_workload(_workload(workload, limit))
    bad = 0
    rows = []
    for spec in track(tasks, description="validating", console=console, disable=as_json):
        fam = get_family(spec.family)
        initial = run_checkers(fam.build_world(spec), spec)
        gold = run_checkers(apply_gold(fam.build_world(spec), spec.gold), spec)
        ok = all(c.passed for c in gold) and not all(c.passed for c in initial)
        bad += not ok
        rows.append({"task_id": spec.id, "ok": ok, "gold_failures": [c.to_dict() for c in gold if not c.passed],
                     "initial_failing": [c.checker for c in initial if not c.passed]})
    if as_json:
        for r in rows:
            print(json.dumps(r))
    console.print(f"{len(tasks) - bad}/{len(tasks)} tasks valid" + (f"; {bad} INVALID" if bad else ""))
    if bad:
        raise typer.Exit(1)


@app.command("show")
def show(
    task_id: str = typer.Argument(..., help="Task id, e.g. rename_symbol-0007."),
    workload: str = typer.Option("rename", help="Workload config name."),
) -> None:
    """The task as the agent sees it (brief) and as the harness sees it (budget, checkers)."""
    tasks = {t.id: t for t in build_workload(_workload(workload, None))}
    if task_id not in tasks:
        sample = ", ".join(sorted(tasks)[:3])
        raise ConfigError(f"no task {task_id!r} in workload {workload!r}", hint=f"ids look like: {sample}, ...")
    spec = tasks[task_id]
    out = Console()
    table = Table(title=task_id, show_header=False)
    table.add_row("family", spec.family)
    table.add_row("difficulty", str(spec.difficulty))
    table.add_row("instructions", spec.instructions)
    table.add_row("public", json.dumps(spec.public))
    table.add_row("budget", f"{spec.budget.max_actions} actions, {spec.budget.max_minutes:g} sim-minutes")
    table.add_row("checkers", ", ".join(c.name for c in spec.checkers))
    table.add_row("world", f"{len(get_family(spec.family).build_world(spec).workspace)} files")
    out.print(table)
