"""``harness run``: compose the config, run (or resume) the experiment, show progress.

Episode experiments only: a config with a ``chaos`` section (Table 3's worker processes
and real kills) is refused before anything is stored and named to ``harness chaos``,
its own command (``harness.cli.chaos_cmd``).
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
import yaml
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from harness.agents.profile import AgentProfile
from harness.core.errors import ConfigError
from harness.experiment.config import RunConfig, build_run_config, compose_config
from harness.experiment.interrupts import RunStopped
from harness.experiment.runner import RunSummary, run_experiment

console = Console(stderr=True)
STOPPED_EXIT = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


def run(
    ctx: typer.Context,
    multirun: bool = typer.Option(False, "--multirun", "-m", help="Sweep over comma-separated override values."),
    agent_profile: Path = typer.Option(None, "--agent-profile", help="a profile file (e.g. written by `harness "
                                       "calibrate`): sets agent.profile.<key> before the overrides"),
) -> None:
    overrides = [*(profile_overrides(agent_profile) if agent_profile else []), *ctx.args]
    # Every combination is composed and checked (plug-in options included) before the first
    # one runs, so a refused one leaves nothing stored.
    errored = 0
    try:
        configs = [_checked(combo) for combo in (sweep(overrides) if multirun else [overrides])]
        for combo, cfg in configs:
            if multirun:
                console.print(f"[bold]sweep[/] {' '.join(combo)}")
            errored += run_one(cfg).error_count
    except RunStopped as stop:
        console.print(f"stopped: {stop.stored}/{stop.planned} episodes stored; run the same command again to resume",
                      highlight=False)
        raise typer.Exit(STOPPED_EXIT) from None
    except KeyboardInterrupt:  # before the store was opened for writing
        console.print("stopped before the run began storing episodes", highlight=False)
        raise typer.Exit(STOPPED_EXIT) from None
    if errored:
        raise typer.Exit(1)  # errors are not failures, but a run that had them is not a clean run


def profile_overrides(path: Path) -> list[str]:
    """``agent.profile.<key>=<value>`` for each key of a profile file's ``profile`` mapping
    (a fitted profile is only ever used this way, on request: no config reads one)."""
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"--agent-profile {path}: cannot read it ({type(exc).__name__})") from None
    profile = doc.get("profile") if isinstance(doc, dict) else None
    if not isinstance(profile, dict) or not profile:
        raise ConfigError(f"--agent-profile {path}: no 'profile' mapping of agent.profile keys")
    unknown = sorted(set(profile) - set(AgentProfile.model_fields))
    if unknown:
        raise ConfigError(f"--agent-profile {path}: unknown profile keys {unknown}",
                          hint=f"keys: {', '.join(AgentProfile.model_fields)}")
    return profile_settings(profile)


def profile_settings(profile: dict) -> list[str]:
    """``agent.profile.<key>=<value>`` overrides, values as Python writes them (exact for floats)."""
    return [f"agent.profile.{k}={v!r}" for k, v in profile.items()]


def names_experiment(overrides: list[str]) -> bool:
    """Whether the overrides choose the experiment (``experiment=x``, ``+experiment=x``)."""
    return any(o.split("=", 1)[0].lstrip("+~") == "experiment" for o in overrides)


def _checked(overrides: list[str]) -> tuple[list[str], RunConfig]:
    data = compose_config(overrides)
    _refuse_chaos(overrides, data)
    return overrides, build_run_config(overrides, data)


def _refuse_chaos(overrides: list[str], data: dict) -> None:
    if data.get("chaos") is None:
        return
    args = overrides if names_experiment(overrides) else [f"experiment={data['experiment']}", *overrides]
    raise ConfigError(f"experiment {data['experiment']} is a chaos experiment (worker processes and real kills, "
                      f"not episodes): run it with `harness chaos {' '.join(args)}`")


def sweep(overrides: list[str]) -> list[list[str]]:
    """The override combinations of a ``--multirun`` (comma-separated values)."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        return BasicSweeper.split_arguments(parsed, max_batch_size=None)[0]
    except HydraException as exc:
        raise ConfigError(f"bad override: {str(exc).strip().splitlines()[0]}") from None


def run_one(cfg: RunConfig) -> RunSummary:
    live = cfg.progress and console.is_terminal
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} ep/s"), TextColumn("{task.fields[usage]}"), TimeElapsedColumn(),
        TextColumn("eta"), TimeRemainingColumn(), console=console, disable=not live,
    )
    with progress:
        bar = progress.add_task(cfg.run_id(), total=None, rate="-", usage="")
        meter = _Meter()

        def on_usage(tokens: int, cost_usd: float) -> None:
            meter.usage = f"{tokens:,} tokens ${cost_usd:.4f}"  # a model agent's spending so far
            progress.update(bar, usage=meter.usage)

        def on_progress(done: int, total: int, committed: int) -> None:
            rate = meter.rate(done)
            progress.update(bar, completed=done, total=total, rate=rate)
            if cfg.progress and not live and committed != meter.last_committed:
                # Plain lines where no live bar can be drawn (CI logs, pipes): one per commit.
                usage = f", {meter.usage}" if meter.usage else ""
                console.print(f"committed {committed}/{total} episodes ({rate} ep/s{usage})", highlight=False)
            meter.last_committed = committed

        summary = run_experiment(cfg, on_progress=on_progress, on_usage=on_usage)
    ok = ", ".join(f"{c}: {n}/{summary.planned // max(1, len(cfg.conditions))}" for c, n in summary.successes.items())
    console.print(
        f"run [bold]{summary.run_id}[/]: {summary.executed} episodes executed, {summary.already_done} already stored, "
        f"{summary.rate:.1f} ep/s -> {summary.store}" + (f"\n  successes this invocation: {ok}" if ok else ""),
        highlight=False,
    )
    if meter.usage:
        console.print(f"  model usage (whole run): {meter.usage}", highlight=False)
    if summary.stopped:
        console.print(f"  stopped early: {summary.stopped}; no further episodes were scheduled", highlight=False)
    if summary.error_count:
        kinds = ", ".join(f"{n} {t} under {c}" for (c, t), n in sorted(summary.errors.items()))
        console.print(f"  [red]errors:[/] {kinds}; left out of every rate, not counted as failures\n"
                      f"  first: {summary.first_error}\n  tracebacks: episodes.traceback in {summary.store}",
                      highlight=False)
    return summary


class _Meter:
    def __init__(self) -> None:
        self.start: tuple[float, int] | None = None
        self.last_committed = -1
        self.usage = ""

    def rate(self, done: int) -> str:
        now = time.perf_counter()
        if self.start is None:
            self.start = (now, done)
        t0, d0 = self.start
        return f"{(done - d0) / (now - t0):.1f}" if now > t0 and done > d0 else "-"
