"""Reference-agent strategies for the code-modification families beyond rename_symbol."""

import ast
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.agents.profile import AgentProfile
from harness.agents.reference.add_parameter import parse_decision
from harness.agents.reference.codemod_support import splice
from harness.agents.reference.dependency_upgrade import Change, migrated, parse_changelog
from harness.agents.reference.extract_helper import parse_block
from harness.agents.reference.fix_bug import candidate_fixes
from harness.agents.reference.follow_convention import parse_convention, parse_features
from tests.strategy_support import HUMAN, NATIVE, only, run, tasks

FAMILIES = ("add_parameter", "fix_bug", "dependency_upgrade", "follow_convention", "extract_helper")
DEFAULT = AgentProfile().model_dump()


def _family(name: str) -> str:
    return f"code_modification/{name}"


@cache
def _perfect(name: str, layers: str) -> list[tuple[int, int, bool]]:
    """(difficulty, sessions, success) for two tasks per difficulty."""
    chosen = NATIVE if layers == "native" else HUMAN
    out = []
    for spec in tasks(_family(name), (1, 2, 3, 4, 5), 2):
        episode = run(spec, chosen)
        assert episode.error is None, episode.error
        out.append((spec.difficulty, len(spec.sessions) or 1, episode.success))
    return out


@pytest.mark.parametrize("name", FAMILIES)
def test_a_perfect_agent_solves_every_task_with_native_tools(name):
    results = _perfect(name, "native")
    assert len(results) == 10
    assert all(ok for _, _, ok in results), results


@pytest.mark.parametrize("name", FAMILIES)
def test_a_perfect_agent_solves_single_session_tasks_with_human_tools(name):
    results = _perfect(name, "human")
    single = [ok for _, sessions, ok in results if sessions == 1]
    assert all(single), results


@pytest.mark.parametrize("name", ["add_parameter", "follow_convention"])
def test_knowledge_from_session_one_survives_human_memory_only_if_written_down(name):
    # The decision / convention exists only in session 1's words. A diligent agent writes it
    # on the ticket and finds it there; one that never writes anything down loses it.
    multi = [ok for _, sessions, ok in _perfect(name, "human") if sessions > 1]
    assert multi and all(multi)
    specs = [s for s in tasks(_family(name), (1, 2, 3, 4, 5), 2) if len(s.sessions) > 1]
    assert not any(run(s, HUMAN, only(note_lapse_rate=1.0)).success for s in specs)


@cache
def _default(name: str) -> dict[str, float]:
    specs = tasks(_family(name), (1, 2), 10)[:20]
    rates = {}
    for label, layers in (("native", NATIVE), ("human", HUMAN)):
        episodes = [run(s, layers, DEFAULT, repeat=r) for s in specs for r in range(3)]
        assert all(e.error is None for e in episodes)
        rates[label] = sum(e.success for e in episodes) / len(episodes)
    return rates


@pytest.mark.parametrize("name", FAMILIES)
def test_with_a_fallible_agent_native_tools_do_at_least_as_well(name):
    # Mistakes have consequences under both interfaces now (a wrong target runs under typed
    # tools too), so per family the order holds in expectation: within one episode in 20.
    rates = _default(name)
    assert rates["native"] >= rates["human"] - 0.05, rates
    assert rates["native"] > 0.8, rates  # the strategy works, errors and all


def test_the_delete_the_failing_test_shortcut_is_taken_and_fails():
    spec = tasks(_family("fix_bug"), (1,), 1)[0]
    reckless = only(unsafe_shortcut_rate=1.0)
    assert run(spec, NATIVE).success
    assert not run(spec, NATIVE, reckless).success


def test_episodes_are_deterministic():
    spec = tasks(_family("dependency_upgrade"), (3,), 1)[0]
    a, b = run(spec, HUMAN, DEFAULT, repeat=1), run(spec, HUMAN, DEFAULT, repeat=1)
    assert (a.world_digest, a.actions, a.success) == (b.world_digest, b.actions, b.success)


# -- the readers and editors on their own ------------------------------------------------
CHANGELOG = """# lib changelog

## 2.1.0

Breaking changes:

- `to_cents(amount)` was renamed to `as_cents(amount)`; the old name is gone.
- `scaled(value, factor=1)`: the keyword `factor` is now called `multiplier`.
- `bounded(value, low, high)` now takes the bounds first: `bounded(low, high, value)`.
- `ratio(part, whole)` was replaced by `share(whole, part)` (note the order); `ratio` is gone.

## 1.9.0

- Faster rounding in `to_cents`.
"""


def test_the_changelog_is_read_into_a_plan():
    plan = {c.old: c for c in parse_changelog(CHANGELOG)}
    assert plan["to_cents"] == Change("to_cents", "as_cents")
    assert plan["scaled"].keywords == {"factor": "multiplier"}
    assert plan["bounded"].order == (1, 2, 0)
    assert (plan["ratio"].new, plan["ratio"].order) == ("share", (1, 0))


def test_migration_rewrites_calls_and_imports_but_not_lookalikes():
    source = ("from vendor.lib import ratio, to_cents\nfrom vendor import lib\n\n\n"
              "def f(x, factor=2):\n    return lib.bounded(x, 0, 30) + ratio(x // 3, x) + to_cents(x)"
              " + lib.scaled(x, factor=4) + factor\n")
    out = migrated(source, "lib", parse_changelog(CHANGELOG))
    assert "from vendor.lib import share, as_cents" in out
    assert "lib.bounded(0, 30, x)" in out and "share(x, x // 3)" in out
    assert "lib.scaled(x, multiplier=4)" in out and "def f(x, factor=2)" in out
    slipped = migrated(source, "lib", parse_changelog(CHANGELOG), keep_order=True)
    assert "lib.bounded(x, 0, 30)" in slipped


def test_the_decision_is_read_from_the_brief():
    text = ("Decision: the new parameter is called `ceiling`; it is a keyword-only parameter with default "
            "55; every existing call site, including those in the tests, passes `ceiling=55` explicitly.")
    d = parse_decision(text)
    assert (d.param, d.required, d.value) == ("ceiling", False, 55)
    assert parse_decision("the parameter's name and value were decided in the design review") is None


def test_the_block_and_the_convention_are_read_from_the_brief():
    brief = "repeats it:\n\n    seen = set()\n    for item in values:\n        x = 1\n\nExtract it into one"
    assert parse_block(brief) == "seen = set()\nfor item in values:\n    x = 1"
    c = parse_convention("every public function in `p/m.py` that returns a money amount is named with the "
                         "suffix `_cents` and has a docstring starting with `Returns`")
    assert (c.kind, c.path, c.suffix, c.prefix) == ("money", "p/m.py", "_cents", "Returns")
    feats = parse_features("- `installment(amount: int, parts: int)`: returns one of `parts` equal "
                           "installments of `amount`, rounded up.\n- `odd(x: int)`: returns nonsense.")
    assert feats[0].expr == "-(-amount // parts)" and feats[1].expr is None


def test_candidate_fixes_include_the_true_fix_for_each_kind_of_bug():
    bugs = {
        "def f(values, k):\n    return sum(1 for item in values if item >= k)\n": "item > k",
        "def f(values, k):\n    return values[len(values) - k + 1:]\n": "values[len(values) - k:]",
        "def f(values, k):\n    return (len(values) + k) // k\n": "(len(values) + k - 1) // k",
        "STEP = 10\n\n\ndef f(values, k):\n    return sum(values) % STEP\n": "STEP = 5",
    }
    for source, fix in bugs.items():
        fixes = [text for _, text in candidate_fixes(source, "f")]
        assert any(fix in text for text in fixes), (source, fixes)
        assert all(ast.parse(text) for text in fixes)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="abc\n", min_size=1, max_size=30), st.data())
def test_splice_applies_disjoint_edits_as_if_one_by_one_from_the_end(text, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=6, unique=True)))
    edits = [(cuts[i], cuts[i + 1], "X" * i) for i in range(0, len(cuts) - 1, 2)]
    expected = text
    for start, end, new in reversed(edits):
        expected = expected[:start] + new + expected[end:]
    assert splice(text, edits) == expected
    assert splice(text, []) == text
