"""Writes the notebooks of this folder (outputs stripped); edit here, run, commit both."""
from pathlib import Path

import nbformat as nbf

OUT = Path(__file__).resolve().parent  # python notebooks/make_notebooks.py

SETUP = '''import os
from pathlib import Path

import pandas as pd
from IPython.display import Image, display

from harness.store import reader

# Paths are relative to the project root, wherever the notebook is opened from.
ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
DB = str(ROOT / db) if not os.path.isabs(db) else db'''

def nb(cells, name):
    book = nbf.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (harness)", "language": "python"}
    book.metadata["language_info"] = {"name": "python"}
    out = []
    for i, (kind, src, *tags) in enumerate(cells):
        cell = nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
        cell.id = f"{name[:2]}-{i:02d}"  # stable ids: regenerating changes nothing that did not change
        if tags:
            cell.metadata["tags"] = tags[0]
        out.append(cell)
    book.cells = out
    nbf.write(book, OUT / f"{name}.ipynb")

PICK = '''def pick_run(db, run_id, experiments):
    """The given run, or the latest run of the first of ``experiments`` present in the store."""
    if run_id:
        return run_id
    runs = reader.list_runs(db)
    for experiment in experiments:
        if (runs.experiment == experiment).any():
            return reader.latest_run(db, experiment)
    return reader.latest_run(db)
'''

QUICK_SETUP = '''import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

import harness

# Paths are relative to the project root, wherever the notebook is opened from.
ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
DB = str(ROOT / db) if not os.path.isabs(db) else db'''

QUICK_FIGURE = '''est = run.estimates  # the numbers the report just stored
rates = est[(est.analysis == "completion") & (est.statistic == "rate")]
conds = [c["name"] for c in run.info["config"]["conditions"]]
cats = sorted(set(rates.category), key=lambda c: (c == "all", c))
fig, ax = plt.subplots(figsize=(9, 3.6))
width = 0.8 / len(conds)
for i, cond in enumerate(conds):
    r = rates[rates.conditions == cond].set_index("category").loc[cats]
    x = [j + (i - (len(conds) - 1) / 2) * width for j in range(len(cats))]
    ax.bar(x, 100 * r.estimate, width, label=cond,
           yerr=[100 * (r.estimate - r.low), 100 * (r.high - r.estimate)], capsize=3)
ax.set_xticks(range(len(cats)), [f"{c}\\n({int(rates[rates.category == c].tasks.max())} tasks)" for c in cats], fontsize=8)
ax.set_ylabel("completion (%)")
ax.set_ylim(0, 105)
ax.set_title(f"Completion per condition and category, 95% task-bootstrap CIs — {run.id}")
ax.legend(loc="upper left", bbox_to_anchor=(1, 1), fontsize=8)
plt.tight_layout()
plt.show()'''

QUICK_GAP = '''def pp_ci(row):
    """A gap in percentage points with its interval: +14.3 [+8.3, +22.6]."""
    return f"{100 * row.estimate:+.1f} [{100 * row.low:+.1f}, {100 * row.high:+.1f}]"


gap = est[est.analysis == "gap"].copy()
gap["gap (pp) [95% CI]"] = gap.apply(pp_ci, axis=1)
gap = gap.rename(columns={"p_holm": "p (Holm)", "mde": "MDE 80%"})
(gap[["category", "tasks", "gap (pp) [95% CI]", "p (Holm)", "MDE 80%", "method"]].style.hide(axis="index")
 .format({"p (Holm)": "{:.3g}", "MDE 80%": "{:.1%}"}, na_rep="—")
 .set_caption(f"Paired gap {gap.conditions.iloc[0].replace('|', ' − ')}, per category"))'''

nb([
    ("md", "# Quickstart: run a smoke experiment and look at it\n\nThis notebook runs the `smoke` experiment (a stratified slice of W500 under `agent_native` = I_opt and `human` = I_human) through the Python API, `harness.run` (the same config and the same run id as `harness run experiment=smoke ...`; re-running resumes), then reads the results: the report's tables, a figure of completion with its intervals, the paired gap, and one failed episode's actions. Every number comes from the DuckDB store, computed by the same code as `harness report`."),
    ("code", 'db = "results/harness.duckdb"  # the results store (relative to the project root)\nlimit = 42  # tasks in the slice (W500 has 500)\nrepeats = 2\nworkers = 2', ["parameters"]),
    ("code", QUICK_SETUP),
    ("code", 'run = harness.run("smoke", [f"workload.limit={limit}", f"repeats={repeats}", f"executor.workers={workers}",\n                             f"store.path={DB}"], progress=True)  # plain progress lines, no live bar\nrun'),
    ("code", 'episodes = run.episodes\n(episodes.pivot_table(index="category", columns="condition", values="success", aggfunc="mean")\n .style.format("{:.0%}").set_caption("Share of episodes that succeeded (raw, before the task bootstrap)"))'),
    ("md", "`run.report()` returns the tables `harness report` prints (title → DataFrame of formatted cells: rates and gaps in percent with their 95% CIs) and stores every estimate in the `estimates` table, so `run.estimates` and the other notebooks read the very same numbers."),
    ("code", 'tables = run.report(resamples=2000)\nfor title, table in tables.items():\n    display(table.style.hide(axis="index").set_caption(title))'),
    ("code", QUICK_FIGURE),
    ("code", QUICK_GAP),
    ("md", "One failed episode, and what its agent did (`run.actions(condition, task_id, repeat)`); the same task and repeat under the other condition met the same random draws."),
    ("code", 'failed = episodes[~episodes.success].head(1)\ndisplay(failed[["condition", "task_id", "repeat", "termination", "actions", "check_detail"]])\nif len(failed):\n    ep = failed.iloc[0]\n    display(run.actions(ep.condition, ep.task_id, int(ep["repeat"])))'),
], "00_quickstart")

nb([
    ("md", "# Table 2: the infrastructure gap by category\n\nCompletion under I_human and I_opt per category, the paired gap with its 95% task-bootstrap CI, Holm-adjusted p-values, the minimum detectable gap, and the report's published numbers beside them (from `paper/claims.yaml`, only compared against)."),
    ("code", 'db = "results/harness.duckdb"\nrun_id = None  # default: the latest table2-like run', ["parameters"]),
    ("code", SETUP + "\n\n" + PICK),
    ("code", 'from harness.analysis.report import estimates_for\nfrom harness.analysis.report_tables import drivers\nfrom harness.paper.claims import load_claims\nfrom harness.paper.tables import table2\n\nrun_id = pick_run(DB, run_id, ["table2", "factorial_smoke", "native_vs_human", "smoke"])\nest = estimates_for(DB, run_id)\nt = table2(est, load_claims(), drivers(est))\npd.DataFrame(t.rows, columns=t.header)'),
    ("code", 'import tempfile\nfrom harness.paper import figures\n\nout = Path(tempfile.mkdtemp())\nfor path in figures.completion_by_condition(est, out):\n    if path.suffix == ".png":\n        display(Image(filename=str(path)))'),
    ("code", 'episodes = reader.episodes(DB, run_id)\ngap = est[est.analysis == "gap"]\ntreatment, baseline = gap.conditions.iloc[0].split("|")\nfor path in figures.per_task_gap_distribution(episodes, treatment, baseline, out):\n    if path.suffix == ".png":\n        display(Image(filename=str(path)))'),
], "01_table2_gap_by_category")

nb([
    ("md", "# The gap decomposition: context, agency, observability\n\nExact Shapley values over the 2^3 factorial (fixed linear maps of the eight cell means, so they sum to the gap in every resample), the interaction terms beside them, and the one-at-a-time attribution in every order as a sensitivity view."),
    ("code", 'db = "results/harness.duckdb"\nrun_id = None  # default: the latest factorial run', ["parameters"]),
    ("code", SETUP + "\n\n" + PICK),
    ("code", 'from harness.analysis.report import estimates_for\n\nrun_id = pick_run(DB, run_id, ["table2", "factorial_smoke", "factorial5"])\nest = estimates_for(DB, run_id)\nd = est[est.analysis == "decomposition"]\nif d.empty:\n    print(f"run {run_id} is not a complete factorial: no decomposition")\nelse:\n    shap = d[d.statistic.str.startswith(("shapley:", "gap:"))]\n    display(shap.pivot(index="category", columns="statistic", values="estimate").style.format("{:+.1%}"))'),
    ("code", 'if not d.empty:\n    overall = d[d.category == "all"]\n    terms = overall[overall.statistic.str.startswith(("alone:", "interaction:", "main:"))]\n    display(terms[["statistic", "estimate", "low", "high", "method"]])'),
    ("code", 'import tempfile\nfrom harness.paper import figures\n\nfor path in figures.decomposition_waterfall(est, Path(tempfile.mkdtemp())):\n    if path.suffix == ".png":\n        display(Image(filename=str(path)))'),
], "02_gap_decomposition")

nb([
    ("md", "# Reliability: pass^k\n\npass^k is the chance that k attempts at a task all succeed (unbiased estimator C(c,k)/C(n,k) per task); it falls with k faster where an infrastructure makes an agent's outcome depend on luck."),
    ("code", 'db = "results/harness.duckdb"\nrun_id = None', ["parameters"]),
    ("code", SETUP + "\n\n" + PICK),
    ("code", 'from harness.analysis.report import estimates_for\n\nrun_id = pick_run(DB, run_id, ["table2", "native_vs_human", "smoke"])\nest = estimates_for(DB, run_id)\np = est[(est.analysis == "pass_k") & (est.category == "all") & est.statistic.str.startswith("pass^k")]\np.pivot(index="conditions", columns="statistic", values="estimate").style.format("{:.1%}")'),
    ("code", 'import tempfile\nfrom harness.paper import figures\n\nfor path in figures.pass_k_curves(est, Path(tempfile.mkdtemp())):\n    if path.suffix == ".png":\n        display(Image(filename=str(path)))'),
], "03_reliability_pass_k")

nb([
    ("md", "# Episode forensics: one failed episode, step by step\n\nPick a failed episode, read its checker verdicts and its actions, and compare with the same task and repeat under the other condition (the paired episode met the same random draws)."),
    ("code", 'db = "results/harness.duckdb"\nrun_id = None\ncondition = None  # default: the compared baseline (I_human)', ["parameters"]),
    ("code", SETUP + "\n\n" + PICK),
    ("code", 'import json\n\nrun_id = pick_run(DB, run_id, ["table2", "native_vs_human", "smoke"])\nepisodes = reader.episodes(DB, run_id)\ncondition = condition or sorted(episodes.condition.unique())[-1]\nfailed = episodes[(episodes.condition == condition) & ~episodes.success]\nprint(f"{len(failed)} failed episodes under {condition}")\nep = failed.iloc[0] if len(failed) else episodes.iloc[0]\nfor verdict in json.loads(ep.check_detail):\n    print(("PASS " if verdict["passed"] else "FAIL ") + verdict["checker"] + ": " + verdict["reason"])'),
    ("code", 'import harness\n\n# the episode\'s actions in order (with their arguments and observations where the store keeps them)\nharness.open(DB, run_id).actions(ep.condition, ep.task_id, int(ep["repeat"]))'),
    ("code", 'paired = episodes[(episodes.task_id == ep.task_id) & (episodes.repeat == ep["repeat"])]\npaired[["condition", "success", "termination", "actions", "tool_calls_accurate", "sim_minutes", "crashes", "approvals"]]'),
    ("md", "`harness trace RUN_ID:CONDITION:TASK_ID:REPEAT` re-runs the episode from the stored config (it refuses if the code changed since) and draws the observability layer's record: a causal DAG under `causal`, a flat log under `textlog`. The same, from Python, for this episode under every condition of the run:"),
    ("code", 'import tempfile\nfrom harness.core.errors import UserInputError\nfrom harness.experiment.rerun import rerun_episode\nfrom harness.paper.dag import draw_dag\n\nout = Path(tempfile.mkdtemp())\nfor cond in sorted(paired.condition):\n    try:\n        rerun = rerun_episode(DB, run_id, cond, ep.task_id, int(ep["repeat"]))\n    except UserInputError as exc:  # e.g. the code changed since the run\n        print(exc.message)\n        break\n    if rerun.record is not None:\n        title = f"{cond} · {ep.task_id} · repeat {ep[\'repeat\']}"\n        for path in draw_dag(rerun.record, out / cond, title):\n            if path.suffix == ".png":\n                display(Image(filename=str(path)))'),
], "04_episode_forensics")


# Notebooks 05 to 07 keep their cells in their own modules (one concept per file).
import sys  # noqa: E402

sys.path.insert(0, str(OUT))
for module in ("nb05_cells", "nb06_cells", "nb07_cells"):
    cells = __import__(module)
    nb(cells.CELLS, cells.NAME)
