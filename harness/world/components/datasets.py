"""Datasets: named tables the data-analysis tasks query and edit through SQL.

The stored tables are the source of truth: plain column lists with a declared type per
column (``int``, ``float``, ``text``, ``date`` and ``timestamp`` as ISO text, ``bool``),
so a snapshot is JSON and a digest is stable across processes. SQL runs on an in-memory
DuckDB connection built from them on first use; a write re-reads every table from DuckDB
and drops the connection, so nothing lives only in the engine.

The connection has one thread (row order of ``CREATE TABLE AS`` is then reproducible) and
no file-system access (a query cannot read the host).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import hashlib
from typing import Any

import duckdb
import pandas as pd

from harness.core.hashing import canonical_json
from harness.world.state import COMPONENTS
from harness.world.workspace import WorldError

TYPES = ("int", "float", "text", "date", "timestamp", "bool")
_SQL_TYPE = {"int": "BIGINT", "float": "DOUBLE", "text": "VARCHAR", "date": "DATE",
             "timestamp": "TIMESTAMP", "bool": "BOOLEAN"}
_PANDAS_DTYPE = {"int": "Int64", "float": "Float64", "bool": "boolean"}
ROW_CAP = 200
_READ = {"SELECT", "EXPLAIN"}
_WRITE = {"CREATE", "INSERT", "UPDATE", "DELETE", "DROP", "ALTER"}


def _our_type(sql_type: str) -> str:
    """Map an engine type back to a stored type; anything exotic becomes text."""
    t = sql_type.upper()
    if t in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER",
             "USMALLINT", "UTINYINT"):
        return "int"
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return "float"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t == "BOOLEAN":
        return "bool"
    return "text"


def _plain(value: Any) -> Any:
    """A JSON-able value of a query result (dates as ISO text, decimals as floats)."""
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return value


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Table:
    """One table: ordered typed columns of equal length."""

    __slots__ = ("columns", "data")

    def __init__(self, columns: list[tuple[str, str]], data: list[list[Any]]):
        if len(columns) != len(data):
            raise WorldError(f"{len(columns)} columns but {len(data)} data lists")
        if len({len(c) for c in data}) > 1:
            raise WorldError("columns of one table must have equal length")
        for _, typ in columns:
            if typ not in TYPES:
                raise WorldError(f"unknown column type {typ!r}; known: {', '.join(TYPES)}")
        self.columns = [(str(n), str(t)) for n, t in columns]
        self.data = [list(c) for c in data]

    @property
    def n_rows(self) -> int:
        return len(self.data[0]) if self.data else 0

    def rows(self) -> list[tuple[Any, ...]]:
        return list(zip(*self.data, strict=True)) if self.data else []

    def column(self, name: str) -> list[Any]:
        for (n, _), values in zip(self.columns, self.data, strict=True):
            if n == name:
                return values
        raise WorldError(f"no column {name!r}; columns: {', '.join(n for n, _ in self.columns)}")

    def snapshot(self) -> dict[str, Any]:
        return {"columns": [list(c) for c in self.columns], "data": [list(c) for c in self.data]}


@COMPONENTS.register("datasets")
class Datasets:
    def __init__(self, tables: dict[str, Table] | None = None):
        self._tables: dict[str, Table] = dict(tables or {})
        self._con: duckdb.DuckDBPyConnection | None = None
        self._digests: dict[str, str] = {}

    # -- building and serialization -------------------------------------------------------
    def put(self, name: str, columns: list[tuple[str, str]], data: list[list[Any]]) -> None:
        self._tables[name] = Table(columns, data)
        self._changed()

    def snapshot(self) -> dict[str, Any]:
        return {"tables": {n: t.snapshot() for n, t in sorted(self._tables.items())}}

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Datasets:
        tables = {n: Table([tuple(c) for c in t["columns"]], t["data"])
                  for n, t in (data or {}).get("tables", {}).items()}
        return cls(tables)

    def table_digest(self, name: str) -> str:
        if name not in self._digests:
            self._digests[name] = hashlib.sha256(canonical_json(self._table(name).snapshot()).encode()).hexdigest()
        return self._digests[name]

    def resource_digest(self, kind: str, name: str) -> str | None:
        """Content of ``table:NAME`` (``table:`` is every table); None for other kinds."""
        if kind != "table":
            return None
        if not name:
            return self.digest()
        return self.table_digest(name) if name in self._tables else "absent"

    def digest(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self._tables):
            h.update(name.encode() + b"\0" + self.table_digest(name).encode())
        return h.hexdigest()

    # -- inspection -----------------------------------------------------------------------
    def list_tables(self) -> list[str]:
        return sorted(self._tables)

    def has(self, name: str) -> bool:
        return name in self._tables

    def schema(self, name: str) -> list[tuple[str, str]]:
        return list(self._table(name).columns)

    def table(self, name: str) -> Table:
        return self._table(name)

    def n_rows(self, name: str) -> int:
        return self._table(name).n_rows

    # -- SQL --------------------------------------------------------------------------------
    def sql(self, query: str, limit: int = ROW_CAP) -> dict[str, Any]:
        """Run one read-only statement: columns, up to ``limit`` rows, and whether more exist."""
        statements = self._statements(query)
        if len(statements) != 1 or statements[0].type.name not in _READ:
            raise WorldError("sql() runs exactly one SELECT statement",
                             "use sql_write for CREATE, INSERT, UPDATE, DELETE or DROP")
        con = self._connection()
        try:
            cur = con.execute(statements[0].query)
            columns = [d[0] for d in cur.description or []]
            fetched = cur.fetchmany(limit + 1)
            cur.fetchall()  # drain: never leave a result pending on a shared connection
        except duckdb.Error as exc:
            raise WorldError(f"query failed: {exc}") from None
        rows = [tuple(_plain(v) for v in r) for r in fetched[:limit]]
        return {"columns": columns, "rows": rows, "truncated": len(fetched) > limit}

    def sql_write(self, statement: str) -> dict[str, Any]:
        """Run statements that change tables; the stored tables then mirror the engine."""
        statements = self._statements(statement)
        bad = [s.type.name for s in statements if s.type.name not in _WRITE]
        if not statements or bad:
            raise WorldError(f"sql_write runs CREATE, INSERT, UPDATE, DELETE, DROP or ALTER, got {bad or 'nothing'}",
                             "use sql for SELECT")
        con = self._connection()
        changed = 0
        try:
            for st in statements:
                result = con.execute(st.query).fetchall()
                if st.type.name in ("INSERT", "UPDATE", "DELETE") and result and isinstance(result[0][0], int):
                    changed += result[0][0]
            tables = self._read_back(con)
        except duckdb.Error as exc:
            # The engine may hold half of a multi-statement write: drop it, keep the tables.
            self._con = None
            raise WorldError(f"statement failed (no table was changed): {exc}") from None
        self._tables = tables
        self._digests = {}  # the engine already holds exactly these tables: keep the connection
        return {"rows_changed": changed, "tables": self.list_tables()}

    # -- internals ------------------------------------------------------------------------
    def _table(self, name: str) -> Table:
        try:
            return self._tables[name]
        except KeyError:
            raise WorldError(f"no such table: {name}", f"tables: {', '.join(self.list_tables()) or 'none'}") from None

    def _changed(self) -> None:
        self._con = None
        self._digests = {}

    @staticmethod
    def _statements(text: str) -> list[Any]:
        try:
            return list(duckdb.extract_statements(text))
        except duckdb.Error as exc:
            raise WorldError(f"cannot parse SQL: {exc}") from None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            con = duckdb.connect(config={"threads": 1, "enable_external_access": False})
            for name, table in sorted(self._tables.items()):
                frame = pd.DataFrame({
                    f"c{i}": pd.array(values, dtype=_PANDAS_DTYPE.get(typ, object))
                    for i, ((_, typ), values) in enumerate(zip(table.columns, table.data, strict=True))
                }, index=range(table.n_rows))
                cols = ", ".join(f"CAST(c{i} AS {_SQL_TYPE[typ]}) AS {_quote(n)}"
                                 for i, (n, typ) in enumerate(table.columns))
                con.register("__load", frame)
                con.execute(f"CREATE TABLE {_quote(name)} AS SELECT {cols or '1 AS _'} FROM __load").fetchall()
                con.unregister("__load")
            self._con = con
        return self._con

    @staticmethod
    def _read_back(con: duckdb.DuckDBPyConnection) -> dict[str, Table]:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary "
            "ORDER BY table_name").fetchall()]
        tables = {}
        for name in names:
            cols = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' "
                "AND table_name = ? ORDER BY column_index", [name]).fetchall()
            typed = [(c, _our_type(t)) for c, t in cols]
            # Dates and timestamps come back as ISO text: the stored form, and far cheaper
            # than building datetime objects.
            select = ", ".join(
                f"CAST({_quote(c)} AS VARCHAR)" if t in ("date", "timestamp", "text") else
                f"CAST({_quote(c)} AS DOUBLE)" if t == "float" else _quote(c)
                for c, t in typed)
            rows = con.execute(f"SELECT {select} FROM {_quote(name)} ORDER BY rowid").fetchall()
            data = [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in typed]
            tables[name] = Table(typed, data)
        return tables
