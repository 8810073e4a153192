"""A tiny skill study through the CLI: run, report (the per-level tables, not one row per
<condition>@<arm>), paper (the skill table and figure; a note for the missing sensitivity)."""

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def skill_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("skill") / "skill.duckdb"
    proc = run_cli("run", "experiment=skill_study", "workload.limit=6", "repeats=1", "arms.skill_levels=[0,1,2]",
                   "arms.processes_off=[slip_rate]", "executor.workers=1", "progress=false", f"store.path={db}")
    assert proc.returncode == 0, proc.stderr
    return db


def test_report_prints_the_skill_tables_instead_of_every_arm(skill_db):
    proc = run_cli("report", "--db", str(skill_db), "--resamples", "200", "--format", "md")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "gap by error_scale" in out and "Slope in error_scale" in out
    assert "Structural" in out and "slip_rate" in out
    assert "ctx0-agy1-obs0@s2" not in out  # no row per <cell>@<arm>
    assert "factorial cells without episodes" not in proc.stderr  # arms are not missing cells


def test_paper_writes_the_skill_table_and_figure_and_notes_the_missing_sensitivity(skill_db, tmp_path):
    out = tmp_path / "paper"
    proc = run_cli("paper", "--db", str(skill_db), "--out", str(out), "--no-latex")
    assert proc.returncode == 0, proc.stderr
    for path in ("tables/skill.md", "tables/skill.tex", "figures/fig_skill.pdf", "figures/fig_skill.png"):
        assert (out / path).stat().st_size > 0, path
    assert "no sensitivity run" in proc.stdout
    assert "\\input{tables/skill}" in (out / "main.tex").read_text()
