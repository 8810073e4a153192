"""What a tool call would do, to what: the (action, resource) pairs the security layer
authorizes and the observability layer records as reads and writes.

Resources are typed strings: ``file:pkg/a.py`` (a directory is ``file:pkg/``, the whole
workspace ``file:``), ``service:NAME`` (every service: ``service:``), ``host:HOST:/path``,
``table:NAME`` (every table: ``table:``) and ``credential:PRODUCER/SECRET``. The mapping
reads the call the way an administrator reading it would: typed calls by their
arguments, shell commands by their words; an intent expressed in either layer maps to
the same pairs.

This module is the vocabulary only: ``Access``, the resource names and the SQL reading.
Each tool declares its own rule where it is defined (a typed ``ToolDef.access``, a shell
command's ``shell_commands.access_rule``), so a tool and its rule are added together;
``harness.runtime.tools.access_rules.accesses`` is the one entry point that asks them.
It imports no tool module, so every tool module can import it.

Whether a pair is safe is not decided here: "unsafe" is a property of a request against
the task's stated policy (``harness.runtime.security.judge``), never of a verb. The kinds
only name what happens: ``delete`` is removing files or host files, or SQL that empties or
drops a whole table; a row-level SQL delete is a ``write`` (cleaning rules delete rows).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Access:
    action: str  # read, write, delete, execute, restart, stop, deploy, issue, revoke
    resource: str

    @property
    def is_write(self) -> bool:
        return self.action not in ("read", "execute")


# A typed tool's rule: its arguments as the agent sent them (not yet validated) -> pairs.
AccessRule = Callable[[dict[str, Any]], list[Access]]
# A shell command's rule: its words (redirections removed) and its here-document -> pairs.
CommandRule = Callable[[list[str], str | None], list[Access]]


def no_access(*_: Any) -> list[Access]:
    """The rule of a tool that touches no resource (submitting, printing): declared, so that
    a missing rule is never mistaken for one."""
    return []


# -- resource names ---------------------------------------------------------------------------
def file_resource(path: str) -> str:
    path = path.strip().strip("/")
    leaf = path.rsplit("/", 1)[-1]
    return f"file:{path}" if "." in leaf else f"file:{path}/" if path else "file:"


_CONFIG = re.compile(r"^/?etc/([^/]+)/\1\.conf$")


def config_resource(arg: str) -> str | None:
    """The service whose config file ``/etc/NAME/NAME.conf`` a shell path names, if any."""
    m = _CONFIG.match(arg.strip())
    return f"service:{m.group(1)}" if m else None


def path_resource(arg: str) -> str:
    """A shell path: a service's config file is the service; anything else a file."""
    return config_resource(arg) or file_resource(arg)


def service_resource(name: Any) -> str:
    name = str(name or "")
    return f"service:{name.removesuffix('.service')}"


def host_resource(host: Any, path: Any = "/") -> str:
    path = str(path or "/")
    return f"host:{host}:{path if path.startswith('/') else '/' + path}"


def credential_resource(producer: Any, secret: Any) -> str:
    return f"credential:{str(producer).removeprefix('creds/')}/{secret}"


# -- SQL: which tables, and how ----------------------------------------------------------
_STRINGS = re.compile(r"'(?:[^']|'')*'")
# Functions whose syntax has a FROM that names no table: EXTRACT(YEAR FROM d), TRIM(x FROM y)...
_FROM_FUNCS = re.compile(r"\b(?:extract|substring|trim|overlay|position)\s*\([^()]*\)", re.I)
_CTE = re.compile(r"(?:\bwith\s+(?:recursive\s+)?|,\s*)\"?([a-z_][\w$]*)\"?\s+as\s*\(", re.I)
_TABLE_REF = re.compile(r"\b(?:from|join|into|update|table(?:\s+if\s+(?:not\s+)?exists)?|truncate)\s+"
                        r"(?:only\s+)?\"?([a-z_][\w$.]*)\"?(\s*\()?", re.I)
_TARGET = re.compile(r"^\s*(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from|truncate(?:\s+table)?|"
                     r"(?:create|drop|alter)(?:\s+or\s+replace)?(?:\s+temp(?:orary)?)?\s+table"
                     r"(?:\s+if\s+(?:not\s+)?exists)?)\s+\"?([a-z_][\w$.]*)", re.I)
_READ_HEADS = ("select", "with", "explain", "values", "show", "describe", "table", "from", "pragma")


def sql_statements(sql: str) -> list[str]:
    # Split on ';' outside string literals (good enough for naming tables, never for running SQL).
    masked = _STRINGS.sub(lambda m: "'" + "_" * (len(m.group()) - 2) + "'", sql)
    out, start = [], 0
    for i, ch in enumerate(masked):
        if ch == ";":
            out.append(masked[start:i])
            start = i + 1
    out.append(masked[start:])
    return [s for s in out if s.strip()]


def _wipes(statement: str) -> bool:
    """Empties or removes a whole table: DROP TABLE, TRUNCATE, DELETE without WHERE."""
    head = statement.strip().lower()
    return head.startswith(("drop", "truncate")) or (head.startswith("delete") and " where " not in
                                                       f" {' '.join(head.split())} ")


def sql_accesses(sql: str, write: bool) -> list[Access]:
    """What SQL touches: the target of a write statement is written (``delete`` when the
    statement wipes it), every other table named is read. ``write`` says the statements
    were sent as writes; a read tool's statements are all reads whatever they say, since
    the world refuses anything else there. Unparseable text names every table."""
    out: list[Access] = []
    for st in sql_statements(sql):
        scan = _FROM_FUNCS.sub(" ", st)
        ctes = {m.lower() for m in _CTE.findall(scan)}
        target = _TARGET.match(scan) if write else None
        if target:
            out.append(Access("delete" if _wipes(scan) else "write", f"table:{target.group(1)}"))
        for m in _TABLE_REF.finditer(scan):
            name = m.group(1)
            if m.group(2) or name.lower() in ctes or (target and name == target.group(1)):
                continue  # a table function, a CTE, or the target itself
            out.append(Access("read", f"table:{name}"))
    if not out:
        out = [Access("write" if write else "read", "table:")]
    return list(dict.fromkeys(out))


def sql_is_write(sql: str) -> bool:
    """Whether statements sent without saying read or write (a psql script) would write."""
    return any(not st.strip().lower().startswith(_READ_HEADS) for st in sql_statements(sql))
