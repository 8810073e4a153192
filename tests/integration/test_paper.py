"""`harness paper` on a small factorial run: every table and figure it lists exists, with
the report's claims beside the measured values; bad runs are refused in one line."""

import struct
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow
DPI, WIDTH_IN = 200, 3.4


@pytest.fixture(scope="module")
def factorial_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("paper") / "paper.duckdb"
    proc = run_cli("run", "experiment=factorial_smoke", "workload.limit=8", "repeats=2", "executor.workers=2",
                   f"store.path={db}")
    assert proc.returncode == 0, proc.stderr
    return db


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


def test_paper_writes_every_file_it_lists(factorial_db, tmp_path):
    out = tmp_path / "paper"
    proc = run_cli("paper", "--db", str(factorial_db), "--out", str(out), "--no-latex")
    assert proc.returncode == 0, proc.stderr
    listed = [Path(line.strip()) for line in proc.stdout.splitlines() if line.startswith("  ")]
    assert listed and all(p.exists() and p.stat().st_size > 0 for p in listed)
    names = {p.name for p in listed}
    assert {"table2.tex", "table2.md", "decomposition.tex", "pass_k.md", "main.tex"} <= names
    for stem in ("fig_completion", "fig_decomposition", "fig_pass_k", "fig_task_gaps"):
        assert f"{stem}.pdf" in names and f"{stem}.png" in names
        assert (out / "figures" / f"{stem}.pdf").read_bytes()[:4] == b"%PDF"
        width, height = _png_size(out / "figures" / f"{stem}.png")
        assert abs(width - WIDTH_IN * DPI) <= 4 and height > 100
    table = (out / "tables" / "table2.md").read_text()
    assert "| report |" in table and "in CI" in table
    main = (out / "main.tex").read_text()
    assert "\\section{Methods}" in main and "workload" in main.lower() and "\\input{tables/table2}" in main


def test_paper_side_by_side_table_holds_measured_claimed_and_verdict(factorial_db, tmp_path):
    from harness.paper.claims import load_claims

    out = tmp_path / "paper"
    assert run_cli("paper", "--db", str(factorial_db), "--out", str(out), "--no-latex").returncode == 0
    rows = [r for r in (out / "tables" / "table2.md").read_text().splitlines() if r.startswith("| ")][1:]
    claims = load_claims()
    reported = f"{claims.get('table2.code_modification.i_human').value:g}"
    code_row = next(r for r in rows if r.startswith("| code modification"))
    cells = [c.strip() for c in code_row.strip("|").split("|")]
    assert cells[2] == reported  # the claim sits beside the measurement it is compared with
    assert cells[3] in {"yes", "no"}
    assert "[" in cells[1] and "]" in cells[1]  # measured with its CI


def test_paper_refuses_an_unknown_run_naming_the_runs_that_exist(factorial_db, tmp_path):
    proc = run_cli("paper", "no-such-run", "--db", str(factorial_db), "--out", str(tmp_path / "p"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "unknown run 'no-such-run'" in proc.stderr and "factorial_smoke" in proc.stderr


def test_paper_refuses_a_run_of_the_wrong_experiment(factorial_db, tmp_path):
    proc = run_cli("run", "experiment=rename", "workload.limit=2", "repeats=1", "executor.workers=1",
                   f"store.path={factorial_db}", "run.id=rename-run")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("paper", "rename-run", "--db", str(factorial_db), "--out", str(tmp_path / "p"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "rename" in proc.stderr and "factorial_smoke" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3
