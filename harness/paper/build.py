"""``harness paper``: the report's tables and figures regenerated from the results store.

It reads stored estimates (computing and storing them first when a run has none, with
``harness.analysis.report`` as ``harness report`` does: one way numbers are made), writes
``paper/tables/*.{tex,md}`` and ``paper/figures/*.{pdf,png}``, and a ``paper/main.tex``
reproduction report whose methods section comes from the runs' stored configs. Where a
LaTeX toolchain exists it builds ``paper/main.pdf``; where none does, it says so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.analysis.cost_model import CostModel, load_cost_model
from harness.analysis.report import estimates_for
from harness.analysis.report_tables import drivers
from harness.analysis.validity import analysable
from harness.core.errors import UserInputError
from harness.paper import figures
from harness.paper.arm_section import SENSITIVITY_EXPERIMENTS, SKILL_EXPERIMENTS, build_arms
from harness.paper.captions import RunFacts, caption_tex
from harness.paper.claims import Claims, load_claims
from harness.paper.cost_section import build_cost, cost_runs
from harness.paper.methods import methods_tex
from harness.paper.runs import latest_of, pick_run
from harness.paper.scenario_section import build_scenarios
from harness.paper.tables import PaperTable, decomposition, pass_k, table2
from harness.store import reader

# The experiments whose runs can produce Table 2 and its decomposition, best first.
TABLE2_EXPERIMENTS = ("table2", "factorial_smoke", "native_vs_human", "smoke")


@dataclass
class Built:
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pdf: Path | None = None
    made_from: dict[str, str] = field(default_factory=dict)  # figure stem -> the run it was drawn from

    def add(self, files: list[Path], run_id: str | None) -> None:
        self.files += files
        for p in files:
            if run_id is not None and p.parent.name == "figures":
                self.made_from[p.stem] = run_id


def choose_table2_run(db: str, runs: list[str]) -> str:
    """The run to reproduce Table 2 from: the one given, or the latest of the table2-like
    experiments. A run that has no compared pair cannot make Table 2: say which can."""
    listing = reader.list_runs(db)
    usable = listing[listing.experiment.isin(TABLE2_EXPERIMENTS)]
    if runs:
        run_id = runs[0]
        info = reader.run_info(db, run_id)  # an unknown id: StoreError naming the known runs
        if info.get("experiment") not in TABLE2_EXPERIMENTS:
            shown = ", ".join(f"{r.id} ({r.experiment})" for r in usable.itertuples()) or "none"
            raise UserInputError(f"run {run_id} (experiment {info.get('experiment')}) cannot make Table 2; "
                                 f"runs in {db} that can: {shown}",
                                 hint=f"Table 2 comes from the experiments {', '.join(TABLE2_EXPERIMENTS)}")
        return run_id
    latest = latest_of(db, TABLE2_EXPERIMENTS)
    if latest is not None:
        return latest
    shown = ", ".join(f"{r.id} ({r.experiment})" for r in listing.itertuples()) or "none"
    raise UserInputError(f"no run in {db} can make Table 2 (runs: {shown})",
                         hint="run `harness run experiment=table2` (or experiment=smoke for a quick one)")


def choose_table3_run(db: str, runs: list[str]) -> str | None:
    """A table3 run given on the command line, else the store's latest, else none."""
    return pick_run(db, runs, ("table3",))


SCENARIO_EXPERIMENTS = ("table4", "table1")  # Table 1 / Table 4 / Figure 3, best first
ROLLOUT_EXPERIMENTS = ("phases",)  # the ROI part (harness.paper.cost_section)
CALIBRATION_EXPERIMENTS = ("calibration_design",)  # `harness calibrate`'s design runs hold its estimates


def build(db: str, runs: list[str], out: Path, *, latex: bool = True, cost_model: CostModel | None = None) -> Built:
    """Every part the store's runs can make: Table 2 and its decomposition (a table2-like
    run), Table 3 (table3), Table 1 / Table 4 / Figure 3 (table1 or table4), TCO and the
    ROI roll-out (priced by configs/cost/). Given runs are sorted to their parts by their
    experiment; a given run no part can use is an error that names the runs that can."""
    claims, cost_model = load_claims(), cost_model or load_cost_model()
    kinds = {r: reader.run_info(db, r).get("experiment") for r in runs}
    table3_run = choose_table3_run(db, runs)
    scenario_run = pick_run(db, runs, SCENARIO_EXPERIMENTS)
    rollout_run = pick_run(db, runs, ROLLOUT_EXPERIMENTS)
    arm_runs = [r for r in (latest_of(db, SKILL_EXPERIMENTS), latest_of(db, SENSITIVITY_EXPERIMENTS)) if r]
    rest = [r for r in runs if kinds[r] not in (*SCENARIO_EXPERIMENTS, *ROLLOUT_EXPERIMENTS, "table3",
                                                 *SKILL_EXPERIMENTS, *SENSITIVITY_EXPERIMENTS,
                                                 *CALIBRATION_EXPERIMENTS)]
    built, main_run = Built(), None
    calibration_run = _calibration_run(db, runs)
    others = (table3_run, scenario_run, rollout_run, calibration_run, *arm_runs)
    if rest or _has_table2_run(db) or all(r is None for r in others):
        main_run = choose_table2_run(db, rest)  # with nothing usable: the error naming what is
        built.add(_table2_parts(db, main_run, claims, out, built), main_run)
    if table3_run is not None:
        built.add(_table3(db, table3_run, claims, out / "tables"), table3_run)
    if scenario_run is not None:
        estimates_for(db, scenario_run, cost_model=cost_model)  # stored first: the tables read the report's numbers
        built.add(build_scenarios(db, scenario_run, out, claims), scenario_run)
    cost_files = build_cost(db, runs, out, claims, model=cost_model)
    tco_run, roi_run = cost_runs(db, runs, cost_model)
    built.add([p for p in cost_files if not p.stem.startswith("fig_roi")], tco_run)
    built.add([p for p in cost_files if p.stem.startswith("fig_roi")], roi_run)
    arms = build_arms(db, out)
    for stem_run in sorted(set(arms.runs.values())):
        built.add([p for p in arms.files if arms.runs[p.stem] == stem_run], stem_run)
    built.notes += arms.notes
    built.add(_calibration(db, calibration_run, claims, out / "tables", built), None)
    first = main_run or scenario_run or table3_run or rollout_run or calibration_run or (arm_runs or [None])[0]
    return _finish(built, db, first, out, latex,
                   cost_model)


def _table2_parts(db: str, run_id: str, claims: Claims, out: Path, built: Built) -> list[Path]:
    est = estimates_for(db, run_id)
    episodes, _ = analysable(reader.episodes(db, run_id))
    files = _tables(est, claims, out / "tables") + _figures(est, episodes, claims, out / "figures")
    traces, note = _traces(db, run_id, est, episodes, out / "figures")
    if note:
        built.notes.append(note)
    return files + traces


def _calibration_run(db: str, runs: list[str]) -> str | None:
    """The given (else the latest) design run of `harness calibrate` holding a calibration."""
    from harness.paper.calibration import ANALYSIS

    listing = reader.list_runs(db)
    design = listing.id[listing.experiment.isin(CALIBRATION_EXPERIMENTS)].tolist()
    for run_id in [r for r in runs if r in design] + design[::-1]:
        if not reader.estimates(db, run_id, analysis=ANALYSIS).empty:
            return run_id
    return None


def _calibration(db: str, run_id: str | None, claims: Claims, out: Path, built: Built) -> list[Path]:
    """The calibration table; without a calibration, a note, and the rest builds as it would."""
    from harness.paper.calibration import ANALYSIS, calibration_table

    if run_id is None:
        built.notes.append("no calibration in this store: no calibration table (run `harness calibrate`)")
        return []
    table = calibration_table(reader.estimates(db, run_id, analysis=ANALYSIS), claims)
    return table.write(out) if table is not None else []


def _has_table2_run(db: str) -> bool:
    return bool(reader.list_runs(db).experiment.isin(TABLE2_EXPERIMENTS).any())


def _table3(db: str, run_id: str, claims: Claims, out: Path) -> list[Path]:
    from harness.paper.tables import table3

    made = table3(reader.exec_perf(db, run_id), claims)
    return made.write(out) if made is not None else []


def _finish(built: Built, db: str, run_id: str, out: Path, latex: bool, cost_model: CostModel) -> Built:
    main = out / "main.tex"
    facts = {r: RunFacts.of(db, r) for r in set(built.made_from.values())}
    captions = {stem: caption_tex(stem, facts[r]) for stem, r in built.made_from.items()}
    main.write_text(_main_tex(reader.run_info(db, run_id), built.files, out, cost_model, captions))
    built.files.append(main)
    if latex:
        built.pdf, note = _compile(main)
        built.notes.append(note)
    return built


def _tables(est: pd.DataFrame, claims: Claims, out: Path) -> list[Path]:
    made: list[PaperTable | None] = [table2(est, claims, drivers(est)), decomposition(est, claims),
                                     pass_k(est)]
    return [p for t in made if t is not None for p in t.write(out)]


def _figures(est: pd.DataFrame, episodes: pd.DataFrame, claims: Claims, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = figures.completion_by_condition(est, out, claims=_completion_claims(est, claims))
    files += figures.decomposition_waterfall(est, out)
    files += figures.pass_k_curves(est, out)
    gap = est[est.analysis == "gap"]
    if not gap.empty:
        treatment, baseline = gap.conditions.iloc[0].split("|")
        files += figures.per_task_gap_distribution(episodes, treatment, baseline, out)
    return files


def _traces(db: str, run_id: str, est: pd.DataFrame, episodes: pd.DataFrame,
            out: Path) -> tuple[list[Path], str | None]:
    """The observability record of one episode that failed under the baseline, under the
    baseline and under the treatment (the same task and repeat, so the same draws). The
    episode is re-run from the stored config; if the code changed since the run, say so."""
    from harness.experiment.rerun import rerun_episode
    from harness.paper.dag import draw_dag

    gap = est[est.analysis == "gap"]
    if gap.empty:
        return [], None
    treatment, baseline = gap.conditions.iloc[0].split("|")
    failed = episodes[(episodes.condition == baseline) & ~episodes.success].sort_values(["task_id", "repeat"])
    if failed.empty:
        return [], "no episode failed under the baseline: no trace figure"
    ep = failed.iloc[0]
    files: list[Path] = []
    for name, condition in (("fig_trace_baseline", baseline), ("fig_trace_treatment", treatment)):
        try:
            rerun = rerun_episode(db, run_id, condition, ep["task_id"], int(ep["repeat"]))
        except UserInputError as exc:
            return files, f"trace figures skipped: {exc.message}"
        if rerun.record is None:
            continue
        outcome = "success" if rerun.episode.success else "failure"
        files += draw_dag(rerun.record, out / name, f"{condition} · {ep['task_id']} · repeat {ep['repeat']}: {outcome}")
    return files, None


def _completion_claims(est: pd.DataFrame, claims: Claims) -> dict[str, float]:
    """The report's I_human / I_opt rates keyed as the figure wants: "<category>|<condition>"."""
    gap = est[est.analysis == "gap"]
    if gap.empty:
        return {}
    treatment, baseline = gap.conditions.iloc[0].split("|")
    out = {}
    for cat in sorted(set(gap.category)):
        prefix = "section3.overall" if cat == "all" else f"table2.{cat}"
        for cond, key in ((baseline, "i_human"), (treatment, "i_opt")):
            try:
                value = claims.get(f"{prefix}.{key}").value
            except KeyError:
                continue
            if isinstance(value, int | float):
                out[f"{cat}|{cond}"] = float(value)
    return out


def _main_tex(info: dict, files: list[Path], out: Path, cost_model: CostModel, captions: dict[str, str]) -> str:
    tables = sorted(p for p in files if p.suffix == ".tex" and p.parent.name == "tables")
    figs = sorted(p for p in files if p.suffix == ".pdf" and p.parent.name == "figures")
    body = [r"\input{" + str(p.relative_to(out).with_suffix("")) + "}" for p in tables]
    for p in figs:
        body += [r"\begin{figure}[t]\centering", r"\includegraphics[width=\columnwidth]{"
                 + str(p.relative_to(out)) + "}", r"\caption{" + captions[p.stem] + "}",
                 r"\label{fig:" + p.stem.removeprefix("fig_") + "}", r"\end{figure}"]
    config = info.get("config") or {}
    config = json.loads(config) if isinstance(config, str) else config
    return "\n".join([
        r"\documentclass[10pt]{article}", r"\usepackage{booktabs,graphicx,amsmath}", r"\usepackage[margin=1in]{geometry}",
        r"\title{The Case for Agent-Native Infrastructure: a reproduction}", r"\author{harness}", r"\date{}",
        r"\begin{document}", r"\maketitle", methods_tex(info, config), *_cost_methods(files, cost_model),
        r"\section{Results}", *body,
        r"\end{document}", ""])


def _cost_methods(files: list[Path], cost_model: CostModel) -> list[str]:
    """The cost model's every parameter, when a table or figure was priced with it."""
    from harness.paper.cost_section import methods_tex as cost_methods_tex

    priced = any(p.stem in ("tco", "roi", "table1") or p.stem.startswith(("fig_roi", "fig_tco")) for p in files)
    return [cost_methods_tex(cost_model)] if priced else []


def _compile(main: Path) -> tuple[Path | None, str]:
    for tool, args in (("latexmk", ["-pdf", "-interaction=nonstopmode", "-quiet"]),
                       ("tectonic", []), ("pdflatex", ["-interaction=nonstopmode"])):
        exe = shutil.which(tool)
        if exe is None:
            continue
        proc = subprocess.run([exe, *args, main.name], cwd=main.parent, capture_output=True, text=True, timeout=300)
        pdf = main.with_suffix(".pdf")
        if proc.returncode == 0 and pdf.exists():
            return pdf, f"built {pdf} with {tool}"
        return None, f"{tool} failed (exit {proc.returncode}); tables and figures are written"
    return None, "no LaTeX toolchain (latexmk, tectonic or pdflatex) here: main.pdf not built; every table and figure is written"
