"""Cells of notebook 06 (cost and ROI), in make_notebooks.py's (kind, source[, tags]) format.

The lead merges them into make_notebooks.py; until then a test builds the notebook from
``CELLS`` and runs it with papermill.
"""

NAME = "06_cost_roi"

_SETUP = '''import os
from pathlib import Path

import pandas as pd
from IPython.display import Image, display

from harness.store import reader

# Paths are relative to the project root, wherever the notebook is opened from.
ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
DB = str(ROOT / db) if not os.path.isabs(db) else db
COST = str(ROOT / cost_config) if not os.path.isabs(cost_config) else cost_config'''

_PICK = '''from harness.analysis.cost_model import load_cost_model
from harness.paper.runs import latest_of

model = load_cost_model(COST)

# The given runs, else the latest of the right experiments (the same rule `harness paper` uses).
tco_run = tco_run or latest_of(DB, ("table4", "table1", "phases")) or reader.latest_run(DB)
roi_run = roi_run or latest_of(DB, ("phases",)) or reader.latest_run(DB)
print(f"TCO from {tco_run}, roll-out from {roi_run}")'''

_PARAMS = '''from harness.paper.cost_section import methods_markdown
from IPython.display import Markdown

Markdown(methods_markdown(model))'''

_TCO = '''from harness.analysis.tco import tco_estimates
from harness.paper.claims import load_claims
from harness.paper.cost_section import tco_table, treatment_of

info = reader.run_info(DB, tco_run)
episodes, specs = reader.episodes(DB, tco_run), reader.conditions(DB, tco_run)
treatment = treatment_of(info)
seed = int(info.get("seed") or 0)
tco = pd.DataFrame([r.model_dump() for r in tco_estimates(episodes, specs, model, seed=seed, resamples=resamples,
                                                           treatment=treatment)])
table = tco_table(tco, load_claims(), model.n_agents)
pd.DataFrame(table.rows, columns=table.header)'''

_PARTS = '''from harness.analysis.tco import episode_costs, profile_of

profiles = {name: profile_of(name, spec, model) for name, spec in specs.items() if name in set(episodes.condition)}
minutes = ["approval_minutes", "relay_minutes", "incident_minutes", "rework_minutes"]
episode_costs(episodes, profiles, model).groupby("condition")[["compute_usd", *minutes]].mean().round(2)'''

_SENS = '''import tempfile

from harness.analysis.tco import sensitivity
from harness.paper.cost_section import HOURLY_RATES, INFRA_SCALES, sensitivity_figure
from harness.paper.style import save, style

out = Path(tempfile.mkdtemp())
grid = sensitivity(episodes, specs, model, treatment, HOURLY_RATES, INFRA_SCALES, seed=seed, resamples=resamples)
with style():
    paths = save(sensitivity_figure(grid, treatment, model.human.hourly_rate_usd), out, "fig_tco_sensitivity")
display(Image(filename=str(paths[1])))
grid[grid.infra_scale == 1.0].round(3)'''

_ROI = '''from harness.analysis.roi import roi_band, roi_estimates
from harness.paper.cost_section import roi_figure, roi_table

r_episodes, r_specs = reader.episodes(DB, roi_run), reader.conditions(DB, roi_run)
needed = {model.rollout.baseline, *(p.condition for p in model.rollout.phases)}
if not needed <= set(r_specs):
    print(f"run {roi_run} lacks the roll-out's conditions {sorted(needed - set(r_specs))}: "
          "run `harness run experiment=phases` first")
else:
    r_seed = int(reader.run_info(DB, roi_run).get("seed") or 0)
    roi = pd.DataFrame([r.model_dump() for r in roi_estimates(r_episodes, r_specs, model, seed=r_seed,
                                                              resamples=resamples)])
    t = roi_table(roi, load_claims(), model)
    display(pd.DataFrame(t.rows, columns=t.header))
    band = roi_band(r_episodes, r_specs, model, seed=r_seed, resamples=resamples)
    with style():
        paths = save(roi_figure(band, model), out, "fig_roi")
    display(Image(filename=str(paths[1])))
    display(band.round(2))'''

CELLS = [
    ("md", "# Cost and ROI: TCO per month, its sensitivity, and the phased roll-out\n\n"
           "Every price is a parameter of `configs/cost/default.yaml` (with its source); the measured "
           "inputs (actions, approvals, unrecovered crashes, failures, tokens) come from the episodes. "
           "TCO per month for N agents = N × (infrastructure + tasks × expected cost per task); the "
           "expected cost per task is a mean of per-task values, so the task bootstrap gives its CI and "
           "paired ratios. The roll-out turns measured completion and cost under phase1–phase3 into "
           "cumulative ROI (savings / spend) and payback. The report's numbers are shown beside ours "
           "only for comparison."),
    ("code", 'db = "results/harness.duckdb"\ncost_config = "configs/cost/default.yaml"\n'
             "tco_run = None  # default: the latest table1 run, else the latest phases run\n"
             "roi_run = None  # default: the latest phases run\nresamples = 2000", ["parameters"]),
    ("code", _SETUP),
    ("code", _PICK),
    ("md", "## The cost model's parameters"),
    ("code", _PARAMS),
    ("md", "## TCO per month, with 95% task-bootstrap intervals, beside Table 1's TCO row"),
    ("code", _TCO),
    ("md", "Where the cost comes from: per episode, compute and the four kinds of human minutes "
           "(means over episodes, by condition)."),
    ("code", _PARTS),
    ("md", "## Sensitivity: the TCO ratio as the hourly rate and the infrastructure price vary\n\n"
           "One line per infrastructure price multiplier; the band is the 95% interval at the "
           "configured prices. Below 1, the treatment is cheaper than the cheapest baseline."),
    ("code", _SENS),
    ("md", "## The phased roll-out: cumulative ROI and payback"),
    ("code", _ROI),
]
