"""Cells of notebook 05 (Table 1, Table 4, Figure 3), in make_notebooks.py's format:
(kind, source[, tags]). The lead merges them into make_notebooks.py as
``nb(CELLS, NAME)``."""

NAME = "05_scenarios_table1_table4"

_SETUP = '''import os
from pathlib import Path

import pandas as pd
from IPython.display import Image, display

import harness
from harness.store import reader

# Paths are relative to the project root, wherever the notebook is opened from.
ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
DB = str(ROOT / db) if not os.path.isabs(db) else db'''

_PICK = '''def table1_runs(path):
    if not Path(path).exists():
        return pd.DataFrame(columns=["id", "experiment"])
    runs = reader.list_runs(path)
    return runs[runs.experiment.isin(["table1", "table4"])]


if run_id is None and table1_runs(DB).empty:
    # No table1 run in this store: make a small one beside it (never inside someone else's store).
    DB = str(Path(DB).with_name(Path(DB).stem + "_table1.duckdb"))
    if table1_runs(DB).empty:
        assert run_if_missing, f"no table1 run in {DB}: run `harness run experiment=table1` first"
        harness.run("table1", [f"workload.limit={limit}", "repeats=1", f"executor.workers={workers}",
                               f"store.path={DB}"])  # as `harness run experiment=table1 ...`; resumes
run_id = run_id or table1_runs(DB).id.iloc[-1]  # the latest table1 or table4 run
info = reader.run_info(DB, run_id)
order = [c["name"] for c in info["config"]["conditions"]]
print(f"run {run_id}: {info['episodes_done']} episodes, conditions {', '.join(order)}")'''

_ESTIMATES = '''from harness.analysis.report import estimates_for
from harness.paper.claims import load_claims

claims = load_claims()
est = estimates_for(DB, run_id, resamples)  # stored by `harness report`, else computed the same way and stored
est.groupby("analysis").size()'''

_TABLE1 = '''from harness.paper.scenario_section import table1

t1 = table1(est, claims, order)
pd.DataFrame(t1.rows, columns=t1.header)'''

_FIGURE = '''import tempfile
from harness.paper.scenario_section import completion_by_scenario

for path in completion_by_scenario(est, Path(tempfile.mkdtemp()), claims=claims, order=order):
    if path.suffix == ".png":
        display(Image(filename=str(path)))'''

_TABLE4 = '''from harness.paper.scenario_section import table4

t4 = table4(est, claims)
pd.DataFrame(t4.rows, columns=t4.header)'''

_LOSSES = '''losses = est[(est.analysis == "table4") & est.statistic.str.startswith("loss:")].copy()
losses["layer"] = losses.statistic.str.split(":").str[1]
losses["text"] = losses.apply(lambda r: f"{100 * r.estimate:+.1f} [{100 * r.low:+.1f}, {100 * r.high:+.1f}]", axis=1)
losses.pivot(index="category", columns="layer", values="text")'''

_INCIDENTS = '''inc = est[(est.analysis == "table1") & (est.category == "all")
          & est.statistic.isin(["incident_response", "world_incident_response", "agent_incident_response",
                                "incidents_censored"])]
inc.pivot(index="statistic", columns="conditions", values="estimate").reindex(columns=[c for c in order if c in set(inc.conditions)])'''

_RATIOS = '''ratios = est[(est.analysis == "table1_ratio") & (est.category == "all")]
ratios[["statistic", "conditions", "estimate", "low", "high", "method"]]'''

CELLS = [
    ("md", "# Table 1, Table 4 and Figure 3: the 12 deployment scenarios\n\n"
           "S12 (12 scenarios × 50 tasks) under the report's four kinds of infrastructure — chatbot overlay, "
           "prompt-chained API, manual agent script, agent-native — plus five leave-one-layer-out cells of "
           "agent-native. Every number is read from the `estimates` the analysis stored "
           "(`harness.analysis.scenario_analysis`): task-clustered bootstrap stratified by scenario, paired across "
           "conditions. The report's numbers (from `paper/claims.yaml`) stand beside them and are only compared "
           "against."),
    ("code", 'db = "results/harness.duckdb"  # the results store (relative to the project root)\n'
             'run_id = None  # default: the latest table1 run\n'
             'run_if_missing = True  # no table1 run in the store: make a small one in a sibling store\n'
             'limit = 24  # tasks of that small run\nworkers = 2\nresamples = 2000', ["parameters"]),
    ("code", _SETUP),
    ("code", _PICK),
    ("md", "Roles come from the stored condition specs, not the names: the run's `compare[0]` is the native "
           "condition, a condition one layer away from it (same loop and faults) is that layer's ablation, and "
           "every other condition is a baseline."),
    ("code", _ESTIMATES),
    ("md", "## Table 1\n\nEach metric is a ratio of task sums: completion per episode, retention per probe, "
           "incident response per incident, tool-call accuracy per call. Ratios: native / baseline (incident "
           "response: baseline / native); a zero baseline gives an unbounded ratio (∞), never a division by zero."),
    ("code", _TABLE1),
    ("code", _RATIOS),
    ("md", "### Incident response\n\nA *world incident* (a task judged by a `diagnosis` checker) is live from "
           "minute 0; its response time is the minute of the correct diagnosis, and an incident never correctly "
           "diagnosed is censored at the task's time budget (the same in every condition, so a condition that "
           "gives up early gains nothing). An *agent incident* is a crash; its response is the measured downtime "
           "until the agent acts again, and a crash nobody restarted is censored at the fault model's unattended "
           "path (a person noticing plus a restart). Means containing censored incidents are lower bounds; the "
           "share censored is shown."),
    ("code", _INCIDENTS),
    ("md", "## Figure 3: completion by scenario"),
    ("code", _FIGURE),
    ("md", "## Table 4\n\nBaseline: the non-native condition with the highest observed completion in the scenario "
           "(named). Key principles: the principles (P1–P7) of every layer whose removal costs more than the "
           "threshold with a CI excluding 0, from the leave-one-layer-out losses below."),
    ("code", _TABLE4),
    ("code", _LOSSES),
]
