"""What each page of ``harness view`` shows, read fresh from the store on every call.

Each public function opens ONE read-only connection, reads what its page needs and closes
it before returning: nothing holds the file between requests, and a request holds it as
briefly as it can (DuckDB refuses a writer while any reader has the file open). Only an
episode's transcript and briefs come through ``harness.store.reader``'s own calls. Unknown
runs, conditions and episodes raise ``NotFound`` (the app turns it into an HTTP 404 that
names what was missing).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from harness.store import reader, schema
from harness.store.files import fetch

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
# The action columns every store version has (transcripts add more, read by reader.transcript).
ACTION_COLUMNS = ("seq", "parent", "tool", "ok", "accurate", "sim_minutes")


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
    pair: str | None = None  # the one the run compares this condition with


@contextlib.contextmanager
def _reading(db: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """One read-only connection for one request, closed on the way out. Opened the way
    ``harness.store.reader`` opens every store (its checks, its messages, and whatever
    waiting for a committing writer it does), so the viewer reads exactly what it reads."""
    with reader._open(db) as (con, _):
        yield con


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def _run(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    names = schema.RUNS.names
    rows = fetch(con, f"SELECT {', '.join(names)} FROM runs WHERE id = ?", [run_id])
    if not rows:
        raise NotFound(f"unknown run {run_id!r}")
    info = dict(zip(names, rows[0], strict=True))
    info["config"] = json.loads(info["config"])
    info["episodes_done"] = fetch(con, "SELECT count(*) FROM episodes WHERE run_id = ?", [run_id])[0][0]
    return info


def _episodes(con: duckdb.DuckDBPyConnection, run_id: str, where: str = "", params: list | None = None) -> pd.DataFrame:
    return _df(con, f"SELECT {', '.join(schema.EPISODES.names)} FROM episodes WHERE run_id = ? {where} "
                    "ORDER BY condition, task_id, repeat", [run_id, *(params or [])])


def _condition_names(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    return [r[0] for r in fetch(con, "SELECT name FROM conditions WHERE run_id = ? ORDER BY name", [run_id])]


def runs(db: str) -> pd.DataFrame:
    """One row per run, newest first, with ``episodes_done``."""
    cols = ", ".join(f"r.{c}" for c in schema.RUNS.names if c != "config")
    with _reading(db) as con:
        return _df(con, f"SELECT {cols}, (SELECT count(*) FROM episodes e WHERE e.run_id = r.id) AS episodes_done "
                        "FROM runs r ORDER BY r.started DESC, r.id DESC")


@dataclass(frozen=True)
class RunPage:
    info: dict[str, Any]
    conditions: pd.DataFrame  # condition, stored, planned, successes, completion, errors
    episodes: pd.DataFrame  # under the filters
    choices: dict[str, list[str]]  # the values each filter can take


def _summary(info: dict[str, Any], names: list[str], eps: pd.DataFrame, n_tasks: int) -> pd.DataFrame:
    planned = n_tasks * int(info["repeats"])
    rows = []
    for name in names:
        sub = eps[eps.condition == name]
        done = len(sub)
        ok = int(sub.success.sum()) if done else 0
        rows.append({"condition": name, "stored": done, "planned": planned, "successes": ok,
                     "completion": ok / done if done else None,
                     "errors": int(sub.termination.isin(["agent_error", "harness_error"]).sum())})
    return pd.DataFrame(rows, columns=["condition", "stored", "planned", "successes", "completion", "errors"])


def run_page(db: str, run_id: str, params: dict[str, str]) -> RunPage:
    """The run's row, per condition episodes stored, planned and succeeded, and its
    episodes under the filters."""
    with _reading(db) as con:
        info = _run(con, run_id)
        eps = _episodes(con, run_id)
        names = _condition_names(con, run_id)
        n_tasks = fetch(con, "SELECT count(*) FROM tasks WHERE run_id = ?", [run_id])[0][0]
    choices = {name: sorted(map(str, eps[name].unique())) for name in ("condition", "family", "termination")}
    choices["success"] = ["true", "false"]
    return RunPage(info, _summary(info, names, eps, n_tasks), filter_episodes(eps, params), choices)


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


def verdicts(check_detail: str | None) -> list[dict[str, Any]]:
    try:
        items = json.loads(check_detail or "[]")
    except json.JSONDecodeError:
        return [{"checker": "(unreadable)", "passed": False, "reason": str(check_detail)}]
    return [{"checker": str(v.get("checker")), "passed": bool(v.get("passed")), "reason": str(v.get("reason", ""))}
            for v in items if isinstance(v, dict)]


def _transcript(db: str, key: EpisodeKey, stored: pd.DataFrame) -> tuple[pd.DataFrame, list[str], bool]:
    """The episode's actions with args and observations where the store keeps them
    (``reader.transcript``), else the stored action rows with those columns empty."""
    transcript = getattr(reader, "transcript", None)
    if transcript is not None:
        df = transcript(db, key.run_id, key.condition, key.task_id, key.repeat).copy()
        briefs_of = getattr(reader, "briefs", None)
        briefs = list(briefs_of(db, key.run_id, key.condition, key.task_id, key.repeat)) if briefs_of else []
        for col in ("args", "observation"):  # pandas' missing values shown as "none", never "nan"
            df[col] = df[col].astype(object).where(df[col].notna(), None)
        return df.reset_index(drop=True), briefs, True
    df = stored.copy()
    df["session"] = None
    df["args"] = None
    df["observation"] = None
    return df.reset_index(drop=True), [], False


def episode(db: str, key: EpisodeKey) -> EpisodeView:
    with _reading(db) as con:
        info = _run(con, key.run_id)
        if key.condition not in _condition_names(con, key.run_id):
            raise NotFound(f"unknown condition {key.condition!r} in run {key.run_id!r}")
        same = _episodes(con, key.run_id, "AND task_id = ? AND repeat = ?", [key.task_id, key.repeat])
        hit = same[same.condition == key.condition]
        if hit.empty:
            raise NotFound(f"no episode {key.condition}:{key.task_id}:{key.repeat} in run {key.run_id!r}")
        stored = _df(con, f"SELECT {', '.join(ACTION_COLUMNS)} FROM actions WHERE run_id = ? AND condition = ? "
                          "AND task_id = ? AND repeat = ? ORDER BY seq", [key.run_id, key.condition, key.task_id,
                                                                          key.repeat])
        compare = info["config"].get("compare") or []
    row = hit.iloc[0].to_dict()
    acts, briefs, has = _transcript(db, key, stored)
    events = [(label, row[col]) for col, label in EVENT_COLUMNS if col in row]
    pairs = sorted(c for c in same.condition if c != key.condition)
    return EpisodeView(key, row, verdicts(row.get("check_detail")), acts, briefs, has, events, pairs,
                       paired_condition(compare, key.condition, pairs))


def paired_condition(compare: list[str], condition: str, candidates: list[str]) -> str | None:
    """The condition the run compares ``condition`` with (its config's ``compare``), else
    the first other condition that has the same episode."""
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
