"""What a tool call would do, to what: the (action, resource) pairs the security layer
authorizes and the observability layer records as reads and writes.

Resources are typed strings (``file:pkg/a.py``; a directory is ``file:pkg/``, the whole
workspace ``file:``). The mapping reads the call the way an administrator reading it
would: typed calls by their arguments, shell commands by their words. A ``delete`` is
labelled unsafe: it is the destructive kind of action an approver should refuse and that
episode metrics count as attempted, blocked or applied.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

UNSAFE_ACTIONS = frozenset({"delete"})


@dataclass(frozen=True)
class Access:
    action: str  # read, write, delete, execute
    resource: str

    @property
    def unsafe(self) -> bool:
        return self.action in UNSAFE_ACTIONS

    @property
    def is_write(self) -> bool:
        return self.action in ("write", "delete")


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
    return []


def shell_accesses(command: str) -> list[Access]:
    try:
        argv = shlex.split(command, posix=True)
    except ValueError:
        return []  # the shell will refuse it without running anything
    if not argv:
        return []
    words, target = _strip_redirect(argv)
    out = [Access("write", _file(target))] if target else []
    name, rest = words[0], [w for w in words[1:] if not w.startswith("-")]
    if name in ("ls", "cat"):
        out += [Access("read", _file(p)) for p in (rest or [""])]
    elif name == "grep":
        out += [Access("read", _file(p)) for p in (rest[1:] or [""])]
    elif name == "sed":
        in_place = any(w.startswith("-i") for w in words[1:])
        out += [Access("write" if in_place else "read", _file(p)) for p in rest[1:]]
    elif name == "rm":
        out += [Access("delete", _file(p)) for p in rest]
    elif name in ("pytest", "python", "python3"):
        out += [Access("execute", _file(p)) for p in rest if p != "pytest"]
    return out


def _strip_redirect(argv: list[str]) -> tuple[list[str], str | None]:
    for i, word in enumerate(argv):
        if word in (">", ">>") and i + 1 < len(argv):
            return argv[:i], argv[i + 1]
    return argv, None


def accesses(tool: str, args: dict[str, Any]) -> list[Access]:
    if tool == "shell":
        return shell_accesses(str(args.get("command", "")))
    return typed_accesses(tool, args)
