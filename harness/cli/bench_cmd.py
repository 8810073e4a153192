"""``harness bench [SUITE]``: the performance suite, printed as numbers and ratios.

Every figure is measured beside a reference in the same process and the same run, so a
noisy machine moves both: ``episodes`` compares worker counts on the smoke experiment, and
beside it a model-bound run against a loopback endpoint and Ray against the local pool
(``experiment.throughput``); ``runtime`` runs each runtime layer's ``bench_<layer>()``
(their own references inside). Nothing here is asserted: benchmarks report, tests decide.
"""

from __future__ import annotations

import importlib
import json
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from harness.core.errors import ConfigError
from harness.experiment import throughput

LAYERS = ("execution", "tools", "memory", "security", "observability")
console = Console()


class Suite(StrEnum):
    episodes = "episodes"
    runtime = "runtime"
    all = "all"


def bench(
    suite: Suite = typer.Argument(Suite.all, help="episodes | runtime | all"),
    as_json: bool = typer.Option(False, "--json", help="Print the measurements as JSON."),
    model_bound: bool = typer.Option(True, help="episodes: also an agent=llm run against a loopback endpoint."),
    latency: float = typer.Option(0.25, min=0.0, help="episodes: the loopback endpoint's seconds per answer."),
    concurrency: int = typer.Option(32, min=1, help="episodes: executor.concurrency of the model-bound run."),
    ray: bool = typer.Option(True, help="episodes: also Ray against the local pool (skipped if Ray is missing)."),
    ray_experiment: str = typer.Option("smoke", help="episodes: the experiment Ray and the local pool both run."),
) -> None:
    results: dict[str, Any] = {}
    if suite in (Suite.episodes, Suite.all):
        results["episodes"] = bench_episodes()
        if model_bound:
            results["episodes_model_bound"] = throughput.model_bound(concurrency=concurrency, latency_s=latency)
        if ray:
            results["episodes_ray_vs_local"] = _ray_or_why_not(ray_experiment)
    if suite in (Suite.runtime, Suite.all):
        results["runtime"] = bench_runtime()
    if as_json:
        print(json.dumps(results, indent=2, default=str))
        return
    for name, measured in results.items():
        _print(name, measured)


def bench_episodes(workers: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """Smoke-experiment throughput by worker count; the 1-worker run is the reference."""
    return throughput.by_workers(workers)


def _ray_or_why_not(experiment: str) -> dict[str, Any] | str:
    try:
        return throughput.ray_vs_local(experiment=experiment)
    except ConfigError as exc:  # Ray is not installed: say so beside the other numbers
        return f"skipped: {exc.message}"


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
