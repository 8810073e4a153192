"""The results store's schema: tables, column types and the schema version.

``episodes`` and ``actions`` are built from the pydantic row models in ``harness.core``
so the table and the model can never drift apart: a field added to ``EpisodeRecord``
becomes a column, and a field whose type has no mapping fails at import, not at the
first insert of a long run.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, replace

import duckdb
from pydantic import BaseModel

from harness.core.errors import StoreError
from harness.core.models import ActionRecord, EpisodeRecord, EstimateRecord, Frozen
from harness.store.files import fetch

# Bump when a table changes shape; a store with a higher version is refused (an older
# harness must not write rows a newer one cannot read back), a lower one needs a migration.
SCHEMA_VERSION = 5  # 4: episodes.traceback (agent and harness errors); 5: transcripts

# BIGINT rather than INTEGER for every Python int: seeds and token counts do not fit in
# 32 bits. Exact-type lookup (not isinstance) because bool is a subclass of int.
_SQL_TYPE: dict[type, str] = {str: "VARCHAR", int: "BIGINT", float: "DOUBLE", bool: "BOOLEAN"}

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    nullable: bool = False
    # DuckDB's column compression, forced; None lets DuckDB choose. Transcript text is
    # ZSTD: 12.8x smaller than raw where DuckDB's own choice (FSST/dictionary) gives 3.5x,
    # and still plain VARCHAR to readers (benchmarks/transcript_compression.py).
    compression: str | None = None

    def ddl(self) -> str:
        using = f" USING COMPRESSION {self.compression}" if self.compression else ""
        return f"{self.name} {self.sql_type}{'' if self.nullable else ' NOT NULL'}{using}"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def ddl(self) -> str:
        cols = [c.ddl() for c in self.columns]
        if self.primary_key:
            cols.append(f"PRIMARY KEY ({', '.join(self.primary_key)})")
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  " + ",\n  ".join(cols) + "\n)"


def _column_for(name: str, annotation: object) -> Column:
    nullable = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"field {name!r}: union {annotation!r} has no single column type")
        nullable, annotation = True, args[0]
    if typing.get_origin(annotation) is typing.Literal:  # stored as the type of its values
        kinds = {type(v) for v in typing.get_args(annotation)}
        if len(kinds) != 1:
            raise TypeError(f"field {name!r}: literal {annotation!r} mixes value types")
        annotation = kinds.pop()
    sql_type = _SQL_TYPE.get(annotation)  # type: ignore[arg-type]
    if sql_type is None:
        raise TypeError(f"field {name!r}: type {annotation!r} has no DuckDB column type mapping")
    return Column(name, sql_type, nullable)


def table_from_model(name: str, model: type[BaseModel], primary_key: tuple[str, ...],
                     zstd: tuple[str, ...] = ()) -> Table:
    """``zstd``: the text columns to store ZSTD-compressed (see ``Column.compression``)."""
    columns = tuple(_column_for(f, info.annotation) for f, info in model.model_fields.items())
    columns = tuple(replace(c, compression="zstd") if c.name in zstd else c for c in columns)
    missing = set(primary_key) - {c.name for c in columns}
    if missing:
        raise TypeError(f"{model.__name__} lacks primary-key fields {sorted(missing)}")
    return Table(name, columns, primary_key)


def _cols(spec: str) -> tuple[Column, ...]:
    """Parse ``"name TYPE, name TYPE NULL"`` (hand-written tables only)."""
    out = []
    for part in spec.split(","):
        words = part.split()
        nullable = words[-1] == "NULL"
        out.append(Column(words[0], " ".join(words[1:-1] if nullable else words[1:]), nullable))
    return tuple(out)


EPISODE_KEY = ("run_id", "condition", "task_id", "repeat")

META = Table("meta", _cols("key VARCHAR, value VARCHAR"), ("key",))
RUNS = Table(
    "runs",
    _cols(
        "id VARCHAR, experiment VARCHAR, config JSON, config_hash VARCHAR, workload_hash VARCHAR,"
        " code_version VARCHAR, seed BIGINT, repeats INTEGER, planned_episodes INTEGER,"
        " started TIMESTAMP, finished TIMESTAMP NULL, host VARCHAR, status VARCHAR"
    ),
    ("id",),
)
CONDITIONS = Table(
    "conditions", _cols("run_id VARCHAR, name VARCHAR, spec JSON, spec_hash VARCHAR"), ("run_id", "name")
)
TASKS = Table(
    "tasks",
    _cols(
        "run_id VARCHAR, task_id VARCHAR, category VARCHAR, family VARCHAR, difficulty INTEGER,"
        " seed BIGINT, spec_hash VARCHAR"
    ),
    ("run_id", "task_id"),
)
EPISODES = table_from_model("episodes", EpisodeRecord, EPISODE_KEY)
ACTIONS = table_from_model("actions", ActionRecord, (*EPISODE_KEY, "seq"), zstd=("args", "observation"))
# Filled by later issues; no primary key yet so their semantics are not fixed here.
CHECKPOINTS = Table(
    "checkpoints",
    _cols(
        "run_id VARCHAR, condition VARCHAR, task_id VARCHAR, repeat BIGINT, seq BIGINT,"
        " size_bytes BIGINT, sha256 VARCHAR, wall_latency_ms DOUBLE"
    ),
)
EXEC_PERF = Table(
    "exec_perf",
    _cols(
        "run_id VARCHAR, event VARCHAR, condition VARCHAR NULL, task_id VARCHAR NULL,"
        " repeat BIGINT NULL, metric VARCHAR, value DOUBLE"
    ),
)

ESTIMATES = table_from_model("estimates", EstimateRecord,
                             ("run_id", "analysis", "statistic", "conditions", "category"))


class ExchangeRecord(Frozen):
    """One row of ``exchanges``: a model request and its response, content-addressed per
    episode (``agent=llm``/``mock``); ``agent.replay=RUN`` serves a run from these. The
    request is the body as sent: it never holds the API key (that travels in a header)."""

    run_id: str
    condition: str
    task_id: str
    repeat: int
    seq: int  # order of first use within the episode
    request_hash: str
    request: str  # canonical JSON
    response: str  # canonical JSON
    prompt_tokens: int
    completion_tokens: int


# Added without a version bump: a store without it gets it at the next write, and readers
# treat its absence as "no recordings".
EXCHANGES = table_from_model("exchanges", ExchangeRecord, (*EPISODE_KEY, "request_hash"))



class BriefRecord(Frozen):
    """One row of ``briefs``: what the agent was told at the start of one work session of
    an episode (the transcript's other half; ``actions.session`` points here)."""

    run_id: str
    condition: str
    task_id: str
    repeat: int
    session: int
    text: str


BRIEFS = table_from_model("briefs", BriefRecord, (*EPISODE_KEY, "session"), zstd=("text",))

TABLES: dict[str, Table] = {
    t.name: t for t in (META, RUNS, CONDITIONS, TASKS, EPISODES, ACTIONS, CHECKPOINTS, EXEC_PERF, ESTIMATES,
                         EXCHANGES, BRIEFS)
}

# Columns a store of an older version lacks, by version: readers read them as NULL and the
# writer adds them (``migrate``). Added columns are appended, so the order stays the model's.
TRANSCRIPT_COLUMNS = ("session", "args", "observation")
_LACKING: dict[int, dict[str, tuple[str, ...]]] = {4: {"actions": TRANSCRIPT_COLUMNS}}
OLDEST_READABLE = min(_LACKING)

# Columns the determinism comparisons leave out: wall-clock measurements and the run id.
DETERMINISTIC_EPISODE_COLUMNS = tuple(
    c for c in EPISODES.names if not c.startswith("wall_") and c != "run_id"
)


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = fetch(
        con,
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_catalog = current_database() AND table_schema = 'main'",
    )
    return {r[0] for r in rows}


def check(con: duckdb.DuckDBPyConnection, path: object) -> bool:
    """Validate an opened database as a results store; False if it has no tables at all.

    Raises StoreError for a foreign DuckDB database, a newer schema version, or tables
    whose columns differ from this harness's (a store written by another version).
    """
    tables = existing_tables(con)
    if not tables:
        return False
    if "meta" not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise StoreError(
            f"{path} is a DuckDB database but not a harness results store (tables: {shown})",
            hint="choose another store.path; the harness does not write into foreign databases",
        )
    version = stored_version(con)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has results schema version {version}; this harness reads up to {SCHEMA_VERSION}",
            hint="upgrade the harness, or use another store.path",
        )
    if version < OLDEST_READABLE:
        raise StoreError(
            f"{path} has results schema version {version} and no migration to {SCHEMA_VERSION} exists",
            hint="use another store.path (the old file stays readable by the harness that wrote it)",
        )
    got: dict[str, list[tuple[str, str]]] = {}
    for table, column, sql_type in fetch(
        con,
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_catalog = current_database() AND table_schema = 'main'"
        " ORDER BY table_name, ordinal_position",
    ):
        got.setdefault(table, []).append((column, sql_type))
    lacking_by_design = _LACKING.get(version, {})
    for name in sorted(tables & TABLES.keys()):
        absent = lacking_by_design.get(name, ())
        want = [(c.name, c.sql_type) for c in TABLES[name].columns if c.name not in absent]
        if got[name] != want:
            extra = sorted({g[0] for g in got[name]} - {w[0] for w in want})
            lacking = sorted({w[0] for w in want} - {g[0] for g in got[name]})
            raise StoreError(
                f"{path}: table {name} does not match this harness "
                f"(extra columns {extra}, missing {lacking}, or types/order differ)",
                hint="it was written by another harness version; use another store.path",
            )
    return True


def stored_version(con: duckdb.DuckDBPyConnection) -> int:
    row = fetch(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    return int(row[0][0]) if row else 0


def lacking_columns(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, ...]:
    """The columns of ``table`` a store of an older (readable) version does not have."""
    return _LACKING.get(stored_version(con), {}).get(table, ())


def migrate(con: duckdb.DuckDBPyConnection) -> bool:
    """Bring a checked store of an older version up to this one (caller holds a
    transaction): add the lacking columns (NULL in existing rows) and the new tables.
    Returns whether anything changed."""
    version = stored_version(con)
    if version >= SCHEMA_VERSION:
        return False
    for table, names in _LACKING.get(version, {}).items():
        for column in TABLES[table].columns:
            if column.name in names:  # nullable: existing rows have no value for it
                fetch(con, f"ALTER TABLE {table} ADD COLUMN {replace(column, nullable=True).ddl()}")
    create(con)
    fetch(con, "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
    return True


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and record the schema version (caller holds a transaction)."""
    for table in TABLES.values():
        fetch(con, table.ddl())
    fetch(
        con,
        "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?), ('created_by', 'harness')",
        [str(SCHEMA_VERSION)],
    )
