"""``ResultWriter.stop_run``: an interrupted run keeps what was buffered and says ``stopped``;
resuming it makes it ``running`` again, and finishing it ``finished``."""

from __future__ import annotations

from pathlib import Path

from harness.store import ResultWriter, reader
from tests.unit.store.test_store import actions_of, episode, run


def test_stop_run_commits_the_buffer_and_marks_the_run_stopped(tmp_path: Path):
    db = tmp_path / "s.duckdb"
    with ResultWriter(db, batch_size=100) as w:  # nothing would be committed before the batch is full
        w.begin_run(run(planned_episodes=5))
        for t in ("a", "b", "c"):
            ep = episode(t)
            w.add(ep, actions_of(ep))
        assert w.pending == 3
        assert w.stop_run("r1") == 3
        assert w.pending == 0
    info = reader.run_info(db, "r1")
    assert (info["status"], info["episodes_done"], info["finished"]) == ("stopped", 3, None)
    assert len(reader.actions(db, "r1")) == 9  # each episode with its actions


def test_a_stopped_run_resumes_as_running_and_ends_finished(tmp_path: Path):
    db = tmp_path / "s.duckdb"
    with ResultWriter(db) as w:
        w.begin_run(run(planned_episodes=2))
        w.add(episode("a"), [])
        w.stop_run("r1")
    with ResultWriter(db) as w:
        done = w.begin_run(run(planned_episodes=2))
        assert done == {("human", "a", 0)}
        assert reader.run_info(db, "r1")["status"] == "running"  # readable while the writer is open
        w.add(episode("b"), [])
        w.finish_run("r1")
    info = reader.run_info(db, "r1")
    assert (info["status"], info["episodes_done"]) == ("finished", 2) and info["finished"] is not None
