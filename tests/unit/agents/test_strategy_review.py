"""Reference-agent strategies for the code_review families, and the diff reading they share."""

from __future__ import annotations

import ast
import difflib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.agents.reference.review_bug import first_difference
from harness.agents.reference.review_convention import check_for, parse_rules, render
from harness.agents.reference.review_diff import (
    before_text,
    blocks,
    changes,
    old_number,
    parse_diff,
)
from harness.agents.reference.review_regression import slow_spots
from harness.agents.reference.review_security import holes
from harness.workload import get_family
from tests.strategy_support import HUMAN, NATIVE, only, run, tasks

SINGLE = ("review_bug", "review_security", "review_regression", "review_untested")
FAMILIES = (*SINGLE, "review_convention")


# -- reading a diff ---------------------------------------------------------------------------
def _diff(a: list[str], b: list[str]) -> str:
    return "".join(difflib.unified_diff([x + "\n" for x in a], [x + "\n" for x in b], "a/m.py", "b/m.py"))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "", "x = 1"]), max_size=30),
       st.lists(st.sampled_from(["a", "b", "d", "", "y = 2"]), max_size=30))
def test_the_diff_applied_backwards_gives_the_old_file_and_its_numbers(a, b):
    hunks = parse_diff(_diff(a, b)).get("m.py", [])
    assert before_text("".join(x + "\n" for x in b), hunks) == "".join(x + "\n" for x in a)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for i, j, size in matcher.get_matching_blocks():
        for k in range(size):  # an unchanged line's other-column number is where it was
            if any(h.new_start <= j + k + 1 < h.new_start + len(h.side("+")) for h in hunks):
                assert old_number(hunks, j + k + 1) == i + k + 1


def test_a_diff_that_does_not_fit_the_file_is_not_forced():
    hunks = parse_diff(_diff(["a", "b", "c"], ["a", "x", "c"]))["m.py"]
    assert before_text("a\ny\nc\n", hunks) is None
    assert changes("m.py", "a\ny\nc\n", hunks) is None


@pytest.mark.parametrize("family", FAMILIES)
def test_every_generated_diff_reads_back_exactly(family):
    for spec in tasks(f"code_review/{family}", (1, 5), 1):
        files = get_family(spec.family).build_world(spec).workspace
        diff = files.read("review/change.diff")
        for path, hunks in parse_diff(diff).items():
            after = files.read(path)
            before = before_text(after, hunks)
            again = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                                 f"a/{path}", f"b/{path}"))
            assert again in diff
            assert changes(path, after, hunks), path  # every file in the diff changed something


# -- judging ------------------------------------------------------------------------------------
BEFORE = '''def f(items: list[int], limit: int = 3) -> list[int]:
    """Amounts within limit."""
    kept = []
    for item in items:
        if item <= limit:
            kept.append(item)
    return kept
'''


def _block(text: str):
    return blocks(text)[0]


def test_harmless_edits_are_not_bugs_and_a_flipped_comparison_is():
    harmless = BEFORE.replace('    """Amounts within limit."""', '    """Amounts within limit.\n\n    Cents.\n    """')
    harmless = harmless.replace("item", "entry").replace("    kept = []", "    # why\n    kept = []")
    harmless = harmless.replace("    return kept", "    result = kept\n    return result")
    assert first_difference(_block(BEFORE), _block(harmless)) is None
    flipped = harmless.replace("entry <= limit", "entry > limit")
    line, kind = first_difference(_block(BEFORE), _block(flipped))
    assert flipped.splitlines()[line - 1].strip() == "if entry > limit:" and kind == "inverted_condition"
    lost = BEFORE.replace("    return kept\n", "")
    assert first_difference(_block(BEFORE), _block(lost))[1] == "missing_return"


@pytest.mark.parametrize("code,kinds", [
    ('def f(c, x):\n    return c.execute(f"SELECT * FROM t WHERE a = \'{x}\'")', {"injection"}),
    ('def f(c, x):\n    return c.execute("SELECT * FROM t WHERE a = ?", (x,))', set()),
    ("def f(name):\n    return open(os.path.join(BASE, name))", {"path_traversal"}),
    ("def f(name):\n    p = os.path.normpath(os.path.join(BASE, name))\n    return p.startswith(BASE)", set()),
    ('TOKEN = "sk_live_abc"', {"secret"}),
    ('TOKEN = os.environ.get("TOKEN", "")', set()),
    ("def f(b):\n    return pickle.loads(b)", {"deserialization"}),
    ("def f(t):\n    return yaml.load(t, Loader=yaml.Loader)", {"deserialization"}),
    ("def f(t):\n    return yaml.safe_load(t)", set()),
])
def test_security_checklist(code, kinds):
    assert {kind for kind, _, _ in holes(_block(code))} == kinds


@pytest.mark.parametrize("code,slow", [
    ("def f(xs):\n    seen = []\n    for x in xs:\n        if x not in seen:\n            seen.append(x)", True),
    ("def f(xs):\n    seen = set()\n    for x in xs:\n        if x not in seen:\n            seen.add(x)", False),
    ("def f(xs):\n    return [x / sum(xs) for x in xs]", True),
    ("def f(xs):\n    t = sum(xs)\n    return [x / t for x in xs]", False),
    ("def f(c, ids):\n    for i in ids:\n        c.execute('SELECT 1 WHERE id = ?', (i,))", True),
])
def test_performance_checklist(code, slow):
    assert bool(slow_spots(_block(code))) == slow


def test_convention_rules_are_read_back_and_mapped_by_their_wording():
    told = ("This session: The rules (id: rule) are: (1) `no_print`: no `print` calls in library code. "
            "(2) `max_len`: no function longer than 3 lines, counted from its `def`. "
            "(3) `odd_rule`: be kind. Nothing needs to be submitted in this session.")
    rules = parse_rules(told)
    assert rules == parse_rules(render(rules)) and set(rules) == {"no_print", "max_len", "odd_rule"}
    assert check_for(rules["odd_rule"]) is None
    long_fn = _block("def f():\n    a = 1\n    b = 2\n    return a + b")
    assert list(check_for(rules["max_len"])(long_fn.node)) and not list(check_for(rules["no_print"])(long_fn.node))
    assert isinstance(long_fn.node, ast.FunctionDef)


# -- whole episodes -------------------------------------------------------------------------------
@pytest.mark.parametrize("family", SINGLE)
def test_a_perfect_agent_solves_every_task_with_either_tools(family):
    for spec in tasks(f"code_review/{family}"):
        for layers in (NATIVE, HUMAN):
            episode = run(spec, layers)
            assert episode.success and episode.termination == "submitted", (spec.id, episode.check_detail)


def test_convention_rules_survive_the_session_boundary_in_tiered_memory_or_on_the_ticket():
    lapsing = only(note_lapse_rate=1.0)
    for spec in tasks("code_review/review_convention"):
        assert run(spec, NATIVE).success and run(spec, HUMAN).success, spec.id  # written down, found
        # Never written down: tiered memory kept the briefing anyway; a context window did not,
        # and without the session-1 rules the ids are unknowable.
        assert run(spec, NATIVE, lapsing).success, spec.id
        human = run(spec, HUMAN, lapsing)
        assert not human.success and human.error is None and human.termination == "submitted"


def test_a_slipped_line_is_caught_by_a_structured_search_but_not_by_unread_grep_output():
    sloppy = only(slip_rate=1.0, misread_rate=1.0)
    specs = tasks("code_review/review_bug", (3, 4, 5), 2)
    typed = [run(s, NATIVE, sloppy).success for s in specs]
    shell = [run(s, HUMAN, sloppy).success for s in specs]
    assert all(typed)
    assert not all(shell)


@pytest.mark.parametrize("family", FAMILIES)
def test_default_profile_never_errors_and_native_does_at_least_as_well(family):
    specs = tasks(f"code_review/{family}", (1, 2), 10, seed=11)
    rates = {}
    for name, layers in (("native", NATIVE), ("human", HUMAN)):
        episodes = [run(s, layers, {}, repeat=r) for s in specs for r in range(3)]
        assert all(e.error is None for e in episodes)
        rates[name] = sum(e.success for e in episodes) / len(episodes)
    assert rates["native"] >= rates["human"], rates
    assert rates["native"] >= 0.8, rates
