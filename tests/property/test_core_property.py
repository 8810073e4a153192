"""Named RNG streams, stable hashing and the simulated clock."""

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core import RngStreams, SimClock, stable_hash, stream
from harness.core.hashing import canonical_json

ids = st.text(min_size=1, max_size=20)
seeds = st.integers(min_value=0, max_value=2**63 - 1)


@given(seeds, ids, st.integers(0, 100), ids)
@settings(max_examples=50, deadline=None)
def test_same_identity_same_sequence(seed, task, repeat, name):
    assert (stream(seed, task, repeat, name).random(5) == stream(seed, task, repeat, name).random(5)).all()


@given(seeds, ids, st.integers(0, 100), ids, ids)
@settings(max_examples=50, deadline=None)
def test_different_names_give_different_streams(seed, task, repeat, a, b):
    if a != b:
        assert (stream(seed, task, repeat, a).random(4) != stream(seed, task, repeat, b).random(4)).any()


def test_streams_do_not_depend_on_the_process():
    code = "from harness.core import stream; print(stream(7, 'task-1', 2, 'agent.slip').random())"
    out = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout for _ in range(2)}
    assert out == {f"{stream(7, 'task-1', 2, 'agent.slip').random()}\n"}


def test_drawing_one_kind_never_shifts_another():
    a, b = RngStreams(1, "t", 0), RngStreams(1, "t", 0)
    for _ in range(17):
        a.uniform("agent.misread")  # many draws of one kind in a
    assert [a.uniform("agent.slip") for _ in range(5)] == [b.uniform("agent.slip") for _ in range(5)]


def test_stream_state_round_trips():
    a = RngStreams(3, "t", 1)
    a.uniform("x")
    saved = a.state()
    expected = [a.uniform("x") for _ in range(3)]
    b = RngStreams(3, "t", 1)
    b.restore(saved)
    assert [b.uniform("x") for _ in range(3)] == expected


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=6))
def test_hash_ignores_key_order(d):
    assert stable_hash(d) == stable_hash(dict(reversed(list(d.items()))))
    assert canonical_json(d) == canonical_json(dict(sorted(d.items())))


def test_clock_only_moves_forward():
    clock = SimClock()
    clock.advance(1.5)
    assert clock.now() == 1.5
    with pytest.raises(ValueError):
        clock.advance(-0.1)
