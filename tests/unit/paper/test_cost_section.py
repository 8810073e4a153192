"""The cost part of the paper: tables beside the claims, figures, methods rows; and, on a
small real phases run, ``build_cost`` and notebook 06 end to end (slow)."""

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from harness.analysis.cost_model import load_cost_model
from harness.analysis.roi import roi_band, roi_estimates
from harness.analysis.tco import tco_estimates
from harness.paper.claims import load_claims
from harness.paper.cost_section import (
    methods_markdown,
    methods_tex,
    parameter_rows,
    roi_figure,
    roi_table,
    sensitivity_figure,
    tco_table,
    treatment_of,
)
from tests.conftest import run_cli
from tests.unit.analysis.test_roi import _three_conditions, _three_phase_model
from tests.unit.analysis.test_tco import _noisy, model

ROOT = Path(__file__).resolve().parents[3]


def _frame(records):
    return pd.DataFrame([r.model_dump() for r in records])


def test_tco_table_puts_the_claim_beside_the_measurement():
    episodes, specs = _noisy(1)
    # named like Table 1's columns so the claims line up (labelling only)
    episodes = episodes.assign(condition=episodes.condition.map({"base": "chatbot", "native": "agent_native"}))
    specs = {"chatbot": specs["base"], "agent_native": specs["native"]}
    est = _frame(tco_estimates(episodes, specs, model(), resamples=300, treatment="agent_native"))
    claims = load_claims()
    table = tco_table(est, claims, 2)
    rows = {r[0]: r for r in table.rows}
    assert rows["chatbot"][5] == f"{claims.get('table1.tco.chatbot').value:g}"
    assert rows["chatbot"][6] in {"yes", "no"}
    assert "ratio agent_native / chatbot (cheapest baseline)" in rows
    assert "| condition |" in table.markdown() and r"\toprule" in table.latex()


def test_roi_table_and_figures_are_built():
    episodes, specs = _three_conditions()
    m = _three_phase_model()
    est = _frame(roi_estimates(episodes, specs, m, resamples=300))
    table = roi_table(est, load_claims(), m)
    labels = [r[0] for r in table.rows]
    assert labels[0].startswith("ROI multiple at month 12") and table.rows[0][2] != "—"
    assert any("payback of phase 1 (a)" in label for label in labels)
    assert roi_figure(roi_band(episodes, specs, m, resamples=200), m) is not None
    grid = pd.DataFrame({"hourly_rate_usd": [10.0, 20.0] * 2, "infra_scale": [1.0, 1.0, 2.0, 2.0],
                         "ratio": [0.5, 0.4, 0.6, 0.5], "low": [0.4, 0.3, 0.5, 0.4], "high": [0.6, 0.5, 0.7, 0.6],
                         "best_baseline": ["b"] * 4})
    fig = sensitivity_figure(grid, "native", 15.0)
    assert len(fig.axes[0].lines) == 4  # two scales, parity line, configured-rate line
    assert sensitivity_figure(grid.iloc[:0], "native", 15.0) is None


def test_methods_rows_list_every_price():
    m = load_cost_model()
    rows = dict(parameter_rows(m))
    assert rows["hourly rate of human time"] == f"{m.human.hourly_rate_usd:g} USD"
    for layer, variants in m.infrastructure.layers.items():
        assert all(f"{v} {p:g} USD" in rows[f"{layer} layer per agent-month"] for v, p in variants.items())
    assert len([k for k in rows if k.startswith("phase ")]) == len(m.rollout.phases)
    assert methods_markdown(m).count("\n") == len(rows) + 2
    assert r"\begin{itemize}" in methods_tex(m) and "&" not in methods_tex(m).replace(r"\&", "")


def test_treatment_is_the_runs_compared_condition():
    assert treatment_of({"config": {"compare": ["x", "y"], "conditions": [{"name": "y"}]}}) == "x"
    assert treatment_of({"config": {"conditions": [{"name": "y"}, {"name": "x"}]}}) == "y"
    with pytest.raises(ValueError):
        treatment_of({"id": "r", "config": {}})


# -- end to end on a small phases run -----------------------------------------------------------
@pytest.fixture(scope="module")
def phases_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("cost") / "phases.duckdb"
    proc = run_cli("run", "experiment=phases", "workload.limit=24", "repeats=1", "executor.workers=1",
                   f"store.path={db}", "progress=false")
    assert proc.returncode == 0, proc.stderr
    return db


@pytest.mark.slow
def test_build_cost_writes_tables_and_figures(phases_db, tmp_path):
    from harness.paper.cost_section import build_cost
    from harness.store import reader

    run_id = reader.latest_run(str(phases_db), "phases")
    files = build_cost(str(phases_db), [run_id], tmp_path, load_claims(), resamples=300)
    names = {p.relative_to(tmp_path).as_posix() for p in files}
    assert {"tables/tco.md", "tables/tco.tex", "tables/roi.md", "figures/fig_roi.pdf", "figures/fig_roi.png",
            "figures/fig_tco_sensitivity.pdf"} <= names
    assert all(p.stat().st_size > 0 for p in files)
    assert "phase3" in (tmp_path / "tables" / "tco.md").read_text()
    again = build_cost(str(phases_db), [run_id], tmp_path / "again", load_claims(), resamples=300)
    for a, b in zip(sorted(files), sorted(again), strict=True):  # deterministic, byte for byte
        assert a.read_bytes() == b.read_bytes(), a.name


@pytest.mark.slow
def test_notebook_06_runs_top_to_bottom(phases_db, tmp_path):
    import nbformat as nbf
    import papermill

    spec = importlib.util.spec_from_file_location("nb06_cells", ROOT / "notebooks" / "nb06_cells.py")
    cells_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cells_module)
    book = nbf.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (harness)", "language": "python"}
    for kind, src, *tags in cells_module.CELLS:
        cell = nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
        if tags:
            cell.metadata["tags"] = tags[0]
        book.cells.append(cell)
    source = tmp_path / f"{cells_module.NAME}.ipynb"
    nbf.write(book, source)
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(source), str(out), parameters={"db": str(phases_db), "resamples": 300},
                               cwd=str(ROOT / "notebooks"), kernel_name="python3", progress_bar=False,
                               log_output=False, start_timeout=120, execution_timeout=600)
    executed = json.loads(out.read_text())
    outputs = [o for c in executed["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2  # sensitivity and ROI figures


@pytest.mark.slow
def test_build_cost_skips_the_roll_out_when_the_run_lacks_its_conditions(phases_db, tmp_path):
    from harness.paper.cost_section import build_cost
    from harness.store import reader

    run_id = reader.latest_run(str(phases_db), "phases")
    m = load_cost_model().model_copy(update={"rollout": load_cost_model().rollout.model_copy(
        update={"baseline": "absent"})})
    files = build_cost(str(phases_db), [run_id], tmp_path, load_claims(), model=m, resamples=100)
    assert {p.name for p in files} >= {"tco.md", "fig_tco_sensitivity.png"}
    assert not any(p.name.startswith(("roi", "fig_roi")) for p in files)  # the roll-out's baseline is not in the run
