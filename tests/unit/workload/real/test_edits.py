"""The edits the real families are built from: benign refactors, careful renames, new parameters,
and the agent's own version of the new-parameter edit."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.agents.reference.real_add_parameter import with_parameter as agent_edit
from harness.workload.real import benign
from harness.workload.real.new_parameter import ParameterCandidate, hidden_test, with_parameter
from harness.workload.real.renames import candidates, rename_everywhere
from harness.world.pycode import add_keyword_parameter

MODULE = '''"""Counting."""
__all__ = ["frequencies", "Tally"]


def frequencies(seq):
    counts = {}
    for item in seq:
        counts[item] = counts.get(item, 0) + 1
    return counts


class Tally:
    def total(self, seq):
        running = 0
        for item in seq:
            running += item
        return running
'''


def _run(source: str, call: str, **names):
    scope: dict = {}
    exec(compile(source, "<test>", "exec"), scope)  # noqa: S102 - code written by this test
    return eval(call, {**scope, **names})  # noqa: S307


def test_a_benign_change_renames_one_local_and_keeps_behaviour():
    changes = benign.candidates("m.py", MODULE, np.random.default_rng(0), 5)
    assert changes
    for change in changes:
        after = change.apply(MODULE)
        code = [ln for ln in change.new_text.splitlines() if not ln.strip().startswith("#")]
        assert change.new_name in "\n".join(code)
        assert not any(t == change.old_name for ln in code for t in ln.replace("(", " ").replace(")", " ").split())
        assert _run(after, "frequencies('abca')") == {"a": 2, "b": 1, "c": 1}
        assert _run(after, "Tally().total([1, 2, 3])") == 6
        assert after.count("\n") == MODULE.count("\n") + 1  # one comment line added


def test_benign_changes_leave_parameters_and_closures_alone():
    source = "def f(a):\n    b = a + 1\n    g = lambda: b\n    return g()\n"
    assert benign.candidates("m.py", source, np.random.default_rng(0), 3) == []


def test_the_careful_rename_covers_all_entries_star_imports_and_tests():
    files = {"pkg/core.py": MODULE, "pkg/__init__.py": "from pkg.core import *\n",
             "tests/test_core.py": "from pkg import frequencies\n\n\ndef test_f():\n    assert frequencies('a')\n"}
    out = rename_everywhere(files, "frequencies", "count_items")
    assert '"count_items"' in out["pkg/core.py"] and "def count_items(seq)" in out["pkg/core.py"]
    assert "frequencies" not in out["tests/test_core.py"]
    assert out["pkg/__init__.py"] == files["pkg/__init__.py"]
    back = rename_everywhere(out, "count_items", "frequencies")
    assert back == files


def test_rename_candidates_are_distinctive_public_names_used_often_enough():
    files = {"pkg/core.py": MODULE, "tests/test_core.py": "from pkg.core import frequencies\n"
             "frequencies(1)\nfrequencies(2)\n"}
    found = candidates({"pkg/core.py": MODULE}, files, np.random.default_rng(0), 10)
    assert [c.old for c in found] == ["frequencies"]  # Tally is an identifier once only: below MIN_USES
    assert found[0].new not in MODULE


def test_the_gold_new_parameter_is_applied_to_every_return_and_none_changes_nothing():
    source = "def pick(a, b=2):\n    if a:\n        return a * b\n    return [b]\n"
    gold = with_parameter(source, "pick", "post")
    assert _run(gold, "pick(3)") == 6 and _run(gold, "pick(0)") == [2]
    assert _run(gold, "pick(3, post=lambda r: ('t', r))") == ("t", 6)
    assert _run(gold, "pick(0, post=lambda r: ('t', r))") == ("t", [2])


def test_the_hidden_test_imports_from_the_defining_module():
    path, source = hidden_test(ParameterCandidate("toolz/dicttoolz.py", "get_in", "then", "[[[1], {}]]"))
    assert path.endswith(".py") and "from toolz.dicttoolz import get_in" in source
    ast.parse(source)


SIGNATURES = ["(a, b)", "()", "(a, *args)", "(a, *, k=1, **kw)", "(a,\n      b,\n      )", "(a: 'x(' = (1, 2), **kw)",
              "(*, k)", "(a, /, b)", "(**kw)"]


@pytest.mark.parametrize("signature", SIGNATURES)
def test_the_agents_signature_edit_agrees_with_the_world_primitive(signature):
    source = f"def f{signature}:\n    return 1\n"
    mine = agent_edit(source, "f", "post")
    ast.parse(mine)
    theirs = with_parameter(source, "f", "post")
    assert ast.dump(ast.parse(mine)) == ast.dump(ast.parse(theirs))
    node = ast.parse(add_keyword_parameter(source, "f", "post=None")).body[0]
    assert "post" in [a.arg for a in node.args.kwonlyargs]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "*args", "**kw", "*", "d=1"]), max_size=5, unique=True))
def test_add_keyword_parameter_keeps_every_parameter_and_adds_one(params):
    if "*" in params and "*args" in params:
        params.remove("*")
    order = {"a": 0, "b": 0, "c": 0, "d=1": 1, "*args": 2, "*": 2, "**kw": 4}
    params = sorted(params, key=lambda p: order[p])
    if params and params[-1] == "*":
        params.append("e")
    source = f"def f({', '.join(params)}):\n    return 1\n"
    try:
        before = ast.parse(source).body[0].args
    except SyntaxError:
        return
    after = ast.parse(add_keyword_parameter(source, "f", "post=None")).body[0].args
    names = lambda a: [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]  # noqa: E731
    assert names(after) == [*names(before), "post"] if not before.kwarg else "post" in names(after)
    assert (after.vararg is None) == (before.vararg is None) and (after.kwarg is None) == (before.kwarg is None)
