"""Property: whatever valid records the runner hands the writer come back bit for bit."""

from __future__ import annotations

import itertools
import math
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.models import TERMINATIONS, ActionRecord, EpisodeRecord
from harness.store import ResultWriter, RunInfo

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text DuckDB can hold (valid UTF-8, so no lone surrogates), any double incl. NaN/inf/-0.0.
text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
i64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
f64 = st.floats(allow_nan=True, allow_infinity=True)

_RUN_IDS = itertools.count()


@pytest.fixture(scope="module")
def writer():
    # One store for all examples (each example is its own run): opening a store per
    # example would cost more than the property itself.
    with tempfile.TemporaryDirectory(prefix="store-prop-") as tmp, ResultWriter(Path(tmp) / "p.duckdb") as w:
        yield w


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return type(a) is type(b) and a == b


@st.composite
def batches(draw):
    n = draw(st.integers(1, 4))
    keys = draw(st.lists(st.tuples(text, text, i64), min_size=n, max_size=n, unique=True))
    out = []
    for condition, task_id, repeat in keys:
        ep = dict(condition=condition, task_id=task_id, repeat=repeat, category=draw(text), family=draw(text),
                  difficulty=draw(i64), seed=draw(i64), success=draw(st.booleans()),
                  termination=draw(st.sampled_from(TERMINATIONS)), check_detail=draw(text), actions=draw(i64),
                  tool_calls=draw(i64), tool_calls_ok=draw(i64),
                  tool_calls_rejected=draw(i64), sim_minutes=draw(f64), crashes=draw(i64),
                  approval_wait_minutes=draw(f64), cost_usd=draw(f64), world_digest=draw(text),
                  error=draw(st.none() | text), wall_seconds=draw(f64))
        seqs = draw(st.lists(i64, max_size=4, unique=True))
        acts = [dict(seq=s, parent=draw(st.none() | i64), tool=draw(text), ok=draw(st.booleans()),
                     sim_minutes=draw(f64), wall_latency_ms=draw(f64)) for s in seqs]
        out.append((ep, acts))
    return out


@SETTINGS
@given(batches())
def test_written_records_read_back_identically(writer, batch):
    run_id = f"run{next(_RUN_IDS)}"
    eps, acts = [], []
    writer.begin_run(RunInfo(id=run_id, experiment="prop", config={}, config_hash="c", workload_hash="w",
                             code_version="v", seed=0, repeats=1, planned_episodes=len(batch), host="h"))
    for ep_fields, act_fields in batch:
        ep = EpisodeRecord(run_id=run_id, **ep_fields)
        key = dict(run_id=run_id, condition=ep.condition, task_id=ep.task_id, repeat=ep.repeat)
        records = [ActionRecord(**key, **a) for a in act_fields]
        writer.add(ep, records)
        eps.append(tuple(ep.model_dump().values()))
        acts.extend(tuple(a.model_dump().values()) for a in records)
    writer.flush()
    # A plain connection in the writer's process shares its database instance.
    con = duckdb.connect(str(writer.path))
    try:
        got_eps = con.execute("SELECT * FROM episodes WHERE run_id = ?", [run_id]).fetchall()
        got_acts = con.execute("SELECT * FROM actions WHERE run_id = ?", [run_id]).fetchall()
    finally:
        con.close()

    def order(rows):
        return sorted(rows, key=lambda r: repr(r[1:5]))

    for got, want in ((got_eps, eps), (got_acts, acts)):
        assert len(got) == len(want)
        for g, e in zip(order(got), order(want), strict=True):
            assert all(_same(x, y) for x, y in zip(g, e, strict=True)), (g, e)
