"""Property: for any seed and difficulty, the initial rename world passes its own tests
but fails the task, and the gold solution passes every checker."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.rng import stream
from harness.workload import get_family, run_checkers
from harness.workload.gold import apply_gold
from harness.world import run_test_module

FAMILY = get_family("code_modification/rename_symbol")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**63 - 1), difficulty=st.integers(min_value=1, max_value=5))
def test_initial_fails_and_gold_passes(seed, difficulty):
    params = FAMILY.sample_params(stream(seed, "prop", 0, "params"), difficulty)
    spec = FAMILY.generate("prop", params, seed)

    initial = FAMILY.build_world(spec)
    assert run_test_module(initial.workspace, spec.public["test_module"]).ok
    verdicts = {r.checker: r.passed for r in run_checkers(initial, spec)}
    assert not verdicts["no_identifier"]

    solved = apply_gold(FAMILY.build_world(spec), spec.gold)
    results = run_checkers(solved, spec)
    assert all(r.passed for r in results), [r for r in results if not r.passed]
    assert solved.workspace.digest() != initial.workspace.digest()
