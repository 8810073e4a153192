"""Table 1 / Table 4 paper tables, Figure 3 and the report branch, on synthetic estimates."""

import pandas as pd
import pytest

from harness.analysis import report_tables
from harness.analysis.bootstrap import OVERALL
from harness.analysis.report import scenario_estimates
from harness.analysis.suite import Settings
from harness.paper.claims import load_claims
from harness.paper.scenario_section import agreement, completion_by_scenario_figure, table1, table4

CONDS = ["chatbot", "api_chain", "manual_script", "agent_native"]


def rec(analysis, statistic, conditions, estimate, category=OVERALL, low=None, high=None):
    return {"analysis": analysis, "statistic": statistic, "conditions": conditions, "category": category,
            "estimate": estimate, "low": estimate - 0.05 if low is None else low,
            "high": estimate + 0.05 if high is None else high, "method": "bca", "tasks": 10}


@pytest.fixture
def est():
    rows = []
    for cat in ("refactoring", "incident_diagnosis", OVERALL):
        for i, c in enumerate(CONDS):
            rows.append(rec("table1", "completion", c, 0.2 * (i + 1), cat))
            rows.append(rec("table1", "incident_response", c, 10.0 - 2 * i, cat, 9.0 - 2 * i, 11.0 - 2 * i))
        rows += [rec("table4", "baseline", "manual_script", 0.6, cat), rec("table4", "native", "agent_native", 0.8, cat),
                 rec("table4", "improvement", "agent_native|manual_script", 0.8 / 0.6, cat),
                 rec("table4", "loss:security", "agent_native|x", 0.3, cat, 0.1, 0.5),
                 rec("table4", "loss:tools", "agent_native|y", 0.01, cat, -0.02, 0.04)]
    rows.append(rec("table1_ratio", "completion_ratio", "agent_native|chatbot", 4.0, OVERALL, 3.0, float("inf")))
    return pd.DataFrame(rows)


def test_table1_sets_each_measurement_beside_its_claim(est):
    claims = load_claims()
    t = table1(est, claims, CONDS)
    by = {(r[0], r[1]): r for r in t.rows}
    published = claims.get("table1.task_completion.chatbot").value
    row = by[("Task completion", "chatbot")]
    assert row[2] == "20.0 [15.0, 25.0]" and row[3] == f"{published:g}"
    assert row[4] == ("yes" if 15.0 <= published <= 25.0 else "no")
    ratio = by[("completion ratio", "agent_native vs chatbot")]
    assert ratio[2] == "4.00 [3.00, inf]" and ratio[4] == "yes"  # an unbounded interval holds any claim above 3
    assert [r[1] for r in t.rows[:4]] == CONDS  # the run's order, not alphabetical


def test_table4_names_the_baseline_and_derives_principles(est):
    claims = load_claims()
    t = table4(est, claims)
    rows = {r[0]: r for r in t.rows}
    assert set(rows) == {"refactoring", "incident diagnosis", OVERALL}
    r = rows["refactoring"]
    assert r[1] == "manual_script" and r[11] == "P5"  # only security's loss clears the threshold with CI > 0
    assert r[12] == claims.get("table4.refactoring.key_principles").value
    assert r[13] == agreement("P5", r[12])
    assert rows[OVERALL][3] == "—"  # no claim for the aggregate row


def test_agreement_compares_sets_not_order():
    assert agreement("P5, P1", "P1, P5") == "same"
    assert agreement("P5", "P1, P5") == "shared: P5"
    assert agreement("none", "P1") == "none shared"
    assert agreement("P1", None) == "—"
    assert agreement("not measured", "P1") == "—"


def test_figure3_draws_one_bar_per_scenario_and_condition(est):
    fig = completion_by_scenario_figure(est, claims=load_claims(), order=CONDS)
    ax = fig.axes[0]
    assert len(ax.patches) == 3 * len(CONDS)
    # bottom to top: the aggregate at the bottom, scenarios alphabetical reading downwards
    assert [t.get_text() for t in ax.get_yticklabels()] == [OVERALL, "refactoring", "incident diagnosis"]
    assert completion_by_scenario_figure(est[est.analysis != "table1"]) is None


def test_report_displays_table1_and_table4(est):
    t1 = report_tables.table1(est, CONDS)
    assert t1.columns == ("metric", *CONDS)
    assert t1.rows[0][1].startswith("20.0%")
    t4 = report_tables.table4(est)
    assert [d.title.split(" —")[0] for d in t4][0] == "Table 4"
    assert [r[-1] for r in t4[0].rows] == ["P5"] * 3
    assert t4[1].columns == ("scenario", "security", "tools")
    assert report_tables.table1(est[est.analysis != "table1"], CONDS) is None


def test_report_branch_does_nothing_for_runs_without_scenarios():
    info = {"config": {"workload": {"families": [{"family": "f", "count": 1}]}, "compare": ["a", "b"]}}
    assert scenario_estimates("unused.duckdb", "r", info, pd.DataFrame(), Settings()) == []
    info["config"]["workload"]["families"][0]["scenario"] = "s"
    info["config"]["compare"] = None
    assert scenario_estimates("unused.duckdb", "r", info, pd.DataFrame(), Settings()) == []


def test_incident_budgets_refuse_tasks_built_differently_now(monkeypatch):
    from harness.analysis import report
    from harness.core.errors import UserInputError

    config = {"workload": {"name": "s12", "families": [], "manifest": "workloads/s12/manifest.jsonl"}}
    task = "incident_diagnosis-0004"
    monkeypatch.setattr(report.reader, "tasks",
                        lambda db, run: pd.DataFrame({"task_id": [task], "spec_hash": ["not-this-one"]}))
    with pytest.raises(UserInputError, match=task):
        report.incident_budgets("unused.duckdb", "r", config, [task])
    from harness.experiment.config import config_dir
    from harness.workload.manifest import read_manifest

    entries, _ = read_manifest(config_dir().parent / config["workload"]["manifest"])
    spec = next(e for e in entries if e.id == task).generate()
    monkeypatch.setattr(report.reader, "tasks",
                        lambda db, run: pd.DataFrame({"task_id": [task], "spec_hash": [spec.content_hash()]}))
    assert report.incident_budgets("unused.duckdb", "r", config, [task]) == {task: spec.budget.max_minutes}
