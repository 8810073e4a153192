"""Properties of the document families: a random edit of a solved world passes exactly
when it stays within the stated tolerance (or changes nothing a reader would see)."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.rng import stream
from harness.workload import get_family, run_checkers
from harness.workload.checkers.doc import norm_cell
from harness.workload.gold import apply_steps
from harness.workload.spec import GoldStep

EXTRACT = get_family("document_processing/extract_fields")
POLICY = get_family("document_processing/policy_check")
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALUES = st.sampled_from(["", "0.00", "2024-01-01", "INV-0000-0000", "Northwind Traders Ltd", "n/a", "12.5"])


def _passes(world, spec) -> bool:
    return all(r.passed for r in run_checkers(world, spec))


@SETTINGS
@given(seed=st.integers(0, 2**32), difficulty=st.integers(1, 5), data=st.data())
def test_extract_cell_edits_pass_only_within_tolerance(seed, difficulty, data):
    params = EXTRACT.sample_params(stream(seed, "prop", 0, "params"), difficulty)
    spec = EXTRACT.generate("prop", params, seed)
    rows = list(csv.reader(io.StringIO(spec.gold[0].args["text"])))
    header = rows[0]
    n_edits = data.draw(st.integers(1, 6))
    wrong = set()
    for _ in range(n_edits):
        r = data.draw(st.integers(1, len(rows) - 1))
        c = data.draw(st.integers(1, len(header) - 1))
        truth = spec.params["rows"][rows[r][0]][header[c]]
        rows[r][c] = data.draw(VALUES)
        if norm_cell(header[c], rows[r][c]) != norm_cell(header[c], truth):
            wrong.add((r, c))
        else:
            wrong.discard((r, c))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    world = apply_steps(EXTRACT.build_world(spec), [GoldStep(op="write", args={"path": spec.public["output"],
                                                                                 "text": out.getvalue()})])
    assert _passes(world, spec) == (len(wrong) <= spec.params["max_wrong_cells"])


@SETTINGS
@given(seed=st.integers(0, 2**32), difficulty=st.integers(1, 5), data=st.data())
def test_policy_answer_edits_pass_only_within_tolerance(seed, difficulty, data):
    params = POLICY.sample_params(stream(seed, "prop", 0, "params"), difficulty)
    spec = POLICY.generate("prop", params, seed)
    truth = {tuple(v) for v in spec.params["violations"]}
    pairs = sorted((d, r) for d in spec.params["documents"] for r in spec.params["rules"])
    flips = data.draw(st.sets(st.sampled_from(pairs), max_size=5))
    answer = truth ^ flips
    world = apply_steps(POLICY.build_world(spec), [GoldStep(op="submit", args={"answer": {"violations": [
        {"document": d, "rule": r} for d, r in sorted(answer)]}})])
    expected = bool(answer) and len(flips) <= spec.params["max_errors"]
    assert _passes(world, spec) == expected
