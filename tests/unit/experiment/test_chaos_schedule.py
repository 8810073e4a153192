"""The chaos kill schedule: no kill is lost to a moment when nobody is alive, or to a
victim that was already on its way out; kills end with their count or their time."""

from __future__ import annotations

import pytest

from harness.experiment.chaos.schedule import KillSchedule


def test_a_due_kill_with_nobody_alive_goes_to_the_next_live_worker() -> None:
    s = KillSchedule(3, 5, 0.2, 60.0)
    t = s.gaps[0]
    assert s.due(t)
    assert s.pick([], t) is None and s.executed == 0  # nobody alive: not consumed, not dropped
    assert s.due(t + 0.4)  # still due later, however long nobody is alive
    assert s.pick([], t + 0.4) is None and s.executed == 0
    assert s.pick(["task03"], t + 0.5) == "task03"  # the first worker alive again takes it
    assert s.executed == 1
    # the next gap runs from the kill actually executed, so the waiting kill causes no burst
    assert not s.due(t + 0.5 + s.gaps[1] - 1e-9) and s.due(t + 0.5 + s.gaps[1])


def test_every_configured_kill_is_executed_then_the_schedule_is_over() -> None:
    s = KillSchedule(1, 4, 0.1, 60.0)
    now, victims = 0.0, []
    while s.pending(now):
        now += 0.01
        if s.due(now):
            alive = [] if len(victims) % 2 else ["a"]  # every other kill first finds nobody
            victim = s.pick(alive, now) or s.pick(["b"], now + 0.3)
            victims.append(victim)
            now += 0.3
    assert victims == ["a", "b", "a", "b"] and s.executed == s.kills == 4
    assert not s.due(now + 100) and not s.pending(now)


def test_a_kill_that_missed_its_victim_is_due_again_at_once() -> None:
    s = KillSchedule(2, 3, 0.5, 60.0)
    t = s.gaps[0]
    assert s.pick(["x"], t) == "x" and s.executed == 1
    assert not s.due(t)  # the next gap has only begun
    s.missed()  # "x" had already exited 0: the SIGKILL changed nothing
    assert s.executed == 0 and s.due(t)  # owed: due now, not a gap later
    assert s.pick(["y"], t + 0.01) == "y" and s.executed == 1
    assert not s.due(t + 0.01)


def test_missed_without_an_executed_kill_is_a_bug() -> None:
    with pytest.raises(ValueError):
        KillSchedule(0, 3, 0.1, 1.0).missed()


def test_no_kill_after_max_seconds_and_none_pending() -> None:
    s = KillSchedule(0, 50, 0.1, 1.0)
    assert s.pending(1.0) and not s.pending(1.0 + 1e-9)
    assert not s.due(5.0)  # its gap has long passed, but the chaos window is over
    s2 = KillSchedule(0, 0, 0.1, 1.0)
    assert not s2.pending(0.0) and not s2.due(0.0) and s2.kills == 0


def test_the_gaps_and_the_victims_are_seeded() -> None:
    a, b = KillSchedule(7, 30, 0.2, 60.0), KillSchedule(7, 30, 0.2, 60.0)
    assert a.gaps == b.gaps
    alive = ["t0", "t1", "t2"]
    assert [a.pick(alive, i) for i in range(30)] == [b.pick(alive, i) for i in range(30)]
    assert KillSchedule(8, 30, 0.2, 60.0).gaps != a.gaps
