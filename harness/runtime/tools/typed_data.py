"""Typed tools over the world's datasets component (data analysis).

Reads and writes are separate tools, so the read-only annotation of ``sql_query`` is
true: the world's ``sql`` runs exactly one read statement and refuses anything else.
Rows come back as lists beside a column list, capped (``truncated`` says more exist), so a
large table can never flood an agent's context silently.
"""

from __future__ import annotations

from typing import Any

import duckdb
from pydantic import Field

from harness.runtime.access import Access, AccessRule, sql_accesses
from harness.runtime.port import ToolAnnotations
from harness.runtime.tools.typed_models import READ_ONLY, Args, ToolDef
from harness.runtime.tools.typed_ops import Handler, NoArgs, Refused, guarded
from harness.world import World
from harness.world.components.datasets import ROW_CAP


def _datasets(world: World) -> Any:
    ds = world.datasets
    if ds is None:
        raise Refused("not_found", "this environment has no tables")
    return ds


class TableArgs(Args):
    table: str = Field(min_length=1, description="Table name (see list_tables).")


class SqlQueryArgs(Args):
    sql: str = Field(min_length=1, description="One SELECT statement (DuckDB dialect).")
    max_rows: int = Field(ROW_CAP, ge=1, le=ROW_CAP, description=f"Return at most this many rows (<= {ROW_CAP}).")


class SqlExecuteArgs(Args):
    sql: str = Field(min_length=1, description="CREATE, INSERT, UPDATE, DELETE, DROP or ALTER statements, ';'-separated.")


def _engine(fn: Any, field: str = "sql") -> Any:
    """A world call that may also hit the engine directly: its errors are the agent's SQL."""
    try:
        return guarded(fn, field)
    except duckdb.Error as exc:
        raise Refused("sql_error", f"query failed: {exc}", field) from None


def _list_tables(world: World, a: NoArgs) -> dict[str, Any]:
    ds = _datasets(world)
    return {"tables": [{"table": n, "rows": ds.n_rows(n)} for n in ds.list_tables()]}


def _describe(world: World, a: TableArgs) -> dict[str, Any]:
    ds = _datasets(world)
    columns = guarded(lambda: ds.schema(a.table), "table")
    return {"table": a.table, "columns": [{"name": n, "type": t} for n, t in columns], "rows": ds.n_rows(a.table)}


def _sql_query(world: World, a: SqlQueryArgs) -> dict[str, Any]:
    ds = _datasets(world)
    result = _engine(lambda: ds.sql(a.sql, limit=a.max_rows))
    return {"columns": result["columns"], "rows": [list(r) for r in result["rows"]],
            "row_count": len(result["rows"]), "truncated": result["truncated"]}


def _sql_execute(world: World, a: SqlExecuteArgs) -> dict[str, Any]:
    ds = _datasets(world)
    result = _engine(lambda: ds.sql_write(a.sql))
    return {"rows_affected": result["rows_changed"], "tables": result["tables"]}


def _table(a: dict[str, Any]) -> list[Access]:
    return [Access("read", f"table:{a.get('table', '')}")]


def _sql(write: bool) -> AccessRule:
    return lambda a: sql_accesses(str(a.get("sql", "")), write=write)


# (name, description, arguments, annotations, handler, access rule)
_TOOLS: tuple[tuple[str, str, type[Args], ToolAnnotations, Handler, AccessRule], ...] = (
    ("list_tables", "Every table with its row count. Returns {tables:[{table, rows}]}.", NoArgs, READ_ONLY,
     _list_tables, lambda a: [Access("read", "table:")]),
    ("describe_table", "A table's columns and row count. Returns {table, columns:[{name, type}], rows}.",
     TableArgs, READ_ONLY, _describe, _table),
    ("sql_query", f"Run one read-only SELECT. Returns {{columns, rows (lists), row_count, truncated}}; at most "
     f"{ROW_CAP} rows.", SqlQueryArgs, READ_ONLY, _sql_query, _sql(write=False)),
    ("sql_execute", "Run statements that change tables (all-or-nothing on error). Returns {rows_affected, tables}.",
     SqlExecuteArgs, ToolAnnotations(destructive=True), _sql_execute, _sql(write=True)),
)

DATA_TOOL_DEFS: tuple[ToolDef, ...] = tuple(
    ToolDef(name=n, description=d, args=m, annotations=ann, access=acc) for n, d, m, ann, _, acc in _TOOLS
)
DATA_HANDLERS: dict[str, Handler] = {n: h for n, _, _, _, h, _ in _TOOLS}
