"""``harness tasks``: generate a workload's manifest, validate it, show a task, tabulate it."""

from __future__ import annotations

import json
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from harness.core.errors import ConfigError
from harness.experiment.config import compose_config, config_dir
from harness.workload import get_family
from harness.workload.manifest import read_manifest, write_manifest
from harness.workload.spec import TaskSpec
from harness.workload.validation import TaskValidation, validate_task
from harness.workload.workloads import WorkloadConfig, build_workload, generate_from_quotas
from harness.world.vendored import load_manifest

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)
WORKLOAD = typer.Option("w500", "--workload", help="Workload config name (configs/workload/).")


def _config(name: str, limit: int | None = None) -> WorkloadConfig:
    # ~experiment: an experiment may subset the workload (smoke does); tasks commands see all of it
    overrides = ["~experiment", f"workload={name}"] + ([f"workload.limit={limit}"] if limit else [])
    return WorkloadConfig(**compose_config(overrides)["workload"])


def _tasks(name: str, limit: int | None = None) -> list[TaskSpec]:
    return build_workload(_config(name, limit), base_dir=config_dir().parent)


@app.command("generate")
def generate(workload: str = WORKLOAD, force: bool = typer.Option(False, "--force", help="Overwrite a manifest.")) -> None:
    """Write the workload's frozen manifest (one JSON line per task) and its sha256."""
    cfg = _config(workload)
    if cfg.manifest is None:
        raise ConfigError(f"workload {workload!r} has no manifest path (workload.manifest)")
    path = config_dir().parent / cfg.manifest
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; a manifest is frozen", hint="pass --force to rewrite it")
    specs = generate_from_quotas(cfg.model_copy(update={"limit": None}))
    digest = write_manifest(path, specs)
    console.print(f"{len(specs)} tasks -> {path} (sha256 {digest[:16]}…)")


@app.command("screen")
def screen(
    packages: list[str] = typer.Option(None, "--package", help="Screen only this vendored package (repeatable)."),
    workers: int = typer.Option(2, help="Suite runs at once (each in its own sandbox)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the frozen screening."),
) -> None:
    """Screen the vendored real packages: which mutants their own suites kill, which benign
    changes, renames and new parameters they pass; writes the frozen pools the `real`
    workload draws from (workloads/real/*.jsonl, each with its sha256)."""
    from harness.workload.real.screen import frozen_path, planned_runs, screen_all

    if frozen_path("mutants").exists() and not force:
        raise ConfigError(f"{frozen_path('mutants')} exists; a screening is frozen", hint="pass --force to redo it")
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    unknown = sorted(set(packages or ()) - {p.name for p in load_manifest().packages})
    if unknown:  # before anything runs
        raise ConfigError(f"no vendored package {', '.join(unknown)}",
                          hint=f"known: {', '.join(p.name for p in load_manifest().packages)}")
    n = len(packages) if packages else len(load_manifest().packages)
    progress = Progress(TextColumn("screening"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=console, disable=not console.is_terminal)
    with progress:
        bar = progress.add_task("screen", total=planned_runs(n))
        result = screen_all(workers=workers, packages=tuple(packages) if packages else None,
                            progress=lambda k: progress.advance(bar, k))
    digests = result.write()
    for name, p in sorted(result.stats["packages"].items()):
        console.print(f"{name}: {p['killed']}/{p['screened']} mutants killed ({p['survived']} survived, "
                      f"{p['endless']} endless), {p['controls']['green']}/{p['controls']['screened']} benign, "
                      f"{p['renames']['green']}/{p['renames']['screened']} renames, "
                      f"{p['parameters']['green']}/{p['parameters']['screened']} new parameters")
    console.print(f"frozen: {', '.join(f'{k} {v[:12]}…' for k, v in sorted(digests.items()))}")


def _validate_all(specs: list[TaskSpec], workers: int) -> list[TaskValidation]:
    progress = Progress(TextColumn("validating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=console, disable=not console.is_terminal)
    with progress:
        bar = progress.add_task("validate", total=len(specs))
        if workers <= 1:
            results = []
            for spec in specs:
                results.append(validate_task(spec))
                progress.advance(bar)
            return results
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = []
            for r in pool.map(validate_task, specs, chunksize=8):
                results.append(r)
                progress.advance(bar)
            return results


@app.command("validate")
def validate(
    workload: str = WORKLOAD,
    limit: int = typer.Option(None, help="Validate a stratified subset of N tasks."),
    workers: int = typer.Option(os.cpu_count() or 1, help="Processes to use."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per task."),
) -> None:
    """For every task: gold passes; untouched world, do-nothing and vandals fail."""
    results = _validate_all(_tasks(workload, limit), workers)
    if as_json:
        for r in results:
            print(json.dumps(r.to_dict()))
    table = Table(title=f"harness tasks validate --workload {workload}")
    for col in ("category", "family", "tasks", "valid"):
        table.add_column(col, justify="left" if col in ("category", "family") else "right")
    for key, group in _group(results, lambda r: (r.category, r.family)).items():
        table.add_row(*key, str(len(group)), str(sum(r.ok for r in group)))
    for cat, group in _group(results, lambda r: (r.category,)).items():
        table.add_row(cat[0], "[bold]all", str(len(group)), str(sum(r.ok for r in group)), style="bold")
    Console(stderr=True, width=None if console.is_terminal else 120).print(table)
    bad = [r for r in results if not r.ok]
    for r in bad[:20]:
        console.print(f"[red]{r.task_id}[/]: {'; '.join(r.problems)}", highlight=False)
    console.print(f"{len(results) - len(bad)}/{len(results)} tasks valid" + (f"; {len(bad)} INVALID" if bad else ""))
    if bad:
        raise typer.Exit(1)


def _group(items, key) -> dict:
    groups: dict = {}
    for item in sorted(items, key=key):
        groups.setdefault(key(item), []).append(item)
    return groups


@app.command("stats")
def stats(workload: str = WORKLOAD) -> None:
    """The stratification table: category x family x difficulty, sessions and traps."""
    specs = _tasks(workload)
    table = Table(title=f"workload {workload}: {len(specs)} tasks")
    for col in ("category", "family", "tasks", "d1", "d2", "d3", "d4", "d5", "multi-session", "with traps"):
        table.add_column(col, justify="left" if col in ("category", "family") else "right")
    for (cat, fam), group in _group(specs, lambda s: (s.category, s.family)).items():
        diff = Counter(s.difficulty for s in group)
        table.add_row(cat, fam.split("/")[-1], str(len(group)), *(str(diff[d]) for d in range(1, 6)),
                      _share(group, lambda s: len(s.sessions) > 1), _share(group, lambda s: bool(s.traps)))
    table.add_row("all", "", str(len(specs)), *(str(sum(s.difficulty == d for s in specs)) for d in range(1, 6)),
                  _share(specs, lambda s: len(s.sessions) > 1), _share(specs, lambda s: bool(s.traps)), style="bold")
    Console(width=None if Console().is_terminal else 140).print(table)


def _share(group, pred) -> str:
    n = sum(1 for s in group if pred(s))
    return f"{n} ({100 * n / len(group):.0f}%)"


@app.command("show")
def show(task_id: str = typer.Argument(..., help="Task id, e.g. rename_symbol-0007."), workload: str = WORKLOAD) -> None:
    """The task as the agent sees it (brief per session) and as the harness sees it."""
    cfg = _config(workload)
    if cfg.manifest is not None:
        entries, _ = read_manifest(config_dir().parent / cfg.manifest)
        match = [e for e in entries if e.id == task_id]
        spec = match[0].generate() if match else None
        ids = [e.id for e in entries]
    else:
        tasks = {t.id: t for t in generate_from_quotas(cfg)}
        spec, ids = tasks.get(task_id), sorted(tasks)
    if spec is None:
        raise ConfigError(f"no task {task_id!r} in workload {workload!r}", hint=f"ids look like: {', '.join(ids[:3])}, ...")
    world = get_family(spec.family).build_world(spec)
    table = Table(title=task_id, show_header=False)
    table.add_row("family", spec.family)
    table.add_row("difficulty", str(spec.difficulty))
    table.add_row("instructions", spec.instructions)
    for k, session in enumerate(spec.sessions if len(spec.sessions) > 1 else ()):
        table.add_row(f"session {k + 1}", session.asks)
    table.add_row("public", json.dumps(spec.public))
    table.add_row("budget", f"{spec.budget.max_actions} actions, {spec.budget.max_minutes:g} sim-minutes")
    table.add_row("checkers", ", ".join(c.name for c in spec.checkers))
    table.add_row("traps", ", ".join(spec.traps) or "none")
    parts = ", ".join(f"{name}: {len(part.snapshot().get('services', part.snapshot()))}" for name, part in world.parts.items())
    table.add_row("world", f"{len(world.workspace)} files" + (f"; {parts}" if parts else ""))
    Console().print(table)
