"""The ``ticket`` command of the ``shell`` layer: the task's ticket thread, as text.

``ticket show [--grep TEXT]`` prints each comment as ``#N AUTHOR: text`` (later lines of a
comment indented); ``ticket comment TEXT...`` posts the words joined by spaces (quotes and
backslashes go the way the shell's word splitting takes them), ``ticket comment <<'EOF'``
posts a here-document verbatim. What is printed is text to be read, as in a ticket CLI.
"""

from __future__ import annotations

from harness.runtime.access import Access
from harness.runtime.tools.shell_commands import Result, access_rule
from harness.world import World, WorldError

USAGE = "usage: ticket show [--grep TEXT] | ticket comment TEXT... | ticket comment <<'EOF'\n"


def ticket(world: World, argv: list[str], stdin: str | None = None) -> Result:
    verb = argv[1] if len(argv) > 1 else ""
    if verb == "show":
        return _show(world, argv[2:])
    if verb == "comment":
        text = stdin if stdin is not None else " ".join(argv[2:])
        try:
            n = world.thread.add(text)
        except WorldError as exc:
            return Result(err=f"ticket: {exc.message}\n", code=1)
        return Result(f"posted comment #{n}\n")
    return Result(err=USAGE, code=2)


@access_rule("ticket")
def _ticket_access(words: list[str], stdin: str | None) -> list[Access]:
    verb = words[1] if len(words) > 1 else ""
    return [Access({"show": "read", "comment": "write"}[verb], "ticket:")] if verb in ("show", "comment") else []


def _show(world: World, args: list[str]) -> Result:
    contains = None
    if args[:1] == ["--grep"]:
        if len(args) < 2:
            return Result(err=USAGE, code=2)
        contains = " ".join(args[1:])
    elif args:
        return Result(err=USAGE, code=2)
    comments = world.thread.matching(contains)
    if not comments:
        return Result("(no comments)\n")
    lines = []
    for c in comments:
        first, *rest = c["text"].splitlines() or [""]
        lines.append(f"#{c['n']} {c['author']}: {first}")
        lines += [f"    {line}" for line in rest]
    return Result("\n".join(lines) + "\n")
