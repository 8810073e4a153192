"""A small table1 run through the real CLI (16 tasks: one of them an incident, so the
censoring budgets are read from the workload): Table 1 and Table 4 printed, stored as
estimates, and written as paper tables and Figure 3 beside the report's claims."""

import math

import pytest

from harness.paper.claims import load_claims
from harness.paper.scenario_section import build_scenarios
from harness.store import reader
from tests.conftest import run_cli

pytestmark = pytest.mark.slow
SMALL = ["experiment=table4", "workload.limit=16", "repeats=1", "executor.workers=2", "progress=false"]


@pytest.fixture(scope="module")
def table1_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("table1") / "t1.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={db}")
    assert proc.returncode == 0, proc.stderr
    return db


@pytest.fixture(scope="module")
def report(table1_db):
    proc = run_cli("report", "--db", str(table1_db), "--resamples", "300")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_report_prints_table1_and_table4(report):
    for title in ("Table 1", "Completion by scenario", "Table 4", "Leave-one-layer-out"):
        assert title in report
    assert "incident_diagnosis" in report


def test_estimates_are_stored_paired_and_finite_or_unbounded(table1_db, report):
    est = reader.estimates(table1_db)
    t1 = est[est.analysis == "table1"]
    assert set(t1.conditions) == {"chatbot", "api_chain", "manual_script", "agent_native"}
    losses = est[(est.analysis == "table4") & est.statistic.str.startswith("loss:")]
    assert {s.split(":")[1] for s in losses.statistic} == {"execution", "tools", "memory", "security",
                                                           "observability"}
    assert not est[["estimate", "low", "high"]].isna().any().any()
    for r in est[est.analysis.isin(["table1", "table4"])].itertuples():
        assert r.low <= r.high or math.isinf(r.high)


def test_paper_tables_and_figure_beside_claims(table1_db, report, tmp_path):
    claims = load_claims()
    files = build_scenarios(str(table1_db), reader.latest_run(str(table1_db)), tmp_path, claims)
    names = {p.name for p in files}
    assert {"table1.md", "table1.tex", "table4.md", "fig_scenarios.png", "fig_scenarios.pdf"} <= names
    table1 = (tmp_path / "tables" / "table1.md").read_text()
    published = claims.get("table1.task_completion.chatbot").value
    assert "| Task completion | chatbot |" in table1 and f"| {published:g} |" in table1
    table4 = (tmp_path / "tables" / "table4.md").read_text()
    assert claims.get("table4.incident_diagnosis.key_principles").value in table4


def test_harness_paper_on_a_store_with_only_a_scenario_run(table1_db, report, tmp_path):
    """`harness paper` makes every part the store can: Table 1 (with its TCO row, priced by
    configs/cost/), Table 4, Figure 3, the TCO table and sensitivity figure, and lists the
    cost model's parameters in the methods section; no Table 2 run is needed."""
    proc = run_cli("paper", "--db", str(table1_db), "--out", str(tmp_path), "--no-latex")
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in (tmp_path / "tables").iterdir()} | {p.name for p in (tmp_path / "figures").iterdir()}
    assert {"table1.md", "table4.md", "tco.md", "fig_scenarios.png", "fig_tco_sensitivity.png"} <= names
    assert "table2.md" not in names
    assert "| TCO / month (USD) | agent_native |" in (tmp_path / "tables" / "table1.md").read_text()
    main = (tmp_path / "main.tex").read_text()
    assert r"\paragraph{Cost model}" in main and "hourly" in main.lower()


@pytest.mark.parametrize("edit, field", [
    (("hourly_rate_usd: 83", "hourly_rate_usd: -5"), "human.hourly_rate_usd"),
    (("  minutes_per_approval: 4\n", ""), "human.minutes_per_approval"),
    (("      weeks: 12", "      weeks: 60"), "rollout.phases"),
])
@pytest.mark.parametrize("command", ["report", "paper"])
def test_bad_cost_config_is_one_line_naming_the_field(table1_db, tmp_path, edit, field, command):
    from pathlib import Path

    default = (Path(__file__).resolve().parents[2] / "configs" / "cost" / "default.yaml").read_text()
    assert edit[0] in default
    bad = tmp_path / "cost.yaml"
    bad.write_text(default.replace(edit[0], edit[1]))
    before = table1_db.read_bytes()
    extra = ["--out", str(tmp_path / "paper"), "--no-latex"] if command == "paper" else []
    proc = run_cli(command, "--db", str(table1_db), "--cost", str(bad), *extra)
    assert proc.returncode == 2 and field in proc.stderr and "Traceback" not in proc.stderr
    assert table1_db.read_bytes() == before and not (tmp_path / "paper").exists()


def test_report_json_is_strict_even_with_unbounded_ratios(table1_db, report):
    import json

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    proc = run_cli("report", "--db", str(table1_db), "--format", "json", "--no-store", "--resamples", "200")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout, parse_constant=refuse)
    assert {e["analysis"] for e in doc["estimates"]} >= {"table1", "table4", "tco"}
