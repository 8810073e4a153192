"""``accesses(tool, args)``: what a call would do, to what, asked of the tool's own definition.

A typed tool's rule is its ``ToolDef.access``; a shell command's is the one it declared
with ``shell_commands.access_rule`` beside its implementation. What is left here is the
shell's own syntax, shared by every command: a here-document is the command's input, and
a ``>``/``>>`` redirection writes its target whatever the command is. A name no tool
declares (an unknown tool or command, a line bash would refuse) maps to nothing: the
layer refuses such a call without running anything.

This module imports the tool definitions; the vocabulary they use (``Access``, resource
names, SQL reading) is ``harness.runtime.access``, which imports none of them.
"""

from __future__ import annotations

from typing import Any

import harness.runtime.tools.shell  # noqa: F401 - the shell's commands declare their rules on import
from harness.runtime.access import Access, AccessRule, path_resource
from harness.runtime.tools.cmdline import split as split_command_line
from harness.runtime.tools.shell_commands import COMMAND_ACCESS
from harness.runtime.tools.shell_ops import split_heredoc
from harness.runtime.tools.typed import ALL_DEFS

TYPED_ACCESS: dict[str, AccessRule] = {d.name: d.access for d in ALL_DEFS}


def accesses(tool: str, args: dict[str, Any]) -> list[Access]:
    if tool == "shell":
        return shell_accesses(str(args.get("command", "")))
    return typed_accesses(tool, args)


def typed_accesses(tool: str, args: dict[str, Any]) -> list[Access]:
    rule = TYPED_ACCESS.get(tool)
    return rule(args) if rule else []


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
    out = [Access("write", path_resource(target))] if target else []
    rule = COMMAND_ACCESS.get(words[0])
    return (out + rule(words, stdin)) if rule else out


def _strip_redirect(argv: list[str]) -> tuple[list[str], str | None]:
    for i, word in enumerate(argv):
        if word in (">", ">>") and i + 1 < len(argv):
            return argv[:i], argv[i + 1]
    return argv, None
