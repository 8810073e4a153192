"""One distribution of mistakes, consequences by interface (issue 16, item 3).

The kind of mistake a decision contains is drawn the same way under every interface; only
what follows differs (the consequence tests are in test_reference_agent.py)."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.agents.profile import AgentProfile
from harness.agents.reference.errors import ErrorProcesses, Mistake
from harness.agents.reference.toolkit_shell import ShellToolkit
from harness.agents.reference.toolkit_typed import TypedToolkit
from harness.core.rng import AgentStreams, RngStreams
from harness.runtime.port import Observation


def _errors(seed=0, **rates):
    return ErrorProcesses(AgentProfile(**rates), AgentStreams(RngStreams(seed, "t", 0)))


def test_kinds_come_at_the_profile_rates_split_evenly_within_each_class():
    errors = _errors(slip_rate=0.2, malformed_call_rate=0.1)
    kinds = Counter(errors.mistake() for _ in range(40_000))
    n = 40_000
    assert abs((kinds[Mistake.WRONG_TARGET] + kinds[Mistake.WRONG_VALUE]) / n - 0.2) < 0.01
    assert abs((kinds[Mistake.BROKEN_SYNTAX] + kinds[Mistake.DROPPED_SCOPE]) / n - 0.1) < 0.01
    assert abs(kinds[Mistake.WRONG_TARGET] / n - 0.1) < 0.01 and abs(kinds[Mistake.BROKEN_SYNTAX] / n - 0.05) < 0.01


@settings(max_examples=25)
@given(st.floats(0, 0.5), st.floats(0, 0.5), st.lists(st.booleans(), min_size=1, max_size=30))
def test_every_decision_draws_the_same_whatever_the_rates(slip, malformed, changes):
    # Two draws per decision, always: the k-th decision meets the same draws in every
    # condition and at every skill level (common random numbers).
    a, b = _errors(slip_rate=slip, malformed_call_rate=malformed), _errors()
    for c in changes:
        a.mistake(changes=c)
        b.mistake(changes=c)
    assert a.rng.uniform("agent.mistake") == b.rng.uniform("agent.mistake")
    assert a.rng.uniform("agent.mistake_kind") == b.rng.uniform("agent.mistake_kind")


def test_a_query_has_no_target_or_value_to_get_wrong():
    errors = _errors(slip_rate=1.0, malformed_call_rate=0.0)
    assert {errors.mistake(changes=False) for _ in range(200)} == {None}


def _kinds_seen(kit_cls, seed):
    """The kinds drawn for one fixed sequence of decisions through a toolkit."""
    errors = _errors(seed, slip_rate=0.3, malformed_call_rate=0.3)
    seen = []
    original = ErrorProcesses.mistake

    def recording(self, *, changes=True):
        kind = original(self, changes=changes)
        seen.append((changes, kind))
        return kind

    kit = kit_cls(errors) if kit_cls is ShellToolkit else kit_cls(errors, {"search", "read_file", "write_file",
                                                                            "run_tests", "replace_in_file"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ErrorProcesses, "mistake", recording)
        for method, args in (("write", ("a.py", "x = 1\n")), ("replace", ("a.py", "x = 1", "x = 2")),
                             ("search", ("x",)), ("post_comment", ("remember this",)), ("read", ("a.py",))):
            steps = getattr(kit, method)(*args)
            try:
                call = next(steps)
                while True:  # every call answered as done, so each method is exactly one decision
                    call = steps.send(Observation(tool=call.tool, ok=True, text="", data={"path": "a.py", "files": [],
                                                                                          "hits": [], "text": ""}))
            except StopIteration:
                pass
    return seen


@pytest.mark.parametrize("seed", range(5))
def test_the_same_decisions_draw_the_same_mistakes_under_either_interface(seed):
    assert _kinds_seen(TypedToolkit, seed) == _kinds_seen(ShellToolkit, seed)
