"""A small hand-made results store for ``harness view``'s tests (no experiment run).

Run ``r1`` (still ``running``), conditions A and B, tasks t1 and t2, one repeat:
A:t1 succeeds, B:t1 fails with one failed checker, A:t2 fails with an error, B:t2 is not
stored yet (so B has 1 of 2 planned episodes).
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.core.models import ActionRecord, EpisodeRecord
from harness.store import ResultWriter, RunInfo

RUN = "r1"
PASS = {"checker": "tests_pass", "passed": True, "reason": "3 tests passed"}
FAIL = {"checker": "answer_value", "passed": False, "reason": "value = 7 is wrong (expected 9)"}
TASKS = [{"task_id": t, "category": "code", "family": f"code/{t}_family", "difficulty": 2, "seed": 1,
          "spec_hash": f"h{t}"} for t in ("t1", "t2")]


def episode(condition: str, task: str, *, success: bool, verdicts: list[dict], n_actions: int,
            error: str | None = None, termination: str = "submitted") -> tuple[EpisodeRecord, list[ActionRecord]]:
    ep = EpisodeRecord(run_id=RUN, condition=condition, task_id=task, repeat=0, category="code",
                       family=f"code/{task}_family", difficulty=2, seed=1, success=success, termination=termination,
                       check_detail=json.dumps(verdicts), actions=n_actions, tool_calls=n_actions,
                       tool_calls_ok=n_actions, tool_calls_rejected=0, sim_minutes=1.5 * n_actions,
                       world_digest="d" * 16, error=error, approvals=1 if condition == "B" else 0,
                       approval_wait_minutes=12.0 if condition == "B" else 0.0)
    tools = ["read_file", "replace_in_file", "run_tests", "submit"]
    failing = 1 if not success and n_actions > 1 else None  # a failed episode's second action failed
    acts = [ActionRecord(run_id=RUN, condition=condition, task_id=task, repeat=0, seq=s,
                         parent=None if s == 0 else s - 1, tool=tools[s % len(tools)], ok=s != failing,
                         sim_minutes=0.5 * s) for s in range(n_actions)]
    return ep, acts


def make_store(path: Path, *, finish: bool = False) -> Path:
    info = RunInfo(id=RUN, experiment="smoke", config={"compare": ["A", "B"], "repeats": 1}, config_hash="c",
                   workload_hash="w", code_version="abc", seed=0, repeats=1, planned_episodes=4, host="test")
    with ResultWriter(path) as w:
        w.begin_run(info)
        w.record_conditions(RUN, {"A": {"x": 1}, "B": {"x": 2}})
        w.record_tasks(RUN, TASKS)
        w.add(*episode("A", "t1", success=True, verdicts=[PASS], n_actions=3))
        w.add(*episode("B", "t1", success=False, verdicts=[PASS, FAIL], n_actions=4))
        w.add(*episode("A", "t2", success=False, verdicts=[FAIL], n_actions=2, error="ValueError: boom",
                       termination="gave_up"))
        w.flush()
        if finish:
            w.finish_run(RUN)
    return path


def add_missing_episode(path: Path) -> None:
    """Store B:t2, as a running experiment would between two page loads."""
    info = RunInfo(id=RUN, experiment="smoke", config={"compare": ["A", "B"], "repeats": 1}, config_hash="c",
                   workload_hash="w", code_version="abc", seed=0, repeats=1, planned_episodes=4, host="test")
    with ResultWriter(path) as w:
        w.begin_run(info)
        w.add(*episode("B", "t2", success=True, verdicts=[PASS], n_actions=1))
        w.flush()
