"""The chaos experiment's disk world and soak agent: duplicate detection, determinism."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.experiment.chaos.diskworld import DiskWorld
from harness.experiment.chaos.schedule import KillSchedule
from harness.experiment.chaos.soak import SoakSpec, agent, perform, reconcile, run_reference


def test_applying_the_same_key_twice_is_reported_and_changes_the_world(tmp_path: Path) -> None:
    once, twice = DiskWorld(tmp_path / "a"), DiskWorld(tmp_path / "b")
    once.add("s", 0, 3, 5)
    twice.add("s", 0, 3, 5)
    twice.add("s", 0, 3, 5)
    assert once.duplicates() == {}
    assert twice.duplicates() == {("s", 0): 2}
    assert twice.read(3) == 10 and once.read(3) == 5  # not idempotent, on purpose
    assert once.digest() != twice.digest()


def test_state_survives_reopening_and_reconcile_finds_applied_effects(tmp_path: Path) -> None:
    world = DiskWorld(tmp_path)
    world.add("s", 0, 1, 4)
    world.add("s", 1, 1, -1)
    digest = world.digest()
    world.close()
    again = DiskWorld(tmp_path)
    assert again.read(1) == 3 and again.digest() == digest
    add = {"op": "add", "cell": 1, "delta": -1}
    assert reconcile(again, "s", 1, add) == {"value": 3}
    assert reconcile(again, "s", 2, add) is None  # never applied: must be applied, not assumed
    assert reconcile(again, "s", 1, {"op": "read", "cell": 1}) is None


def test_reference_is_deterministic_and_seed_sensitive(tmp_path: Path) -> None:
    spec = SoakSpec(seed=3, task="t", sessions=2, actions=200)
    a = run_reference(spec, tmp_path / "a")
    assert a == run_reference(spec, tmp_path / "b")
    assert a != run_reference(spec.model_copy(update={"seed": 4}), tmp_path / "c")


def test_next_action_depends_on_the_observation(tmp_path: Path) -> None:
    """A rebuilt agent can only be resumed by replaying observations: feed it a different
    value and its following add changes."""
    spec = SoakSpec(seed=0, task="t", sessions=1, actions=50, read_share=0.0)
    first = agent(spec, "t.s0")
    second = agent(spec, "t.s0")
    assert next(first) == next(second)
    assert first.send({"value": 1}) != second.send({"value": 2})


@settings(max_examples=25, deadline=None)
@given(seq=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=30))
def test_duplicates_are_exactly_the_repeated_keys(seq: list[tuple[int, int]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        world = DiskWorld(d, fsync=False)
        for key, cell in seq:
            perform(world, "s", key, {"op": "add", "cell": cell, "delta": 1})
        want = {("s", k): n for k in range(4) if (n := sum(1 for x, _ in seq if x == k)) > 1}
        assert world.duplicates() == want
        world.close()


def test_kill_schedule_is_seeded_and_bounded() -> None:
    a, b = KillSchedule(1, 50, 0.2, 3.0), KillSchedule(1, 50, 0.2, 3.0)
    assert a.gaps == b.gaps and len(a.gaps) == 50
    assert not a.due(a.gaps[0] - 1e-9) and a.due(a.gaps[0])
    assert a.pick([], a.gaps[0]) is None and a.executed == 0  # nobody alive: the kill waits
    assert a.pick(["x", "y"], a.gaps[0]) in {"x", "y"} and a.executed == 1
    assert not a.due(10.0)  # past max_seconds: no more kills
