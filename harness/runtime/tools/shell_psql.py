"""``psql`` for the ``shell`` layer: SQL on the world's datasets, psql's aligned text out.

``psql -c SQL`` (one or more) and ``psql <<'EOF' ... EOF`` (a script) are supported, plus
the ``\\dt`` and ``\\d TABLE`` meta-commands. As in psql, a ``-c`` string is one
transaction (a batch of writes is all-or-nothing and only the last command tag is shown),
while a script runs statement by statement and keeps going after an error. Reads go to
the world's ``sql``, writes to ``sql_write``; errors print as ``ERROR:  ...``.
"""

from __future__ import annotations

from typing import Any

import duckdb

from harness.runtime.access import Access, sql_accesses, sql_is_write, sql_statements
from harness.runtime.tools.shell_commands import Result, access_rule
from harness.world import World, WorldError

_READ_KINDS = {"SELECT", "EXPLAIN"}
_PG_TYPES = {"int": "bigint", "float": "double precision", "text": "text", "date": "date",
             "timestamp": "timestamp without time zone", "bool": "boolean"}
_TAGS = {"INSERT": "INSERT 0 {n}", "UPDATE": "UPDATE {n}", "DELETE": "DELETE {n}", "CREATE": "CREATE TABLE",
         "DROP": "DROP TABLE", "ALTER": "ALTER TABLE"}
# World messages wrap the engine's: psql shows the engine's part only.
_PREFIXES = ("query failed: ", "statement failed (no table was changed): ", "cannot parse SQL: ")


def psql(world: World, argv: list[str], stdin: str | None) -> Result:
    commands, it = [], iter(argv[1:])
    for tok in it:
        if tok in ("-c", "--command"):
            commands.append(next(it, ""))
        elif tok.startswith("--command="):
            commands.append(tok.split("=", 1)[1])
        elif tok.startswith("-c") and len(tok) > 2:
            commands.append(tok[2:])
    ds = world.datasets
    if ds is None:
        return Result(err='psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" '
                          "failed: No such file or directory\n", code=2)
    if commands:
        out, err, code = [], [], 0
        for text in commands:
            r = _run(ds, text, atomic=True)
            out.append(r.out)
            err.append(r.err)
            if r.code:
                code = 1
                break
        return Result("".join(out), "".join(err), code)
    if stdin is not None:
        return _run(ds, stdin, atomic=False)
    return Result(err='psql: error: interactive sessions are not available; use psql -c "SQL"\n', code=2)


@access_rule("psql")
def _psql_access(words: list[str], stdin: str | None) -> list[Access]:
    """The tables of every ``-c`` string (else of the script): each statement a write or a
    read by what it says, since psql runs either."""
    scripts = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-c", "--command")]
    scripts += [w.split("=", 1)[1] for w in words if w.startswith("--command=")]
    scripts += [w[2:] for w in words if w.startswith("-c") and len(w) > 2]
    if not scripts and stdin is not None:
        scripts = [stdin]
    out: list[Access] = []
    for text in scripts:
        meta = text.split()
        if meta and meta[0] in ("\\dt", "\\d"):
            named = meta[0] == "\\d" and len(meta) > 1
            out.append(Access("read", "table:" + (meta[1] if named else "")))
        elif text.strip():
            for st in sql_statements(text):
                out += sql_accesses(st, write=sql_is_write(st))
    return list(dict.fromkeys(out))


def _run(ds: Any, text: str, atomic: bool) -> Result:
    stripped = text.strip()
    if stripped.startswith("\\"):
        return _meta(ds, stripped)
    try:
        statements = list(duckdb.extract_statements(text))
    except duckdb.Error as exc:
        return _error(str(exc))
    kinds = [s.type.name for s in statements]
    if atomic and statements and not set(kinds) & _READ_KINDS:
        # One -c string is one transaction: the world's multi-statement write is exactly that.
        try:
            n = ds.sql_write(text)["rows_changed"]
        except WorldError as exc:
            return _error(exc.message)
        return Result(_TAGS.get(kinds[-1], kinds[-1]).format(n=n) + "\n")
    out, err = [], []
    for st, kind in zip(statements, kinds, strict=True):
        r = _statement(ds, st.query, kind)
        out.append(r.out)
        err.append(r.err)
        if r.code and atomic:
            return Result("".join(out), "".join(err), 1)
    return Result("".join(out), "".join(err), 0)


def _statement(ds: Any, sql: str, kind: str) -> Result:
    try:
        if kind in _READ_KINDS:
            res = ds.sql(sql)
            return Result(aligned(res["columns"], res["rows"], res["truncated"]))
        n = ds.sql_write(sql)["rows_changed"]
    except WorldError as exc:
        return _error(exc.message)
    return Result(_TAGS.get(kind, kind).format(n=n) + "\n")


def _error(message: str) -> Result:
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    return Result(err=f"ERROR:  {message}\n", code=1)


def _meta(ds: Any, text: str) -> Result:
    words = text.split()
    if words[0] in ("\\dt", "\\d") and len(words) == 1:
        rows = [("public", n, "table", "app") for n in ds.list_tables()]
        return Result(aligned(["Schema", "Name", "Type", "Owner"], rows, False, title="List of relations"))
    if words[0] == "\\d":
        name = words[1]
        if not ds.has(name):
            return Result(err=f'Did not find any relation named "{name}".\n', code=1)
        rows = [(c, _PG_TYPES[t]) for c, t in ds.schema(name)]
        return Result(aligned(["Column", "Type"], rows, False, title=f'Table "public.{name}"', count=False))
    return Result(err=f"invalid command {words[0]}\nTry \\? for help.\n", code=1)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def aligned(columns: list[str], rows: list[tuple[Any, ...]], truncated: bool, title: str | None = None,
            count: bool = True) -> str:
    """psql's aligned format: centred headers, numbers right-aligned, ``(N rows)`` footer."""
    cells = [[_cell(v) for v in r] for r in rows]
    numeric = [bool(rows) and all(isinstance(r[i], int | float) and not isinstance(r[i], bool) or r[i] is None
                                  for r in rows) for i in range(len(columns))]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = [" " + " | ".join(c.center(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("-" + "-+-".join("-" * w for w in widths) + "-")
    for r in cells:
        lines.append(" " + " | ".join(v.rjust(w) if numeric[i] else v.ljust(w)
                                      for i, (v, w) in enumerate(zip(r, widths, strict=True))).rstrip())
    if title:
        lines.insert(0, title.center(len(lines[1])).rstrip())
    if count:
        lines.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    if truncated:
        lines.append(f"-- only the first {len(rows)} rows are shown; add LIMIT/OFFSET or aggregate")
    return "\n".join(lines) + "\n\n"
