"""What a report of one stored run holds, and the one way its estimates are made.

``harness report`` (``build_report``), the paper (``estimates_for``) and the notebooks all
come here: the episodes are read from the store, errors are left out (``validity``), every
analysis of ``suite`` runs (plus Table 1 / Table 4 for scenario runs, TCO and the
roll-out's ROI priced by the cost model), and the estimates are written to the store's
``estimates`` table (replacing earlier ones of the same run), so every reader sees the
same numbers. Nothing here prints: what the reader should know about the data (episodes
left out, a factorial not yet complete) is handed to a ``note`` callback as plain text.

The run's stored config is read back with the experiment's own schemas (the factorial,
the fault model) and its workload is rebuilt to find incident budgets: those imports are
deferred to the runs that need them (experiment precedes analysis in the import order).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from harness.analysis.completeness import incomplete_note
from harness.analysis.cost_model import CostModel
from harness.analysis.report_tables import Display, report_tables, termination_counts
from harness.analysis.suite import Analyses, RunPlan, Settings
from harness.analysis.validity import Exclusions, analysable
from harness.core.errors import StoreBusyError, UserInputError
from harness.core.models import EstimateRecord
from harness.store import ResultWriter, reader

Note = Callable[[str], None]
SCENARIO_ANALYSES = ("table1", "table1_ratio", "table4")  # what ``scenario_estimates`` stores
ARM_ANALYSES = ("skill", "sensitivity")  # what ``arm_estimates`` stores


def _ignore(_: str) -> None:
    return None


@dataclass(frozen=True)
class RunReport:
    """One run's report as data: its estimates (empty when no episode can be analysed),
    every stored episode (errors included: how episodes ended) and its execution figures."""

    run_id: str
    info: dict
    episodes: pd.DataFrame  # every stored episode, errors included
    perf: pd.DataFrame
    estimates: pd.DataFrame
    order: list[str]  # the run's conditions as configured

    def tables(self) -> list[Display]:
        if config_of(self.info).get("arms"):  # one row per <condition>@<arm> would be hundreds
            from harness.analysis.arm_tables import arm_report_tables

            config = config_of(self.info)
            sensitivity = sensitivity_design(config) if (config["arms"].get("settings") and
                                                         len(config.get("compare") or []) == 2) else None
            return arm_report_tables(self.estimates, self.episodes, self.perf, sensitivity, self.run_id,
                                     int(self.info.get("repeats") or 0))
        return report_tables(self.estimates, self.episodes, self.perf, self.order, self.run_id,
                             int(self.info.get("repeats") or 0))

    def incomplete(self) -> str | None:
        """The line saying the run is incomplete (stopped, running, fewer stored than
        planned), or None."""
        return incomplete_note(self.info)

    def table3(self) -> pd.DataFrame:
        from harness.analysis.exec_perf import quantiles

        return quantiles(self.perf) if not self.perf.empty else pd.DataFrame()

    def flat(self) -> pd.DataFrame:
        """One machine-readable table (CSV): the estimates, else Table 3's quantiles."""
        return self.estimates if not self.estimates.empty else self.table3()

    def document(self) -> dict:
        """One machine-readable document (strict JSON: no NaN, no Infinity)."""
        return strict({"run_id": self.run_id, "incomplete": self.incomplete(),
                       "estimates": self.estimates.to_dict(orient="records"),
                       "table3": self.table3().to_dict(orient="records"),
                       "terminations": termination_counts(self.episodes, self.order).to_dict(orient="records")})


def build_report(db: str, run_id: str, *, pair: str | None = None, resamples: int = 10_000, store: bool = True,
                 cost_model: CostModel | None = None, note: Note = _ignore) -> RunReport:
    """The report of ``run_id``: every estimate computed (and stored, with ``store``).
    ``pair`` ("TREATMENT,BASELINE") overrides the run's compared pair."""
    info = reader.run_info(db, run_id)
    stored = reader.episodes(db, run_id)
    perf = reader.exec_perf(db, run_id)
    if stored.empty and perf.empty:
        raise UserInputError(f"run {run_id} has no episodes yet", hint="run it with `harness run ...` first")
    episodes, left_out = analysable(stored)
    if left_out.total:
        note(left_out_text(left_out))
    if episodes.empty and not stored.empty:
        raise UserInputError(f"run {run_id} has no episode without an agent or harness error to analyse",
                             hint="see the tracebacks: SELECT error, traceback FROM episodes WHERE run_id = ...")
    est = pd.DataFrame()
    if not episodes.empty:
        plan = plan_of(info, episodes, parse_pair(pair, episodes))
        if plan.missing_cells:
            note(f"no decomposition: factorial cells without episodes: {', '.join(plan.missing_cells)} "
                 "(resume the run to complete it)")
        settings = Settings(resamples=resamples, seed=int(info.get("seed") or 0))
        est = _frame(_kept(db, run_id, all_records(db, run_id, info, episodes, plan, settings, cost_model), store,
                           note))
    return RunReport(run_id, info, stored, perf, est, condition_order(info))


def estimates_for(db: str, run_id: str, resamples: int = 10_000, cost_model: CostModel | None = None) -> pd.DataFrame:
    """The run's stored estimates; computed the way ``harness report`` does and stored
    first when there are none."""
    stored = reader.estimates(db, run_id)
    if not stored.empty:
        return stored
    info, episodes = reader.run_info(db, run_id), reader.episodes(db, run_id)
    if episodes.empty:
        raise UserInputError(f"run {run_id} has no episodes", hint="run it first with `harness run ...`")
    records = all_records(db, run_id, info, episodes, plan_of(info, episodes),
                          Settings(resamples, int(info.get("seed") or 0)), cost_model)
    return _frame(_kept(db, run_id, records, True))


def scenario_estimates_for(db: str, run_id: str) -> pd.DataFrame:
    """The run's stored estimates when they hold scenario ones; else its scenario estimates
    computed the way ``harness report`` does, stored, and added to the stored ones."""
    return _stored_or_made(db, run_id, SCENARIO_ANALYSES, lambda info, episodes: scenario_estimates(
        db, run_id, info, episodes, Settings(seed=int(info.get("seed") or 0))))


def arm_estimates_for(db: str, run_id: str, resamples: int = 10_000) -> pd.DataFrame:
    """The run's stored estimates when they hold its skill / sensitivity ones; else those
    computed the way ``harness report`` does, stored, and added to the stored ones."""
    def make(info: dict, episodes: pd.DataFrame) -> list[EstimateRecord]:
        if episodes.empty:
            raise UserInputError(f"run {run_id} has no analysable episodes", hint="run it first with `harness run ...`")
        return arm_estimates(run_id, info, episodes, Settings(resamples, int(info.get("seed") or 0)))

    return _stored_or_made(db, run_id, ARM_ANALYSES, make)


def _stored_or_made(db: str, run_id: str, analyses, make) -> pd.DataFrame:
    """Stored estimates that already hold one of ``analyses``; else ``make(info, episodes)``'s
    records, stored and added to them (one way numbers are made, once)."""
    stored = reader.estimates(db, run_id)
    if stored.analysis.isin(analyses).any():
        return stored
    info = reader.run_info(db, run_id)
    episodes, _ = analysable(reader.episodes(db, run_id))
    records = make(info, episodes)
    _kept(db, run_id, records, bool(records))
    return pd.concat([stored, _frame(records)], ignore_index=True)


def _kept(db: str, run_id: str, records: list[EstimateRecord], store: bool,
          note: Note = _ignore) -> list[EstimateRecord]:
    if store:
        try:
            with ResultWriter(db) as writer:
                writer.replace_estimates(run_id, records)
        except StoreBusyError:  # a run is writing the store: report what is there, keep nothing
            note(f"estimates not stored: a running experiment is writing {db} (they would describe a partial "
                 "run); run `harness report` again when it has finished")
    return records


def _frame(records: list[EstimateRecord]) -> pd.DataFrame:
    return pd.DataFrame([r.model_dump() for r in records])


def all_records(db: str, run_id: str, info: dict, episodes: pd.DataFrame, plan: RunPlan,
                settings: Settings, cost_model: CostModel | None = None) -> list[EstimateRecord]:
    """Every estimate of a run, the one way numbers are made (report, paper, notebooks):
    the gap analyses, Table 1 / Table 4 for scenario runs, TCO and the roll-out's ROI."""
    episodes, _ = analysable(episodes)  # idempotent: errors never reach an estimate
    try:
        records = Analyses(run_id, episodes, plan, settings).all() + arm_estimates(run_id, info, episodes, settings)
        scenario = scenario_estimates(db, run_id, info, episodes, settings)
        return records + scenario + cost_estimates(db, run_id, info, episodes, settings, scenario=bool(scenario),
                                                   model=cost_model)
    except ValueError as exc:  # an unpaired or incomplete run: say what is missing
        raise UserInputError(f"run {run_id} cannot be analysed: {exc}",
                             hint="finish the run (`harness run` with the same config resumes it)") from None


def left_out_text(left_out: Exclusions) -> str:
    """What was left out of every rate, and why (a note for the reader)."""
    kinds = ", ".join(f"{n} {term} under {cond}" for (cond, term), n in sorted(left_out.errors.items()))
    unpaired = (f"; {len(left_out.unpaired_tasks)} task(s) lost every episode of some condition and are left "
                f"out of every condition" if left_out.unpaired_tasks else "")
    return (f"{left_out.total} episode(s) ended in an error and are not counted as failures "
            f"or successes ({kinds}){unpaired}; their tracebacks are in episodes.traceback")


def strict(value):
    """Strict JSON: an unbounded ratio (a zero baseline) is the string "inf", not ``Infinity``."""
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strict(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def config_of(info: dict) -> dict:
    """The run's stored config (stored as JSON text or already parsed)."""
    config = info.get("config") or {}
    return json.loads(config) if isinstance(config, str) else config


def condition_order(info: dict) -> list[str]:
    return [c["name"] for c in config_of(info).get("conditions", [])]


def parse_pair(text: str | None, episodes: pd.DataFrame) -> tuple[str, str] | None:
    """"TREATMENT,BASELINE", two of the run's conditions (the user's ``--pair``)."""
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
    config = config_of(info)
    present = set(episodes.condition)
    names = tuple(c["name"] for c in config.get("conditions", []) if c["name"] in present) or tuple(sorted(present))
    wanted = pair or config.get("compare") or list(names[:2])
    compare = (wanted[0], wanted[1]) if len(wanted) == 2 and set(wanted) <= present else None
    cells, factors, missing = None, (), ()
    # With arms the cells are stored as <cell>@<arm>: the skill analysis decomposes per arm.
    if config.get("factorial") and not config.get("arms"):
        from harness.experiment.factorial import (
            FactorialSpec,  # the stored factorial, read with its schema
        )

        spec = FactorialSpec(**config["factorial"])
        missing = tuple(c for c in spec.cells() if c not in present)
        if not missing:
            cells, factors = spec.cells(), tuple(spec.factors)
    return RunPlan(conditions=names, compare=compare, cells=cells, factors=factors, missing_cells=missing)


def arm_estimates(run_id: str, info: dict, episodes: pd.DataFrame, settings: Settings) -> list[EstimateRecord]:
    """The skill study's (``harness.analysis.skill``) or the sensitivity study's
    (``harness.analysis.sensitivity``) estimates of a run with such arms; else nothing."""
    config = config_of(info)
    arms = config.get("arms") or {}
    if arms.get("skill_levels") and config.get("factorial"):
        from harness.analysis.skill import skill_records

        return skill_records(run_id, skill_design(config), episodes, resamples=settings.resamples, seed=settings.seed)
    if arms.get("settings"):
        from harness.analysis.sensitivity import sensitivity_records

        return sensitivity_records(run_id, sensitivity_design(config), episodes, resamples=settings.resamples,
                                   seed=settings.seed)
    return []


def skill_design(config: dict):
    """The skill study's design (``harness.analysis.skill.SkillDesign``) of a stored config,
    its arms named by ``ArmsSpec``; a run without skill levels or factorial is the user's
    mistake (a one-line message)."""
    from harness.experiment.arms import (  # the stored arms, read with their schema
        SEPARATOR,
        ArmsSpec,
    )
    from harness.experiment.factorial import FactorialSpec

    if not (config.get("arms") or {}).get("skill_levels") or not config.get("factorial"):
        raise UserInputError("not a skill study: the run has no arms.skill_levels or no factorial",
                             hint="run `harness run experiment=skill_study`")
    from harness.analysis.skill import SkillDesign

    spec, fact = ArmsSpec(**config["arms"]), FactorialSpec(**config["factorial"])
    level_arms, processes = spec.level_arms(), spec.process_arms()
    order = tuple(fact.cells())  # standard order: all 0 first, all 1 last
    crossed = [c for c in order if spec.process_conditions is None or c in spec.process_conditions]
    ends = (order[0], order[-1])
    process_cells = ends if processes and set(ends) <= set(crossed) else None
    profile = (config.get("agent") or {}).get("profile") or {}
    return SkillDesign(levels=tuple(sorted(level_arms)), level_arms=level_arms, cells=order,
                       factors=tuple(fact.factors), processes=processes if process_cells else {},
                       process_cells=process_cells, process_scale=float(profile.get("error_scale", 1.0)),
                       separator=SEPARATOR)


def sensitivity_design(config: dict):
    """The sensitivity study's design of a stored config. The pair is the run's ``compare``
    (treatment first), read without its arm; the settings' arms are named by ``ArmsSpec``."""
    from harness.analysis.sensitivity import SensitivityDesign, SettingRange
    from harness.experiment.arms import BASE_ARM, SEPARATOR, ArmsSpec, arm_of

    arms_cfg, compare = config.get("arms") or {}, config.get("compare") or []
    if not arms_cfg.get("settings") or len(compare) != 2:
        raise UserInputError("not a sensitivity study: the run has no arms.settings or no compared pair",
                             hint="run `harness run experiment=sensitivity`")
    spec = ArmsSpec(**arms_cfg)
    (treatment, _), (baseline, _) = arm_of(compare[0]), arm_of(compare[1])
    settings = tuple(SettingRange(s.name, {p: (e[0], e[1]) for p, e in s.set.items()}, s.source, spec.setting_arms(s))
                     for s in spec.settings)
    base = BASE_ARM if spec.baseline else None
    return SensitivityDesign(treatment, baseline, base, settings, SEPARATOR)


def scenario_estimates(db: str, run_id: str, info: dict, episodes: pd.DataFrame,
                       settings: Settings) -> list[EstimateRecord]:
    """Table 1 / Table 4 estimates (``harness.analysis.scenario_analysis``) of a run whose
    workload names deployment scenarios and whose ``compare`` names the native condition
    first; nothing for any other run. Roles come from the stored condition specs."""
    from harness.analysis.scenario_analysis import ScenarioAnalysis, scenario_plan
    from harness.analysis.scenario_metrics import diagnosis_tasks
    from harness.experiment.faults import FaultModel  # the stored fault model, read with its schema

    config = config_of(info)
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
    from harness.experiment.config import config_dir  # where a manifest path is relative to
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
    from harness.analysis.cost_model import load_cost_model
    from harness.analysis.roi import roi_estimates
    from harness.analysis.tco import tco_estimates

    model, specs = model or load_cost_model(), reader.conditions(db, run_id)
    records: list[EstimateRecord] = []
    compare = config_of(info).get("compare") or []
    if scenario and compare:
        records += tco_estimates(episodes, specs, model, seed=settings.seed, resamples=settings.resamples,
                                 treatment=compare[0])
    rollout = {model.rollout.baseline, *(p.condition for p in model.rollout.phases)}
    if rollout <= set(episodes.condition):
        records += roi_estimates(episodes, specs, model, seed=settings.seed, resamples=settings.resamples)
    return records
