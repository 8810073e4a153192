"""``harness chaos``: the process-level chaos experiment (Table 3), its own command.

Real worker processes, seeded SIGKILLs, heartbeat detection and recovery, measured into
the store's ``exec_perf`` table by ``harness.experiment.chaos.run`` (not the episode
runner). The config is composed like ``harness run``'s (the same configs/, overrides and
``--multirun``); the experiment is ``table3`` unless one is named, and it must have a
``chaos`` section. The run id is ``<experiment>-<config hash>`` unless ``run.id`` is set.

Exit codes: 0 a verified run (stored); 2 a user's mistake, or fewer kills executed than
configured (one line and a hint, nothing stored); 1 a run whose final worlds differ from
the fault-free run's (stored first, as evidence, then the error).
"""

from __future__ import annotations

import typer
from rich.console import Console

from harness.cli.run_cmd import names_experiment, sweep
from harness.core.errors import ConfigError
from harness.experiment.config import compose_config

DEFAULT_EXPERIMENT = "table3"

console = Console(stderr=True)


def chaos(
    ctx: typer.Context,
    multirun: bool = typer.Option(False, "--multirun", "-m", help="Sweep over comma-separated override values."),
) -> None:
    overrides = list(ctx.args)
    if not names_experiment(overrides):
        overrides = [f"experiment={DEFAULT_EXPERIMENT}", *overrides]
    # Every combination is composed and checked before the first one runs.
    composed = [(combo, compose_config(combo)) for combo in (sweep(overrides) if multirun else [overrides])]
    for _, data in composed:
        _require_chaos(data)
    for combo, data in composed:
        if multirun:
            console.print(f"[bold]sweep[/] {' '.join(combo)}")
        _run_one(data)


def _require_chaos(data: dict) -> None:
    if data.get("chaos") is None:
        name = data["experiment"]
        raise ConfigError(f"experiment {name} has no chaos section: it is an episode experiment, "
                          f"run it with `harness run experiment={name}`")


def _run_one(data: dict) -> None:
    from harness.experiment.chaos.run import run_chaos_experiment  # spawns processes; import on use

    result = run_chaos_experiment(data)
    for name, st in result.summary().items():
        console.print(f"  {name:24s} n={st['n']:<6d} median={st['median']:.3f} p95={st['p95']:.3f} "
                      f"p99={st['p99']:.3f} max={st['max']:.3f}", highlight=False)
