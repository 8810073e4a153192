"""Property: for any family, seed and difficulty of the data_analysis families, gold
passes; deleting any single row of any table of the solved world fails it (every table
is either read-only or must hold exactly the cleaned rows); a nudged numeric answer fails."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.rng import stream
from harness.workload import get_family, run_checkers
from harness.workload.gold import apply_steps

NAMES = ["data_analysis/aggregate", "data_analysis/join_pitfalls", "data_analysis/anomaly",
         "data_analysis/cleaning", "data_analysis/metric_sessions"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), seed=st.integers(0, 2**32 - 1), difficulty=st.integers(1, 5),
       pick=st.integers(0, 10**6))
def test_gold_passes_and_losing_a_row_fails(name, seed, difficulty, pick):
    fam = get_family(name)
    spec = fam.generate("prop", fam.sample_params(stream(seed, "prop", 0, "params"), difficulty), seed)
    solved = apply_steps(fam.build_world(spec), spec.gold)
    assert all(r.passed for r in run_checkers(solved, spec))
    ds = solved.datasets
    tables = ds.list_tables()
    table = tables[pick % len(tables)]
    # the k-th row that is there (rowids of rows the gold deleted are gone, not renumbered)
    ds.sql_write(f"DELETE FROM {table} WHERE rowid = (SELECT rowid FROM {table} ORDER BY rowid "
                 f"LIMIT 1 OFFSET {pick % ds.n_rows(table)})")
    assert not all(r.passed for r in run_checkers(solved, spec))
    answer = dict(spec.gold[-1].args["answer"])
    if "value" in answer:
        again = apply_steps(fam.build_world(spec), spec.gold)
        again.submit({"value": answer["value"] + 1})
        assert not all(r.passed for r in run_checkers(again, spec))
