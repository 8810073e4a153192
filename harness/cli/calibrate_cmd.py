"""``harness calibrate``: fit the reference agent's error rates (and nothing else) to the
report's Table 2, and see what the fitted profile predicts for the report's other numbers.

A consistency test, not a way to make results: the fitted profile is written to a file
(default ``results/calibration/fitted_profile.yaml``) that no config reads; a later run
uses it only when asked (``harness run --agent-profile FILE ...``). Steps, each timed:
the design run (K Sobol profiles x {I_opt, I_human}, stored and resumable), the fit (one
surrogate per target cell, a weighted least-squares fit, a task bootstrap of both:
``harness.analysis.calibration``), and the verification runs at the fitted profile
(table2 and table4, each under its own experiment name). Everything checked first: a bad
target or output path exits 2 with nothing run or stored.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.agents.profile import RATES, AgentProfile
from harness.analysis.calibration import Calibration, Cell, calibrate, design_from_frame
from harness.cli import calibrate_runs as runs
from harness.core.errors import UserInputError
from harness.paper.calibration import (
    Measured,
    comparison,
    default_targets,
    records,
    scenario_measured,
    table2_measured,
    targets,
)
from harness.paper.claims import load_claims
from harness.store import ResultWriter

console = Console(stderr=True)
DEFAULT_OUT = Path("results/calibration/fitted_profile.yaml")
UPPER = 0.5  # no rate above one decision in two: beyond that no agent is worth calibrating


def calibrate_cmd(
    target: list[str] = typer.Option(None, "--target", help="a target claim id (repeatable); default the eight "
                                     "table2.<category>.i_human / .i_opt"),
    store: str = typer.Option("results/harness.duckdb", "--store", help="results store (design and check runs)"),
    design: int = typer.Option(32, "--design", min=2, help="K design profiles (Sobol) besides the reference"),
    tasks: int = typer.Option(None, "--tasks", min=1, help="limit the workloads to N tasks (stratified; tests)"),
    resamples: int = typer.Option(200, "--resamples", min=1, help="task-bootstrap resamples of the fit"),
    upper: float = typer.Option(UPPER, "--upper", min=0.01, max=1.0, help="upper bound of every fitted rate"),
    seed: int = typer.Option(0, "--seed", help="seed of the design, the starts and the bootstrap"),
    repeats: int = typer.Option(1, "--repeats", min=1, help="repeats of the verification runs"),
    verify: bool = typer.Option(True, "--verify/--no-verify", help="run table2 and table4 at the fitted profile"),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="where the fitted profile is written (never configs/)"),
    workers: int = typer.Option(2, "--workers", min=1, help="episode worker processes"),
) -> None:
    claims = load_claims()
    cells = targets(list(target or default_targets()), claims)
    if runs.inside_configs(out):
        raise UserInputError(f"--out {out} is inside configs/: a fitted profile is never a default config",
                             hint=f"write it elsewhere, e.g. {DEFAULT_OUT}")
    opts = runs.Options(store, workers, tasks, progress=True)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    design_id = runs.run(runs.design_config(opts, design, upper, seed))
    times["design_run_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    data = runs.design_data(store, design_id)
    cells = _present(cells, set(data.frame.category))
    cal = _fit(data, cells, upper, resamples, seed)
    times["fit_bootstrap_s"] = time.perf_counter() - t0
    measured: Measured = {}
    verify_runs: dict[str, str] = {}
    if verify:
        t0 = time.perf_counter()
        for experiment, pick in (("table2", table2_measured), ("table4", scenario_measured)):
            run_id, est = runs.verify(opts, experiment, cal.fit.rates, repeats, resamples=2000)
            verify_runs[experiment] = run_id
            measured.update(pick(est))
        times["verify_s"] = time.perf_counter() - t0
    with ResultWriter(store) as writer:
        writer.replace_estimates(design_id, records(design_id, cal, cells, data.tasks, measured))
    _write_profile(out, cal, cells, design_id, verify_runs, times, store)
    _print(cal, cells, measured, claims, times, design_id, out)


def _present(cells: list[Cell], categories: set[str]) -> list[Cell]:
    kept = [c for c in cells if c.category in categories]
    if not kept:
        raise UserInputError(f"no target's category has tasks in the design run (categories: {sorted(categories)})")
    for c in cells:
        if c not in kept:
            console.print(f"[yellow]note:[/] target {c.key} left out: no {c.category} task in the design run")
    return kept


def _fit(data: runs.DesignData, cells: list[Cell], upper: float, resamples: int, seed: int) -> Calibration:
    design, resample = design_from_frame(data.frame, data.points, RATES, upper, data.repeats, resamples, seed)
    with Progress(TextColumn("[bold]fit + bootstrap"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, disable=not console.is_terminal) as progress:
        bar = progress.add_task("bootstrap", total=resamples)
        return calibrate(design, cells, resample, resamples, seed, reference=data.reference,
                         progress=lambda b: progress.update(bar, completed=b))


def fitted_profile(cal: Calibration) -> dict:
    """The agent profile: the fitted rates over the reference agent's other keys."""
    from harness.experiment.config import compose_config

    reference = compose_config([])["agent"]["profile"]
    return AgentProfile(**{**reference, **cal.fit.rates}).model_dump()


def _write_profile(out: Path, cal: Calibration, cells: list[Cell], design_id: str, verify_runs: dict[str, str],
                   times: dict[str, float], store: str) -> None:
    doc = {
        "profile": fitted_profile(cal),
        "calibration": {
            "note": "fitted by `harness calibrate`; no config reads this file. Use: harness run --agent-profile FILE",
            "targets": [c.key for c in cells], "store": store, "design_run": design_id,
            "verification_runs": verify_runs, "upper_bound": cal.upper, "seed": cal.seed,
            "resamples": cal.resamples, "confidence": cal.confidence, "objective": cal.fit.objective,
            "ci": {r: {"low": i.low, "high": i.high, "identified": i.identified} for r, i in cal.intervals.items()},
            "surrogate_residuals": {c.key: c.target - cal.fit.predicted[c.key] for c in cells},
            "surrogate_holdout_rmse": cal.holdout.rmse, "binomial_noise": cal.holdout.noise,
            "seconds": {k: round(v, 1) for k, v in times.items()},
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(doc, sort_keys=False))


def _print(cal: Calibration, cells: list[Cell], measured: Measured, claims, times: dict[str, float],
           design_id: str, out: Path) -> None:
    out_console = Console()
    rates = Table(title=f"fitted error rates (design run {design_id}; {cal.resamples} task-bootstrap resamples)")
    for col in ("rate", "fitted", "95% CI", "identified"):
        rates.add_column(col)
    for r, v in cal.fit.rates.items():
        ci = cal.intervals[r]
        rates.add_row(r, f"{v:.4f}", f"[{ci.low:.4f}, {ci.high:.4f}]",
                      "yes" if ci.identified else "not identified by these targets")
    out_console.print(rates)
    res = Table(title="residuals per target (pp): target - surrogate, target - measured at the fitted profile")
    for col in ("target", "report", "surrogate", "resid.", "holdout RMSE (noise)", "measured [CI]", "resid."):
        res.add_column(col)
    for c in cells:
        got = measured.get(c.key)
        res.add_row(c.key, f"{100 * c.target:.1f}", f"{100 * cal.fit.predicted[c.key]:.1f}",
                    f"{100 * (c.target - cal.fit.predicted[c.key]):+.1f}",
                    f"{100 * cal.holdout.rmse[c.key]:.1f} ({100 * cal.holdout.noise[c.key]:.1f})",
                    "—" if got is None else f"{got[0]:.1f} [{got[1]:.1f}, {got[2]:.1f}]",
                    "—" if got is None else f"{100 * c.target - got[0]:+.1f}")
    out_console.print(res)
    if measured:
        pred = Table(title="what the fitted profile predicts, beside the report")
        for col in ("claim", "measured [95% CI]", "report", "in CI"):
            pred.add_column(col)
        rows = comparison(measured, claims)
        for row in rows:
            pred.add_row(*row)
        out_console.print(pred)
        inside = sum(r[3] == "yes" for r in rows)
        out_console.print(f"{inside}/{len(rows)} published numbers inside the 95% CI at the fitted profile")
    out_console.print(f"objective {cal.fit.objective:.2f} (weighted squared distance; one unit = one binomial SE); "
                      + ", ".join(f"{k} {v:.0f}" for k, v in times.items()) + f"\nfitted profile -> {out}")
