"""Read-only access to a results store: what notebooks, ``harness.paper`` and the CLI use.

Every function takes the store path and opens its own short-lived read-only connection,
so nothing holds the file between calls. A running experiment's writer holds the file
only while it commits a batch, so a reader follows a run as it is written: meeting the
writer's lock it retries for up to ``READ_WAIT_SECONDS``; after that, and for every other
duckdb failure, the caller gets a StoreError of one or two lines.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from harness.core.errors import StoreError
from harness.store import schema
from harness.store.files import check_store_path, connect, fetch, translated

_RUN_COLUMNS = [c for c in schema.RUNS.names if c != "config"]


# The writer holds the file only while it commits a batch; a reader that meets its lock
# waits this long for the commit to end before saying the store is busy.
READ_WAIT_SECONDS = 5.0


@contextlib.contextmanager
def _open(path: str | Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    p = check_store_path(path, must_exist=True)
    con = connect(p, read_only=True, wait_seconds=READ_WAIT_SECONDS)
    try:
        with translated(p, "read it"):
            if not schema.check(con, p):
                raise StoreError(f"no results at {p} (the database is empty)", hint="run `harness run ...` first")
            yield con, p
    finally:
        with contextlib.suppress(duckdb.Error):  # a read-only connection has nothing to lose
            con.close()


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def _known_runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in fetch(con, "SELECT id FROM runs ORDER BY started DESC, id")]


def _require_run(con: duckdb.DuckDBPyConnection, p: Path, run_id: str) -> None:
    if fetch(con, "SELECT 1 FROM runs WHERE id = ?", [run_id]):
        return
    known = _known_runs(con)
    shown = ", ".join(known[:10]) + (f" (and {len(known) - 10} more)" if len(known) > 10 else "")
    raise StoreError(
        f"unknown run {run_id!r} in {p}",
        hint=f"known runs: {shown}" if known else "the store has no runs yet; run `harness run ...` first",
    )


def _latest(con: duckdb.DuckDBPyConnection, p: Path, experiment: str | None) -> str:
    where, params = ("WHERE experiment = ?", [experiment]) if experiment is not None else ("", [])
    row = fetch(con, f"SELECT id FROM runs {where} ORDER BY started DESC, id DESC LIMIT 1", params)
    if row:
        return row[0][0]
    if experiment is None:
        raise StoreError(f"no runs in {p}", hint="run `harness run experiment=...` first")
    present = sorted({r[0] for r in fetch(con, "SELECT DISTINCT experiment FROM runs")})
    raise StoreError(
        f"no runs of experiment {experiment!r} in {p}",
        hint=f"experiments present: {', '.join(present)}" if present else "run `harness run ...` first",
    )


def _resolve(con: duckdb.DuckDBPyConnection, p: Path, run_id: str | None) -> str:
    if run_id is None:
        return _latest(con, p, None)
    _require_run(con, p, run_id)
    return run_id


def list_runs(path: str | Path) -> pd.DataFrame:
    """One row per run (oldest first), without the config, plus ``episodes_done``."""
    cols = ", ".join(f"r.{c}" for c in _RUN_COLUMNS)
    with _open(path) as (con, _):
        return _df(
            con,
            f"SELECT {cols}, (SELECT count(*) FROM episodes e WHERE e.run_id = r.id) AS episodes_done "
            "FROM runs r ORDER BY r.started, r.id",
        )


def latest_run(path: str | Path, experiment: str | None = None) -> str:
    """The id of the most recently started run (of ``experiment``, if given)."""
    with _open(path) as (con, p):
        return _latest(con, p, experiment)


def run_info(path: str | Path, run_id: str) -> dict:
    """The run's ``runs`` row as a dict (``config`` parsed), plus ``episodes_done``."""
    with _open(path) as (con, p):
        _require_run(con, p, run_id)
        names = schema.RUNS.names
        row = fetch(con, f"SELECT {', '.join(names)} FROM runs WHERE id = ?", [run_id])[0]
        info = dict(zip(names, row, strict=True))
        info["config"] = json.loads(info["config"])
        info["episodes_done"] = fetch(con, "SELECT count(*) FROM episodes WHERE run_id = ?", [run_id])[0][0]
        return info


def episodes(path: str | Path, run_id: str | None = None) -> pd.DataFrame:
    """The run's episodes (default: the latest run), sorted by condition, task_id, repeat."""
    with _open(path) as (con, p):
        rid = _resolve(con, p, run_id)
        return _df(
            con,
            f"SELECT {', '.join(schema.EPISODES.names)} FROM episodes WHERE run_id = ? "
            "ORDER BY condition, task_id, repeat",
            [rid],
        )


def estimates(path: str | Path, run_id: str | None = None, analysis: str | None = None) -> pd.DataFrame:
    """The stored estimates of a run (default: the latest run), optionally of one analysis."""
    with _open(path) as (con, p):
        rid = _resolve(con, p, run_id)
        where, params = "run_id = ?", [rid]
        if analysis is not None:
            where, params = where + " AND analysis = ?", [rid, analysis]
        return _df(con, f"SELECT {', '.join(schema.ESTIMATES.names)} FROM estimates WHERE {where} "
                        "ORDER BY analysis, conditions, statistic, category", params)


def exec_perf(path: str | Path, run_id: str | None = None) -> pd.DataFrame:
    """The execution-layer measurements of a run (Table 3), in stored order."""
    with _open(path) as (con, p):
        rid = _resolve(con, p, run_id)
        return _df(con, f"SELECT {', '.join(schema.EXEC_PERF.names)} FROM exec_perf WHERE run_id = ?", [rid])


def _action_columns(con: duckdb.DuckDBPyConnection, names: tuple[str, ...] = schema.ACTIONS.names) -> str:
    """``names`` as select expressions; a column an older store lacks reads as NULL."""
    lacking = schema.lacking_columns(con, "actions")
    types = {c.name: c.sql_type for c in schema.ACTIONS.columns}
    return ", ".join(f"CAST(NULL AS {types[n]}) AS {n}" if n in lacking else n for n in names)


def actions(path: str | Path, run_id: str | None = None, *, transcript: bool = False) -> pd.DataFrame:
    """The run's actions (default: the latest run), sorted by episode key and seq. The
    transcript columns (``args``, ``observation``) are left out unless ``transcript``: they
    are most of the table's bytes, and analyses never read them."""
    names = schema.ACTIONS.names if transcript else tuple(
        n for n in schema.ACTIONS.names if n not in ("args", "observation"))
    with _open(path) as (con, p):
        rid = _resolve(con, p, run_id)
        return _df(
            con,
            f"SELECT {_action_columns(con, names)} FROM actions WHERE run_id = ? "
            "ORDER BY condition, task_id, repeat, seq",
            [rid],
        )


TRANSCRIPT_COLUMNS = ("seq", "session", "parent", "tool", "ok", "accurate", "sim_minutes", "args", "observation")


def _require_episode(con: duckdb.DuckDBPyConnection, p: Path, key: list) -> None:
    if fetch(con, "SELECT 1 FROM episodes WHERE run_id = ? AND condition = ? AND task_id = ? AND repeat = ?", key):
        return
    raise StoreError(f"no episode {key[2]} repeat {key[3]} under condition {key[1]!r} in run {key[0]!r} of {p}",
                     hint="list the run's episodes with harness.store.reader.episodes")


def transcript(path: str | Path, run_id: str, condition: str, task_id: str, repeat: int) -> pd.DataFrame:
    """One episode's actions in order: seq, session, parent, tool, ok, accurate, sim_minutes,
    ``args`` (the call's arguments, parsed to a dict) and ``observation`` (the text the
    agent received). Both are None for a store written before transcripts (schema < 5);
    ``observation`` is None also for an action whose result a crash kept from the agent."""
    key = [run_id, condition, task_id, int(repeat)]
    with _open(path) as (con, p):
        _require_run(con, p, run_id)
        _require_episode(con, p, key)
        frame = _df(con, f"SELECT {_action_columns(con, TRANSCRIPT_COLUMNS)} FROM actions "
                         "WHERE run_id = ? AND condition = ? AND task_id = ? AND repeat = ? ORDER BY seq", key)
    frame["args"] = [None if a is None else json.loads(a) for a in frame["args"]]
    frame["observation"] = frame["observation"].astype(object).where(frame["observation"].notna(), None)
    return frame


def briefs(path: str | Path, run_id: str, condition: str, task_id: str, repeat: int) -> list[str]:
    """What the agent was told at the start of each work session of one episode, in order;
    [] for a store written before transcripts (or an episode that never began a session)."""
    key = [run_id, condition, task_id, int(repeat)]
    with _open(path) as (con, p):
        _require_run(con, p, run_id)
        _require_episode(con, p, key)
        if "briefs" not in schema.existing_tables(con):
            return []
        rows = fetch(con, "SELECT text FROM briefs WHERE run_id = ? AND condition = ? AND task_id = ? "
                          "AND repeat = ? ORDER BY session", key)
        return [r[0] for r in rows]


def conditions(path: str | Path, run_id: str) -> dict[str, dict]:
    """Condition name -> the spec it ran with."""
    with _open(path) as (con, p):
        _require_run(con, p, run_id)
        rows = fetch(con, "SELECT name, spec FROM conditions WHERE run_id = ? ORDER BY name", [run_id])
        return {name: json.loads(spec) for name, spec in rows}


def tasks(path: str | Path, run_id: str) -> pd.DataFrame:
    """The run's tasks, sorted by task_id."""
    with _open(path) as (con, p):
        _require_run(con, p, run_id)
        cols = ", ".join(schema.TASKS.names)
        return _df(con, f"SELECT {cols} FROM tasks WHERE run_id = ? ORDER BY task_id", [run_id])


def exchanges(path: str | Path, run_id: str) -> pd.DataFrame:
    """The run's recorded model exchanges (agent=llm/mock), sorted by episode key and seq;
    empty for a run, or a store from before recordings, that has none."""
    cols = schema.EXCHANGES.names
    with _open(path) as (con, p):
        _require_run(con, p, run_id)
        if "exchanges" not in schema.existing_tables(con):
            return pd.DataFrame(columns=list(cols))
        return _df(con, f"SELECT {', '.join(cols)} FROM exchanges WHERE run_id = ? "
                        "ORDER BY condition, task_id, repeat, seq", [run_id])


def deterministic_episode_rows(path: str | Path, run_id: str) -> list[tuple]:
    """Every episode column except ``wall_*`` and ``run_id``, sorted: equal for equal runs."""
    cols = schema.DETERMINISTIC_EPISODE_COLUMNS
    with _open(path) as (con, p):
        _require_run(con, p, run_id)
        return fetch(
            con,
            f"SELECT {', '.join(cols)} FROM episodes WHERE run_id = ? ORDER BY condition, task_id, repeat",
            [run_id],
        )
