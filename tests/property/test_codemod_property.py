"""Property: for any seed and difficulty of the five structural code_modification
families, the gold solution passes, the untouched world and every trap fail, and taking
any one test function out of a solved world fails it (the tests are part of the task)."""

from __future__ import annotations

import ast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.rng import stream
from harness.workload import get_family, run_checkers
from harness.workload.gold import apply_steps

FAMILIES = ("add_parameter", "fix_bug", "dependency_upgrade", "follow_convention", "extract_helper")


def _passes(world, spec) -> bool:
    return all(r.passed for r in run_checkers(world, spec))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fam=st.sampled_from(FAMILIES), seed=st.integers(min_value=0, max_value=2**63 - 1),
       difficulty=st.integers(min_value=1, max_value=5), pick=st.integers(min_value=0, max_value=10**6))
def test_gold_passes_and_dropping_any_test_fails(fam, seed, difficulty, pick):
    family = get_family(f"code_modification/{fam}")
    spec = family.generate("prop", family.sample_params(stream(seed, "prop", 0, "params"), difficulty), seed)
    assert not _passes(family.build_world(spec), spec)
    for steps in spec.traps.values():
        assert not _passes(apply_steps(family.build_world(spec), steps), spec)
    solved = apply_steps(family.build_world(spec), spec.gold)
    assert _passes(solved, spec)

    test_path = spec.public["test_module"]
    tree = ast.parse(solved.workspace.read(test_path))
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    victim = tests[pick % len(tests)]
    tree.body = [n for n in tree.body if n is not victim]
    solved.workspace.write(test_path, ast.unparse(tree))
    assert not _passes(solved, spec), victim.name
