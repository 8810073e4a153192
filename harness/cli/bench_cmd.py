"""``harness bench [SUITE]``: the performance suite, printed as numbers and ratios.

Every figure is measured beside a reference in the same process and the same run, so a
noisy machine moves both: ``episodes`` compares worker counts on the smoke experiment;
``runtime`` runs each runtime layer's ``bench_<layer>()`` (their own references inside).
Nothing here is asserted: benchmarks report, tests decide.
"""

from __future__ import annotations

import importlib
import json
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from harness.experiment.config import build_run_config
from harness.experiment.runner import run_experiment

LAYERS = ("execution", "tools", "memory", "security", "observability")
console = Console()


class Suite(StrEnum):
    episodes = "episodes"
    runtime = "runtime"
    all = "all"


def bench(
    suite: Suite = typer.Argument(Suite.all, help="episodes | runtime | all"),
    as_json: bool = typer.Option(False, "--json", help="Print the measurements as JSON."),
) -> None:
    results: dict[str, Any] = {}
    if suite in (Suite.episodes, Suite.all):
        results["episodes"] = bench_episodes()
    if suite in (Suite.runtime, Suite.all):
        results["runtime"] = bench_runtime()
    if as_json:
        print(json.dumps(results, indent=2, default=str))
        return
    for name, measured in results.items():
        _print(name, measured)


def bench_episodes(workers: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """Smoke-experiment throughput by worker count; the 1-worker run is the reference."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for w in workers:
            db = Path(tmp) / f"w{w}.duckdb"
            cfg = build_run_config(["experiment=smoke", f"executor.workers={w}", "progress=false", f"store.path={db}"])
            started = time.perf_counter()
            summary = run_experiment(cfg)
            wall = time.perf_counter() - started
            out[f"workers={w}"] = {"episodes": summary.executed, "wall_s": round(wall, 2),
                                   "episodes_per_s": round(summary.executed / wall, 2)}
    ref = out[f"workers={workers[0]}"]["episodes_per_s"]
    for row in out.values():
        row["ratio_vs_1_worker"] = round(row["episodes_per_s"] / ref, 2)
    return out


def bench_runtime() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for layer in LAYERS:
        try:
            module = importlib.import_module(f"harness.runtime.{layer}.bench")
        except ModuleNotFoundError:
            out[layer] = "no benchmark yet"
            continue
        out[layer] = getattr(module, f"bench_{layer}")()
    return out


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in _flatten(f"{prefix}.{k}" if prefix else str(k), v)]
    return [(prefix, f"{value:.4g}" if isinstance(value, float) else str(value))]


def _print(name: str, measured: Any) -> None:
    table = Table(title=f"harness bench {name}", show_header=True)
    table.add_column("measurement")
    table.add_column("value", justify="right")
    for key, value in _flatten("", measured):
        table.add_row(key, value)
    console.print(table)
