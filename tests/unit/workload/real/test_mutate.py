"""Mutants of real code: one site each, inside a function, natural to read, reversible."""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.workload.real.mutate import KINDS, enumerate_mutants, sample

SOURCE = '''"""Module doc."""
__all__ = ["f", "g"]
LIMIT = 10


def f(values, k):
    """Doc with 1 < 2."""
    total = 0
    for i in range(len(values)):
        if values[i] > k and not values[i] == 3:
            total += values[i] * 2
    return total, values[1:k]


class C:
    def g(self, a, b):
        return max(a, b) if a else divmod(a, b)
'''


def test_mutants_are_single_sites_inside_functions_and_cover_every_kind():
    mutants = enumerate_mutants({"m.py": SOURCE})
    assert {m.kind for m in mutants} == set(KINDS)
    assert all(m.function in ("f", "C.g") for m in mutants)
    for m in mutants:
        changed = m.apply(SOURCE)
        assert ast.dump(ast.parse(changed)) != ast.dump(ast.parse(SOURCE))
        assert changed[:m.start] == SOURCE[:m.start] and changed[m.start + len(m.new):] == SOURCE[m.end:]


def test_mutants_read_as_a_person_would_write_them():
    news = {(m.kind, m.old, m.new) for m in enumerate_mutants({"m.py": SOURCE})}
    assert ("off_by_one", "len(values)", "len(values) + 1") in news
    assert ("off_by_one", "k", "k + 1") in news
    assert ("condition", "a", "not a") in news
    assert ("operator", ">", ">=") in news
    assert ("swap_args", "a, b", "b, a") in news
    assert not any("LIMIT" in m.old or "1 < 2" in m.old for m in enumerate_mutants({"m.py": SOURCE}))


def test_sampling_is_deterministic_by_seed_and_package():
    mutants = enumerate_mutants({"m.py": SOURCE})
    assert sample(mutants, 5, 0, "x") == sample(mutants, 5, 0, "x")
    assert sample(mutants, 5, 0, "x") != sample(mutants, 5, 1, "x")


_EXPR = st.sampled_from(["a + b", "a - 1", "a * b // 2", "a < b", "a == b or b", "not a", "a[1:b]", "min(a, b)"])


@settings(max_examples=60, deadline=None)
@given(st.lists(_EXPR, min_size=1, max_size=4))
def test_every_mutant_is_undone_by_putting_its_old_text_back(exprs):
    body = "".join(f"    x{i} = {e}\n" for i, e in enumerate(exprs))
    source = f"def f(a, b):\n{body}    return x0\n"
    for m in enumerate_mutants({"p.py": source}):
        changed = m.apply(source)
        restored = changed[:m.start] + m.old + changed[m.start + len(m.new):]
        assert restored == source
