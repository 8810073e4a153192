"""Read-only access to a results store: what notebooks, ``harness.paper`` and the CLI use.

Every function takes the store path and opens its own short-lived read-only connection,
so nothing holds the file between calls. A store being written by a running experiment
in another process is locked by DuckDB; that, and every other duckdb failure, reaches
the caller as a StoreError of one or two lines.
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


@contextlib.contextmanager
def _open(path: str | Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    p = check_store_path(path, must_exist=True)
    con = connect(p, read_only=True)
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


def actions(path: str | Path, run_id: str | None = None) -> pd.DataFrame:
    """The run's actions (default: the latest run), sorted by episode key and seq."""
    with _open(path) as (con, p):
        rid = _resolve(con, p, run_id)
        return _df(
            con,
            f"SELECT {', '.join(schema.ACTIONS.names)} FROM actions WHERE run_id = ? "
            "ORDER BY condition, task_id, repeat, seq",
            [rid],
        )


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
