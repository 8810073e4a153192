"""What each page of ``harness view`` shows, read fresh from the store on every call.

Every function goes through ``harness.store.reader``, which opens a read-only connection
and closes it before returning: nothing holds the file between requests, so a run that is
writing the store can be followed page by page. Unknown runs, conditions and episodes
raise ``NotFound`` (the app turns it into an HTTP 404 that names what was missing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harness.core.errors import StoreError
from harness.store import reader

NOT_RECORDED = "not recorded in this store"
# What the episodes table keeps about approvals, waits, crashes and recoveries: counts and
# minutes per episode. When each happened is not stored (no action row marks it).
EVENT_COLUMNS = (
    ("approvals", "approvals requested"), ("approval_wait_minutes", "minutes waiting for approval"),
    ("crashes", "crashes"), ("recoveries", "recoveries"), ("downtime_minutes", "downtime minutes"),
    ("checkpoints", "checkpoints"), ("transient_failures", "transient failures"),
    ("budget_extensions", "budget extensions"), ("unsafe_attempted", "unsafe actions attempted"),
    ("unsafe_blocked", "unsafe actions blocked"), ("unsafe_applied", "unsafe actions applied"),
    ("retention_asked", "retention probes"), ("retention_correct", "retention probes right"),
)
FILTERS = ("condition", "family", "success", "termination")


class NotFound(LookupError):
    """A URL names a run, condition or episode the store does not have."""


@dataclass(frozen=True)
class EpisodeKey:
    run_id: str
    condition: str
    task_id: str
    repeat: int


@dataclass(frozen=True)
class EpisodeView:
    """Everything the episode page shows."""

    key: EpisodeKey
    row: dict[str, Any]
    verdicts: list[dict[str, Any]]
    actions: pd.DataFrame  # seq, session, parent, tool, ok, accurate, sim_minutes, args, observation
    briefs: list[str]
    transcript: bool  # False: args, observations and briefs are not in this store
    events: list[tuple[str, Any]]
    pairs: list[str] = field(default_factory=list)  # other conditions with this task and repeat


def _run(db: str, run_id: str) -> dict[str, Any]:
    try:
        return reader.run_info(db, run_id)
    except StoreError as exc:
        if exc.message.startswith("unknown run"):
            raise NotFound(f"unknown run {run_id!r}") from exc
        raise


def runs(db: str) -> pd.DataFrame:
    """One row per run, newest first."""
    return reader.list_runs(db).iloc[::-1].reset_index(drop=True)


def run_summary(db: str, run_id: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """The run's row and, per condition, episodes stored, planned and succeeded."""
    info = _run(db, run_id)
    eps = reader.episodes(db, run_id)
    names = list(reader.conditions(db, run_id))
    planned = len(reader.tasks(db, run_id)) * int(info["repeats"])
    rows = []
    for name in names:
        sub = eps[eps.condition == name]
        done = len(sub)
        ok = int(sub.success.sum()) if done else 0
        rows.append({"condition": name, "stored": done, "planned": planned, "successes": ok,
                     "completion": ok / done if done else None,
                     "errors": int(sub.termination.isin(["agent_error", "harness_error"]).sum())})
    return info, pd.DataFrame(rows, columns=["condition", "stored", "planned", "successes", "completion", "errors"])


def filter_episodes(eps: pd.DataFrame, params: dict[str, str]) -> pd.DataFrame:
    """Episodes matching the query parameters (an empty value means no filter)."""
    out = eps
    for name in FILTERS:
        value = params.get(name) or ""
        if not value:
            continue
        if name == "success":
            out = out[out.success == (value.lower() in ("1", "true", "yes"))]
        else:
            out = out[out[name] == value]
    return out


def episode_list(db: str, run_id: str, params: dict[str, str]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The run's episodes under the filters, and the values each filter can take."""
    _run(db, run_id)
    eps = reader.episodes(db, run_id)
    choices = {name: sorted(map(str, eps[name].unique())) for name in ("condition", "family", "termination")}
    choices["success"] = ["true", "false"]
    return filter_episodes(eps, params), choices


def verdicts(check_detail: str | None) -> list[dict[str, Any]]:
    try:
        items = json.loads(check_detail or "[]")
    except json.JSONDecodeError:
        return [{"checker": "(unreadable)", "passed": False, "reason": str(check_detail)}]
    return [{"checker": str(v.get("checker")), "passed": bool(v.get("passed")), "reason": str(v.get("reason", ""))}
            for v in items if isinstance(v, dict)]


def _actions(db: str, key: EpisodeKey) -> tuple[pd.DataFrame, list[str], bool]:
    """The episode's actions with args and observations where the store keeps them."""
    transcript = getattr(reader, "transcript", None)
    if transcript is not None:
        df = transcript(db, key.run_id, key.condition, key.task_id, key.repeat).copy()
        briefs_of = getattr(reader, "briefs", None)
        briefs = list(briefs_of(db, key.run_id, key.condition, key.task_id, key.repeat)) if briefs_of else []
        return df, briefs, True
    df = reader.actions(db, key.run_id)
    df = df[(df.condition == key.condition) & (df.task_id == key.task_id) & (df.repeat == key.repeat)].copy()
    df["session"] = None
    df["args"] = None
    df["observation"] = None
    return df.reset_index(drop=True), [], False


def episode(db: str, key: EpisodeKey) -> EpisodeView:
    _run(db, key.run_id)
    eps = reader.episodes(db, key.run_id)
    if key.condition not in set(eps.condition) and key.condition not in reader.conditions(db, key.run_id):
        raise NotFound(f"unknown condition {key.condition!r} in run {key.run_id!r}")
    same = eps[(eps.task_id == key.task_id) & (eps.repeat == key.repeat)]
    hit = same[same.condition == key.condition]
    if hit.empty:
        raise NotFound(f"no episode {key.condition}:{key.task_id}:{key.repeat} in run {key.run_id!r}")
    row = hit.iloc[0].to_dict()
    acts, briefs, has = _actions(db, key)
    events = [(label, row[col]) for col, label in EVENT_COLUMNS if col in row]
    pairs = sorted(c for c in same.condition if c != key.condition)
    return EpisodeView(key, row, verdicts(row.get("check_detail")), acts, briefs, has, events, pairs)


def paired_condition(db: str, run_id: str, condition: str, candidates: list[str]) -> str | None:
    """The condition the run compares ``condition`` with (its config's ``compare``), else
    the first other condition that has the same episode."""
    compare = _run(db, run_id)["config"].get("compare") or []
    partners = [c for c in compare if c != condition and c in candidates] if condition in compare else []
    return (partners or candidates or [None])[0]


@dataclass(frozen=True)
class AlignedRow:
    """Row ``i`` of the side-by-side view: each episode's ``i``-th action (or None)."""

    index: int
    left: dict[str, Any] | None
    right: dict[str, Any] | None

    @property
    def differs(self) -> bool:
        if self.left is None or self.right is None:
            return True
        return any(self.left.get(k) != self.right.get(k) for k in ("tool", "ok", "args"))


def align(left: pd.DataFrame, right: pd.DataFrame) -> list[AlignedRow]:
    """Actions paired by their order in each episode."""
    a, b = left.to_dict("records"), right.to_dict("records")
    return [AlignedRow(i, a[i] if i < len(a) else None, b[i] if i < len(b) else None)
            for i in range(max(len(a), len(b)))]


HEADER_FIELDS = ("success", "termination", "sim_minutes", "actions", "tool_calls", "tool_calls_ok",
                 "tool_calls_rejected", "tool_calls_accurate", "approvals", "crashes", "recoveries", "error")


def header_diff(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any, bool]]:
    """(field, left, right, differs) for the fields the side-by-side header compares."""
    return [(f, a.get(f), b.get(f), a.get(f) != b.get(f)) for f in HEADER_FIELDS]
