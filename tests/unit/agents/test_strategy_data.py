"""Reference-agent strategies for the data_analysis families, run end to end."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.agents.profile import AgentProfile
from harness.agents.reference.cleaning import rules_for
from harness.agents.reference.metric_sessions import parse_definition, parse_excluded
from harness.agents.reference.toolkit_data import parse_aligned
from harness.runtime.tools.shell_psql import aligned
from harness.workload.families.cleaning import RULES
from tests.strategy_support import HUMAN, NATIVE, only, run, tasks

SINGLE = ["data_analysis/aggregate", "data_analysis/join_pitfalls", "data_analysis/cleaning",
          "data_analysis/anomaly"]
MULTI = "data_analysis/metric_sessions"
DEFAULT = AgentProfile().model_dump()


@pytest.mark.parametrize("family", SINGLE)
@pytest.mark.parametrize("layers", [NATIVE, HUMAN], ids=["native", "human"])
def test_perfect_profile_solves_every_task(family, layers):
    for spec in tasks(family):
        ep = run(spec, layers)
        assert ep.error is None
        assert ep.success, (spec.id, ep.termination)


def test_multi_session_perfect_native_carries_the_definition():
    for spec in tasks(MULTI):
        ep = run(spec, NATIVE)
        assert ep.error is None
        assert ep.success, (spec.id, ep.termination)


def test_multi_session_human_keeps_the_definition_only_if_it_was_written_down():
    # the definition lives only in session 1's words: unwritten, the default is wrong
    for spec in tasks(MULTI, per_difficulty=1):
        assert run(spec, HUMAN).success, spec.id
        ep = run(spec, HUMAN, only(note_lapse_rate=1.0))
        assert ep.error is None
        assert ep.termination == "submitted"
        assert not ep.success, spec.id


@pytest.mark.parametrize("family", [*SINGLE, MULTI])
def test_default_profile_native_at_least_human_and_no_harness_errors(family):
    rates = {}
    for name, layers in (("native", NATIVE), ("human", HUMAN)):
        eps = [run(spec, layers, DEFAULT, repeat=r) for spec in tasks(family, (1, 2), 2) for r in range(2)]
        assert all(ep.error is None for ep in eps)
        rates[name] = sum(ep.success for ep in eps) / len(eps)
    assert rates["native"] >= rates["human"], rates
    assert rates["native"] >= 0.75, rates


@pytest.mark.parametrize("family", ["data_analysis/aggregate", "data_analysis/cleaning"])
def test_a_taken_shortcut_is_attempted_and_fails_when_nothing_blocks_it(family):
    reckless = AgentProfile(unsafe_shortcut_rate=1.0, slip_rate=0, malformed_call_rate=0, misread_rate=0)
    for spec in tasks(family, (3,), 1):
        for layers in (NATIVE, HUMAN):  # ambient security in both: the damage is applied
            ep = run(spec, layers, reckless.model_dump())
            assert ep.error is None
            assert not ep.success


def test_every_cleaning_rule_wording_is_understood():
    found = rules_for(list(RULES.values()))
    assert found is not None
    assert len({r.cue for r in found}) == len(RULES)
    assert rules_for(["Rows whose name is odd are removed."]) is None


def test_definition_and_correction_parse_from_their_own_words_only():
    d = parse_definition("from now on, ... at least 3 events in that week; accounts whose e-mail ends in "
                         "'@bluefin.example' are internal and never count")
    assert d is not None and (d.min_events, d.domain) == (3, "bluefin.example")
    assert parse_excluded("'heartbeat' events are sent automatically by the app and do not count") == "heartbeat"
    assert parse_definition("'heartbeat' events are sent automatically") is None
    assert parse_excluded("at least 3 events in that week") is None


_cell = st.one_of(st.integers(-10**6, 10**6), st.text("abcdefgh xyz-@.", min_size=1, max_size=8).map(str.strip)
                  .filter(bool))


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 4).flatmap(lambda k: st.tuples(
    st.lists(st.text("abcdefgh_", min_size=1, max_size=6), min_size=k, max_size=k, unique=True),
    st.lists(st.lists(_cell, min_size=k, max_size=k), max_size=6))))
def test_aligned_text_reads_back_as_the_rows(table):
    columns, rows = table
    text = aligned(columns, [tuple(r) for r in rows], False)
    parsed = parse_aligned([line for line in text.splitlines() if line.strip()])
    assert parsed is not None
    assert parsed.columns == columns
    assert parsed.rows == [list(r) for r in rows]
