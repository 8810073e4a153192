"""Cells of notebook 07 (skill study, sensitivity, calibration), in make_notebooks.py's
(kind, source[, tags]) format."""

NAME = "07_skill_and_calibration"

_SETUP = '''import os
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

import harness
from harness.paper.runs import latest_of
from harness.store import reader

# Paths are relative to the project root, wherever the notebook is opened from.
ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
DB = str(ROOT / db) if not os.path.isabs(db) else db


def run_of(path, experiment, given, overrides):
    """The given run, else the latest ``experiment`` run in ``path``, else (``run_if_missing``)
    a small one made in a sibling store, never inside someone else's."""
    if given:
        return path, given
    found = latest_of(path, (experiment,)) if Path(path).exists() else None
    if found:
        return path, found
    sibling = str(Path(path).with_name(f"{Path(path).stem}_{experiment}.duckdb"))
    found = latest_of(sibling, (experiment,)) if Path(sibling).exists() else None
    if found is None:
        assert run_if_missing, f"no {experiment} run in {path}: run `harness run experiment={experiment}` first"
        found = harness.run(experiment, [f"workload.limit={limit}", "repeats=1", f"executor.workers={workers}",
                                         f"store.path={sibling}", *overrides]).id
    return sibling, found'''

_SKILL = '''from harness.analysis.report import arm_estimates_for
from harness.analysis.skill import skill_tables

skill_db, skill_run = run_of(DB, "skill_study", skill_run, [])
skill = skill_tables(arm_estimates_for(skill_db, skill_run, resamples=resamples))
info = reader.run_info(skill_db, skill_run)
print(f"{skill_run}: {info['episodes_done']} episodes, {info['config']['repeats']} repeat(s)")


def pp(r):
    return f"{100 * r.estimate:+.1f} [{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}]"


overall = skill.levels[skill.levels.category == "all"]
table = overall.assign(value=[pp(r) if q not in ("I_human", "I_opt") else
                              f"{100 * r.estimate:.1f} [{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}]"
                              for q, r in zip(overall.quantity, overall.itertuples())])
table.pivot(index="level", columns="quantity", values="value")'''

_SKILL_FIG = '''from harness.paper.arm_section import skill_figure
from harness.paper.style import style

with style():
    fig = skill_figure(skill)
display(fig)'''

_SKILL_SUMMARY = '''rows = []
for frame, label in ((skill.slopes, "quantity"), (skill.split, "part")):
    for r in frame[frame.category == "all"].itertuples():
        rows.append({"what": f"{label}: {getattr(r, label)}", "pp [95% CI]": pp(r)})
procs = skill.processes[skill.processes.category == "all"]
for r in procs.itertuples():
    value = pp(r) if r.quantity != "share" else f"{100 * r.estimate:.0f}% [{100 * r.ci_low:.0f}, {100 * r.ci_high:.0f}]"
    rows.append({"what": f"{r.process} off: {r.quantity}", "pp [95% CI]": value})
pd.DataFrame(rows)'''

_SENS = '''from harness.analysis.report import config_of, sensitivity_design
from harness.analysis.sensitivity import sensitivity_table
from harness.paper.arm_section import sensitivity_tornado_figure

SENS_DB = str(ROOT / sensitivity_db) if sensitivity_db and not os.path.isabs(sensitivity_db) else (sensitivity_db or DB)
sens_db, sens_run = run_of(SENS_DB, "sensitivity", sensitivity_run, [])
design = sensitivity_design(config_of(reader.run_info(sens_db, sens_run)))
frame = sensitivity_table(arm_estimates_for(sens_db, sens_run, resamples=resamples), design)
with style():
    fig = sensitivity_tornado_figure(frame)
display(fig)
frame'''

_CALIB = '''import subprocess
import sys

from harness.paper.calibration import ANALYSIS, calibration_table
from harness.paper.claims import load_claims


def calibration_run(path):
    """The latest ``harness calibrate`` design run in ``path`` that holds a calibration."""
    if not Path(path).exists():
        return None
    runs = reader.list_runs(path)
    for run_id in runs.id[runs.experiment == "calibration_design"].tolist()[::-1]:
        if not reader.estimates(path, run_id, analysis=ANALYSIS).empty:
            return run_id
    return None


cal_db = str(ROOT / calibration_db) if calibration_db and not os.path.isabs(calibration_db) else (calibration_db or DB)
cal_run = calibration_run(cal_db)
if cal_run is None:
    sibling = str(Path(cal_db).with_name(f"{Path(cal_db).stem}_calibration.duckdb"))
    cal_run = calibration_run(sibling)
    if cal_run is None:
        assert run_if_missing, f"no calibration in {cal_db}: run `harness calibrate --store {cal_db}` first"
        # a tiny calibration without the checking runs, in a sibling store (the real one: ~15 min on 2 cores)
        subprocess.run([sys.executable, "-m", "harness.cli.main", "calibrate", "--store", sibling, "--tasks",
                        str(limit), "--design", "4", "--resamples", "20", "--no-verify", "--workers", str(workers),
                        "--out", str(Path(sibling).with_suffix(".profile.yaml"))], check=True)
        cal_run = calibration_run(sibling)
    cal_db = sibling
table = calibration_table(reader.estimates(cal_db, cal_run), load_claims())
print(f"calibration stored with design run {cal_run} in {cal_db}")
frame = pd.DataFrame(table.rows, columns=table.header)
frame'''

_CALIB_SUMMARY = '''checked = frame[frame["in CI"].isin(["yes", "no"]) & ~frame.quantity.str.endswith("(surrogate)")]
inside = int((checked["in CI"] == "yes").sum())
print(f"{inside} of {len(checked)} published numbers lie inside the 95% CI measured at the fitted profile")
checked[checked["in CI"] == "no"]'''

CELLS = [
    ("md", "# Does a better agent close the gap? Skill, sensitivity and calibration\n\n"
           "Three studies of issue 22, each read from the estimates the analysis stored. **Skill**: the 2^3 gap "
           "factorial crossed with the reference agent's `error_scale` (0 = a perfect agent) and with each error "
           "process switched off alone, in one paired run (`harness run experiment=skill_study`). **Sensitivity**: "
           "I_human and I_opt with each world setting that has no published value at both ends of its documented "
           "range (`experiment=sensitivity`). **Calibration**: the error rates that bring the reference agent "
           "closest to the report's Table 2, and what that profile predicts for the report's other numbers "
           "(`harness calibrate`). Every interval is a 95% task-clustered, category-stratified bootstrap CI."),
    ("code", 'db = "results/harness.duckdb"  # the results store (relative to the project root)\n'
             'skill_run = None  # default: the latest skill_study run\n'
             'sensitivity_run = None  # default: the latest sensitivity run\n'
             'run_if_missing = True  # no such run in the store: make a small one in a sibling store\n'
             'sensitivity_db = None  # default: db\n'
             'calibration_db = None  # default: db\n'
             'limit = 8  # tasks of that small run\nworkers = 2\nresamples = 10000', ["parameters"]),
    ("code", _SETUP),
    ("md", "## The gap at each skill level\n\nI_human is the factorial cell with every component at 0, I_opt the "
           "cell with every component at 1; the components are the exact Shapley split of the gap (they add up to "
           "it in every bootstrap resample)."),
    ("code", _SKILL),
    ("code", _SKILL_FIG),
    ("md", "Slopes are OLS over the levels (pp per unit of `error_scale`). *Structural* is the gap a perfect agent "
           "still meets; *error-driven* is the rest at the profile as written. A process's *contribution* is the gap "
           "at scale 1 minus the gap with that process off; its *share* is that over the error-driven part (shares "
           "need not add to 100%: processes interact)."),
    ("code", _SKILL_SUMMARY),
    ("md", "## Sensitivity: one unpublished setting at a time\n\nEach bar runs from the gap at the low end of the "
           "setting's range to the gap at the high end (labels: the setting's values); the dotted line is the gap "
           "with every setting as configured. Ranges and their sources: `configs/experiment/sensitivity.yaml`."),
    ("code", _SENS),
    ("md", "## Calibration: can any profile reproduce the report's Table 2?\n\n`harness calibrate` fits the "
           "reference agent's five error rates (and nothing else) to the report's per-category completion under "
           "I_opt and I_human (read from `paper/claims.yaml`), through surrogates over a seeded Sobol design run, "
           "with a task bootstrap for the rates' CIs; then it runs table2 and table4 at the fitted profile and puts "
           "what they measure beside every published number. A rate whose CI spans most of its range is not "
           "identified by the targets. The fitted profile goes to a file no config reads."),
    ("code", _CALIB),
    ("code", _CALIB_SUMMARY),
]
