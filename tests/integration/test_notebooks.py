"""Every notebook runs top to bottom on a small run (papermill, parameters injected), and
the committed notebooks carry no outputs."""

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("nb") / "nb.duckdb"
    proc = run_cli("run", "experiment=smoke", "workload.limit=6", "repeats=2", "executor.workers=1",
                   f"store.path={db}")
    assert proc.returncode == 0, proc.stderr
    return db


def test_there_is_a_notebook_per_table_group():
    names = {p.stem for p in NOTEBOOKS}
    assert {"00_quickstart", "01_table2_gap_by_category", "02_gap_decomposition", "03_reliability_pass_k",
            "04_episode_forensics", "05_scenarios_table1_table4", "06_cost_roi",
            "07_skill_and_calibration"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_are_stripped_and_parameterised(path):
    book = json.loads(path.read_text())
    code = [c for c in book["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "outputs not stripped"
    assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in code), "no papermill parameters cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, small_db, tmp_path):
    import papermill

    params = {"db": str(small_db)}
    if path.stem == "00_quickstart":
        params = {"db": str(tmp_path / "quick.duckdb"), "limit": 4, "repeats": 1, "workers": 1}
    if path.stem == "05_scenarios_table1_table4":  # makes its own small table1 run beside the store
        params |= {"limit": 16, "workers": 1, "resamples": 300}
    if path.stem in ("06_cost_roi", "07_skill_and_calibration"):
        params |= {"resamples": 300}
    out = tmp_path / path.name
    papermill.execute_notebook(str(path), str(out), parameters=params, cwd=str(ROOT / "notebooks"),
                               kernel_name="python3", progress_bar=False, log_output=False,
                               start_timeout=120, execution_timeout=600)
    executed = json.loads(out.read_text())
    errors = [o for c in executed["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
