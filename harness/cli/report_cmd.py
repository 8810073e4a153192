"""``harness report [RUN]``: every estimate of a stored run, stored beside it and printed.

The estimates are computed once by ``harness.analysis.suite`` and written to the store's
``estimates`` table (replacing earlier ones of the same run), so notebooks and the paper
read the very numbers printed here. ``--format csv|json`` prints that table as one
machine-readable document.
"""

from __future__ import annotations

import json
import math
from enum import StrEnum

import pandas as pd
import typer
from rich.console import Console

from harness.analysis.cost_model import CostModel
from harness.analysis.suite import Analyses, RunPlan, Settings
from harness.analysis.validity import Exclusions, analysable
from harness.cli import render, report_tables
from harness.core.errors import UserInputError
from harness.core.models import EstimateRecord
from harness.store import ResultWriter, reader

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
    info = reader.run_info(db, run_id)
    stored = reader.episodes(db, run_id)
    perf = reader.exec_perf(db, run_id)
    if stored.empty and perf.empty:
        raise UserInputError(f"run {run_id} has no episodes yet", hint="run it with `harness run ...` first")
    episodes, left_out = analysable(stored)
    if left_out.total:
        _say_left_out(left_out)
    if episodes.empty and not stored.empty:
        raise UserInputError(f"run {run_id} has no episode without an agent or harness error to analyse",
                             hint="see the tracebacks: SELECT error, traceback FROM episodes WHERE run_id = ...")
    est = (_estimates(db, run_id, info, episodes, pair, Settings(resamples=resamples, seed=int(info.get("seed") or 0)),
                      store, cost_model) if not episodes.empty else pd.DataFrame())
    order = [c["name"] for c in _config(info).get("conditions", [])]
    if fmt in (Format.csv, Format.json):  # one machine-readable document, never two
        _machine(fmt, run_id, est, perf, report_tables.termination_counts(stored, order))
        return
    tables = []
    if not est.empty:
        tables.append(report_tables.completion(est, order, run_id, int(info.get("repeats") or 0)))
        tables.append(report_tables.terminations(stored, order))
        tables += [t for t in (report_tables.table2(est, report_tables.drivers(est)),) if t is not None]
        tables += report_tables.decomposition(est)
        tables += [t for t in (report_tables.pass_k(est), report_tables.metrics(est)) if t is not None]
        tables += [t for t in (report_tables.table1(est, order), report_tables.scenario_completion(est, order))
                   if t is not None]
        tables += report_tables.table4(est)
        tables += [t for t in (report_tables.roi(est),) if t is not None]
    if not perf.empty:
        tables.append(report_tables.table3(perf))
    {Format.table: render.rich, Format.md: render.markdown, Format.tex: render.latex}[fmt](tables)


def _estimates(db: str, run_id: str, info: dict, episodes: pd.DataFrame, pair: str | None, settings: Settings,
               store: bool, cost_model: CostModel | None) -> pd.DataFrame:
    plan = plan_of(info, episodes, _pair(pair, episodes))
    if plan.missing_cells:
        err.print(f"[yellow]note:[/] no decomposition: factorial cells without episodes: "
                  f"{', '.join(plan.missing_cells)} (resume the run to complete it)", highlight=False)
    records = all_records(db, run_id, info, episodes, plan, settings, cost_model)
    if store:
        with ResultWriter(db) as writer:
            writer.replace_estimates(run_id, records)
    return pd.DataFrame([r.model_dump() for r in records])


def all_records(db: str, run_id: str, info: dict, episodes: pd.DataFrame, plan: RunPlan,
                settings: Settings, cost_model: CostModel | None = None) -> list[EstimateRecord]:
    """Every estimate of a run, the one way numbers are made (report, paper, notebooks):
    the gap analyses, Table 1 / Table 4 for scenario runs, TCO and the roll-out's ROI."""
    episodes, _ = analysable(episodes)  # idempotent: errors never reach an estimate
    try:
        records = Analyses(run_id, episodes, plan, settings).all()
        scenario = scenario_estimates(db, run_id, info, episodes, settings)
        return records + scenario + cost_estimates(db, run_id, info, episodes, settings, scenario=bool(scenario),
                                                   model=cost_model)
    except ValueError as exc:  # an unpaired or incomplete run: say what is missing
        raise UserInputError(f"run {run_id} cannot be analysed: {exc}",
                             hint="finish the run (`harness run` with the same config resumes it)") from None


def _say_left_out(left_out: Exclusions) -> None:
    kinds = ", ".join(f"{n} {term} under {cond}" for (cond, term), n in sorted(left_out.errors.items()))
    unpaired = (f"; {len(left_out.unpaired_tasks)} task(s) lost every episode of some condition and are left "
                f"out of every condition" if left_out.unpaired_tasks else "")
    err.print(f"[yellow]note:[/] {left_out.total} episode(s) ended in an error and are not counted as failures "
              f"or successes ({kinds}){unpaired}; their tracebacks are in episodes.traceback", highlight=False)


def _machine(fmt: Format, run_id: str, est: pd.DataFrame, perf: pd.DataFrame,
             terminations: pd.DataFrame | None = None) -> None:
    from harness.analysis.exec_perf import quantiles

    table3 = quantiles(perf) if not perf.empty else pd.DataFrame()
    if fmt is Format.csv:
        print((est if not est.empty else table3).to_csv(index=False), end="")
        return
    doc = {"run_id": run_id, "estimates": est.to_dict(orient="records"), "table3": table3.to_dict(orient="records"),
           "terminations": [] if terminations is None else terminations.to_dict(orient="records")}
    print(json.dumps(_strict(doc), indent=2, default=float, allow_nan=False))


def _strict(value):
    """Strict JSON: an unbounded ratio (a zero baseline) is the string "inf", not ``Infinity``."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _config(info: dict) -> dict:
    config = info.get("config") or {}
    return json.loads(config) if isinstance(config, str) else config


def _pair(text: str | None, episodes: pd.DataFrame) -> tuple[str, str] | None:
    if text is None:
        return None
    parts = tuple(p.strip() for p in text.split(","))
    unknown = [p for p in parts if p not in set(episodes.condition)]
    if len(parts) != 2 or unknown:
        raise UserInputError(f"--pair wants TREATMENT,BASELINE of this run's conditions, got {text!r}",
                             hint=f"conditions: {', '.join(sorted(set(episodes.condition)))}")
    return parts[0], parts[1]


def plan_of(info: dict, episodes: pd.DataFrame, pair: tuple[str, str] | None = None) -> RunPlan:
    """What to analyse, from the run's stored config: its conditions, the compared pair
    and the factorial (one with cells not yet run gives no decomposition and says so)."""
    config = _config(info)
    present = set(episodes.condition)
    names = tuple(c["name"] for c in config.get("conditions", []) if c["name"] in present) or tuple(sorted(present))
    wanted = pair or config.get("compare") or list(names[:2])
    compare = (wanted[0], wanted[1]) if len(wanted) == 2 and set(wanted) <= present else None
    cells, factors, missing = None, (), ()
    if config.get("factorial"):
        from harness.experiment.factorial import FactorialSpec

        spec = FactorialSpec(**config["factorial"])
        missing = tuple(c for c in spec.cells() if c not in present)
        if not missing:
            cells, factors = spec.cells(), tuple(spec.factors)
    return RunPlan(conditions=names, compare=compare, cells=cells, factors=factors, missing_cells=missing)


def scenario_estimates(db: str, run_id: str, info: dict, episodes: pd.DataFrame,
                       settings: Settings) -> list[EstimateRecord]:
    """Table 1 / Table 4 estimates (``harness.analysis.scenarios``) of a run whose workload
    names deployment scenarios and whose ``compare`` names the native condition first;
    nothing for any other run. Roles come from the stored condition specs."""
    from harness.analysis.scenario_metrics import diagnosis_tasks
    from harness.analysis.scenarios import ScenarioAnalysis, scenario_plan
    from harness.experiment.faults import FaultModel

    config = _config(info)
    families = (config.get("workload") or {}).get("families") or []
    compare = config.get("compare") or []
    if not any(f.get("scenario") for f in families) or not compare:
        return []
    order = [c["name"] for c in config.get("conditions", [])]
    plan = scenario_plan(reader.conditions(db, run_id), compare[0], order)
    faults = FaultModel.parse(config.get("faults"))
    return ScenarioAnalysis(
        run_id, episodes, plan, budgets=incident_budgets(db, run_id, config, diagnosis_tasks(episodes)),
        unrecovered_crash_minutes=faults.human_notice_minutes + faults.restart_minutes,
        resamples=settings.resamples, seed=settings.seed, confidence=settings.confidence).records()


def incident_budgets(db: str, run_id: str, config: dict, task_ids: list[str]) -> dict[str, float]:
    """Time budgets of the incident tasks (undiagnosed incidents are censored at them),
    from the run's workload rebuilt as it was: a task built differently now is an error."""
    from harness.experiment.config import config_dir
    from harness.workload.manifest import read_manifest
    from harness.workload.workloads import WorkloadConfig, generate_from_quotas

    if not task_ids:
        return {}
    workload, wanted = WorkloadConfig(**config["workload"]), set(task_ids)
    if workload.manifest is not None:
        entries, _ = read_manifest(config_dir().parent / workload.manifest)
        specs = [e.generate() for e in entries if e.id in wanted]
    else:
        specs = [s for s in generate_from_quotas(workload) if s.id in wanted]
    stored = reader.tasks(db, run_id).set_index("task_id").spec_hash
    unknown = sorted(wanted - {s.id for s in specs}) + sorted(s.id for s in specs if stored.get(s.id) != s.content_hash())
    if unknown:
        raise UserInputError(f"{len(unknown)} incident task(s) (e.g. {unknown[0]}) are not built as in run {run_id}: "
                             "their time budgets, at which undiagnosed incidents are censored, are unknown",
                             hint="re-run the experiment with this version of the harness")
    return {s.id: s.budget.max_minutes for s in specs}


def cost_estimates(db: str, run_id: str, info: dict, episodes: pd.DataFrame, settings: Settings, *,
                   scenario: bool, model: CostModel | None = None) -> list[EstimateRecord]:
    """TCO per month (Table 1's cost row) for a scenario run, and the roll-out's ROI for a
    run holding the roll-out's conditions, priced by ``configs/cost/default.yaml``."""
    from harness.analysis.cost import tco_estimates
    from harness.analysis.cost_model import load_cost_model
    from harness.analysis.roi import roi_estimates

    model, specs = model or load_cost_model(), reader.conditions(db, run_id)
    records: list[EstimateRecord] = []
    compare = _config(info).get("compare") or []
    if scenario and compare:
        records += tco_estimates(episodes, specs, model, seed=settings.seed, resamples=settings.resamples,
                                 treatment=compare[0])
    rollout = {model.rollout.baseline, *(p.condition for p in model.rollout.phases)}
    if rollout <= set(episodes.condition):
        records += roi_estimates(episodes, specs, model, seed=settings.seed, resamples=settings.resamples)
    return records
