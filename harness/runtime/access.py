"""What a tool call would do, to what: the (action, resource) pairs the security layer
authorizes and the observability layer records as reads and writes.

Resources are typed strings: ``file:pkg/a.py`` (a directory is ``file:pkg/``, the whole
workspace ``file:``), ``service:NAME`` (every service: ``service:``), ``host:HOST:/path``,
``table:NAME`` (every table: ``table:``) and ``credential:PRODUCER/SECRET``. The mapping
reads the call the way an administrator reading it would: typed calls by their
arguments, shell commands by their words; an intent expressed in either layer maps to
the same pairs.

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

from harness.runtime.tools.cmdline import split as split_command_line
from harness.runtime.tools.shell_ops import split_heredoc


@dataclass(frozen=True)
class Access:
    action: str  # read, write, delete, execute, restart, stop, deploy, issue, revoke
    resource: str

    @property
    def is_write(self) -> bool:
        return self.action not in ("read", "execute")


def _file(path: str) -> str:
    path = path.strip().strip("/")
    leaf = path.rsplit("/", 1)[-1]
    return f"file:{path}" if "." in leaf else f"file:{path}/" if path else "file:"


def typed_accesses(tool: str, args: dict[str, Any]) -> list[Access]:
    paths = args.get("paths") or [""]
    if not isinstance(paths, list):
        paths = [""]
    match tool:
        case "list_files":
            return [Access("read", _file(str(args.get("prefix", ""))))]
        case "read_file":
            return [Access("read", _file(str(args.get("path", ""))))]
        case "search":
            return [Access("read", _file(str(p))) for p in paths]
        case "replace_in_file" | "write_file":
            return [Access("write", _file(str(args.get("path", ""))))]
        case "rename_symbol":
            return [Access("write", _file(str(p))) for p in paths]
        case "run_tests":
            return [Access("execute", _file(str(args.get("path", ""))))]
    return _typed_ops(tool, args)


def shell_accesses(command: str) -> list[Access]:
    head, stdin = split_heredoc(command.strip()) or (command, None)
    try:
        argv = split_command_line(head)
    except ValueError:
        return []  # the shell will refuse it without running anything
    if not argv:
        return []
    words, target = _strip_redirect(argv)
    if not words:
        return []
    out = [Access("write", _path(target))] if target else []
    name, rest = words[0], [w for w in words[1:] if not w.startswith("-")]
    if name in ("ls", "cat"):
        out += [Access("read", _path(p)) for p in (rest or ([] if stdin is not None else [""]))]
    elif name == "grep":
        out += [Access("read", _path(p)) for p in (rest[1:] or [""])]
    elif name == "sed":
        in_place = any(w.startswith("-i") for w in words[1:])
        out += [Access("write" if in_place else "read", _path(p)) for p in rest[1:]]
    elif name == "rm":
        out += [Access("delete", _path(p)) for p in rest]
    elif name in ("pytest", "python", "python3"):
        out += [Access("execute", _file(p)) for p in rest if p != "pytest"]
    else:
        out += _shell_ops(words, stdin)
    return out


def _path(arg: str) -> str:
    """A shell path: a service's config file is the service; anything else a file."""
    return _config_resource(arg) or _file(arg)


def _strip_redirect(argv: list[str]) -> tuple[list[str], str | None]:
    for i, word in enumerate(argv):
        if word in (">", ">>") and i + 1 < len(argv):
            return argv[:i], argv[i + 1]
    return argv, None


def accesses(tool: str, args: dict[str, Any]) -> list[Access]:
    if tool == "shell":
        return shell_accesses(str(args.get("command", "")))
    return typed_accesses(tool, args)


# -- services, hosts, credentials, tables -----------------------------------------------------
_CONFIG = re.compile(r"^/?etc/([^/]+)/\1\.conf$")


def _config_resource(arg: str) -> str | None:
    m = _CONFIG.match(arg.strip())
    return f"service:{m.group(1)}" if m else None


def _svc(name: Any) -> str:
    name = str(name or "")
    return f"service:{name.removesuffix('.service')}"


def _host(host: Any, path: Any = "/") -> str:
    path = str(path or "/")
    return f"host:{host}:{path if path.startswith('/') else '/' + path}"


def _cred(producer: Any, secret: Any) -> str:
    return f"credential:{str(producer).removeprefix('creds/')}/{secret}"


def _one(action: str, key: str) -> Callable[[dict[str, Any]], list[Access]]:
    return lambda a: [Access(action, _svc(a.get(key)))]


_TYPED_OPS: dict[str, Callable[[dict[str, Any]], list[Access]]] = {
    "list_services": lambda a: [Access("read", "service:")],
    "service_status": _one("read", "service"),
    "read_config": _one("read", "service"),
    "query_metrics": _one("read", "service"),
    "tail_logs": _one("read", "service"),
    "get_traces": _one("read", "service"),
    "health_check": _one("read", "service"),
    "write_config": _one("write", "service"),
    "restart_service": _one("restart", "service"),
    "stop_service": _one("stop", "service"),
    "deploy": _one("deploy", "service"),
    "rollback": _one("deploy", "service"),
    "list_host_files": lambda a: [Access("read", _host(a.get("host"), a.get("prefix")))],
    "disk_free": lambda a: [Access("read", _host(a.get("host")))],
    "delete_host_file": lambda a: [Access("delete", _host(a.get("host"), a.get("path")))],
    "issue_credential": lambda a: [Access("issue", _cred(a.get("producer"), a.get("secret")))],
    "revoke_credential": lambda a: [Access("revoke", _cred(a.get("producer"), a.get("secret")))],
    "list_tables": lambda a: [Access("read", "table:")],
    "describe_table": lambda a: [Access("read", f"table:{a.get('table', '')}")],
    "ticket_comment": lambda a: [Access("write", "ticket:")],
    "ticket_read": lambda a: [Access("read", "ticket:")],
    "sql_query": lambda a: sql_accesses(str(a.get("sql", "")), write=False),
    "sql_execute": lambda a: sql_accesses(str(a.get("sql", "")), write=True),
}


def _typed_ops(tool: str, args: dict[str, Any]) -> list[Access]:
    mapping = _TYPED_OPS.get(tool)
    return mapping(args) if mapping else []


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


def _statements(sql: str) -> list[str]:
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
    for st in _statements(sql):
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


def _sql_is_write(sql: str) -> bool:
    return any(not st.strip().lower().startswith(_READ_HEADS) for st in _statements(sql))


# -- shell commands -----------------------------------------------------------------------------
def _systemctl(words: list[str], stdin: str | None) -> list[Access]:
    args = [w for w in words[1:] if not w.startswith("-")]
    verb = args[0] if args else "list-units"
    action = {"status": "read", "restart": "restart", "start": "restart", "stop": "stop"}.get(verb)
    if verb in ("list-units", "list"):
        return [Access("read", "service:")]
    return [Access(action, _svc(u)) for u in args[1:]] if action else []


def _journalctl(words: list[str], stdin: str | None) -> list[Access]:
    for i, w in enumerate(words):
        if w in ("-u", "--unit") and i + 1 < len(words):
            return [Access("read", _svc(words[i + 1]))]
        if w.startswith("--unit="):
            return [Access("read", _svc(w.split("=", 1)[1]))]
        if w.startswith("-u") and len(w) > 2:
            return [Access("read", _svc(w[2:]))]
    return []


_VALUED = ("--last", "-n")  # options of these commands that take the next word as their value


def _positional(words: list[str]) -> list[str]:
    return [w for i, w in enumerate(words) if i and not w.startswith("-") and words[i - 1] not in _VALUED]


def _first_service(action: str) -> Callable[[list[str], str | None], list[Access]]:
    def mapping(words: list[str], stdin: str | None) -> list[Access]:
        args = _positional(words)
        return [Access(action, _svc(args[0]))] if args else []
    return mapping


def _curl(words: list[str], stdin: str | None) -> list[Access]:
    urls = _positional(words)
    m = re.match(r"^(?:https?://)?([^/:]+)", urls[0]) if urls else None
    return [Access("read", _svc(m.group(1).removesuffix(".internal")))] if m else []


def _traces(words: list[str], stdin: str | None) -> list[Access]:
    args = _positional(words)
    return [Access("read", _svc(args[0] if args else ""))]


def _ssh(words: list[str], stdin: str | None) -> list[Access]:
    args = words[1:]
    while args and args[0].startswith("-"):
        args = args[1:]
    if len(args) < 2:
        return []
    host, cmd, rest = args[0].split("@")[-1], args[1], [w for w in args[2:] if not w.startswith("-")]
    if cmd == "ls":
        return [Access("read", _host(host, p)) for p in rest or ["/"]]
    if cmd == "df":
        return [Access("read", _host(host))]
    if cmd == "rm":
        return [Access("delete", _host(host, p)) for p in rest]
    return []


def _vault(words: list[str], stdin: str | None) -> list[Access]:
    args = _positional(words)
    fields = dict(w.split("=", 1) for w in args[2:] if "=" in w)
    action = {"write": "issue", "revoke": "revoke"}.get(args[0] if args else "")
    if not action or len(args) < 2:
        return []
    return [Access(action, _cred(args[1], fields.get("secret", "")))]


def _psql(words: list[str], stdin: str | None) -> list[Access]:
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
            for st in _statements(text):
                out += sql_accesses(st, write=_sql_is_write(st))
    return list(dict.fromkeys(out))


def _ticket(words: list[str], stdin: str | None) -> list[Access]:
    verb = words[1] if len(words) > 1 else ""
    return [Access({"show": "read", "comment": "write"}[verb], "ticket:")] if verb in ("show", "comment") else []


_SHELL_OPS: dict[str, Callable[[list[str], str | None], list[Access]]] = {
    "systemctl": _systemctl, "journalctl": _journalctl, "metrics": _first_service("read"),
    "traces": _traces, "healthcheck": _first_service("read"), "curl": _curl,
    "deploy": _first_service("deploy"), "rollback": _first_service("deploy"), "ssh": _ssh,
    "vault": _vault, "psql": _psql, "ticket": _ticket,
}


def _shell_ops(words: list[str], stdin: str | None) -> list[Access]:
    mapping = _SHELL_OPS.get(words[0])
    return mapping(words, stdin) if mapping else []
