"""``sed`` for the ``shell`` tool layer: the ``s`` command with GNU semantics, line by line.

GNU behaviour kept on purpose, because it is what makes a human-oriented shell costly for
an agent: without ``g`` only the first match on each line changes; ``-n`` with ``p`` and
``-i`` with ``p`` behave as in GNU sed. Besides ``s``, the print command with a line
address or range (``40p``, ``41,80p``, ``41,$p``) is understood: with ``-n`` it is how a
file is read a page at a time. Deliberate leniency (this project's
specification of "parsed leniently"): an ``s`` expression missing its final delimiter
runs as if it were there, and unknown ``s`` flags are ignored. Patterns are Python
regular expressions in both basic and extended mode, so ``\\b`` is a word boundary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.runtime.access import Access, path_resource
from harness.runtime.tools.shell_commands import Result, access_rule, expand, operands
from harness.world import World, WorldError, patterns


class SedError(Exception):
    pass


@dataclass(frozen=True)
class Substitution:
    regex: patterns.Pattern  # the agent's pattern: matched under a time limit
    template: tuple[str | int, ...]  # literal text, or a group number (0 is '&')
    every: bool  # 'g'
    nth: int  # replace from the nth match on (1 = the first)
    print_: bool  # 'p'

    def apply(self, line: str, lineno: int = 0) -> tuple[str, bool]:
        seen = 0

        def expand_match(m: Any) -> str:  # a `regex` match, read like an `re` one
            nonlocal seen
            seen += 1
            if seen < self.nth or (seen > self.nth and not self.every):
                return m.group(0)
            return "".join(p if isinstance(p, str) else (m.group(p) or "") for p in self.template)

        limit = 0 if self.every or self.nth > 1 else 1
        new = self.regex.sub(expand_match, line, count=limit)
        return new, seen >= self.nth


@dataclass(frozen=True)
class PrintLines:
    """``A,Bp``: print lines A..B (1-based; ``end`` None is ``$``, the last line)."""

    start: int
    end: int | None
    print_: bool = True

    def apply(self, line: str, lineno: int = 0) -> tuple[str, bool]:
        return line, self.start <= lineno and (self.end is None or lineno <= self.end)


_ADDRESS = re.compile(r"(\d+)(?:,(\d+|\$))?p")
_FLAGS_END = re.compile(r"[;\n]")


def parse_script(script: str, number: int) -> list[Substitution | PrintLines]:
    """Parse one expression (``-e`` number ``number``): ``s`` commands separated by ';' or
    newlines. Raises ``SedError`` with GNU's wording."""
    commands = []
    pos = 0
    n = len(script)

    def fail(at: int, what: str) -> SedError:
        return SedError(f"sed: -e expression #{number}, char {at}: {what}")

    while True:
        while pos < n and script[pos] in " \t\n;":
            pos += 1
        if pos >= n:
            return commands
        address = _ADDRESS.match(script, pos)
        if address:
            first, last = int(address[1]), address[2]
            commands.append(PrintLines(first, None if last == "$" else int(last) if last else first))
            pos = address.end()
            continue
        if script[pos] != "s":
            raise fail(pos + 1, f"unknown command: `{script[pos]}'")
        if pos + 1 >= n or script[pos + 1] in "\\\n":
            raise fail(pos + 1, "unterminated `s' command")
        delim = script[pos + 1]
        pattern, pos, closed = _scan(script, pos + 2, delim, re.escape(delim))
        if not closed:
            raise fail(n, "unterminated `s' command")
        replacement, pos, closed = _scan(script, pos, delim, delim)
        flags = ""
        if closed:  # a missing final delimiter runs anyway, with no flags
            # one slice, not a character at a time: that was quadratic on a long flag run
            end = _FLAGS_END.search(script, pos)
            stop = end.start() if end else n
            flags, pos = script[pos:stop], stop
        commands.append(_compile(pattern, replacement, flags, fail, pos))


def _scan(script: str, pos: int, delim: str, escaped_delim: str) -> tuple[str, int, bool]:
    """Text up to the next unescaped ``delim``: (text, position after it, found?)."""
    out = []
    while pos < len(script):
        ch = script[pos]
        if ch == "\\" and pos + 1 < len(script):
            nxt = script[pos + 1]
            out.append(escaped_delim if nxt == delim else ch + nxt)
            pos += 2
        elif ch == delim:
            return "".join(out), pos + 1, True
        else:
            out.append(ch)
            pos += 1
    return "".join(out), pos, False


def _compile(
    pattern: str, replacement: str, flags: str, fail: Callable[[int, str], SedError], at: int
) -> Substitution:
    digits = "".join(c for c in flags if c.isdigit())
    try:
        regex = patterns.compile(pattern, re.IGNORECASE if set(flags) & {"i", "I"} else 0)
    except re.error as exc:
        raise fail(at, f"invalid regular expression: {exc}") from None
    template = _template(replacement)
    for part in template:
        if isinstance(part, int) and part > regex.groups:
            raise fail(at, f"invalid reference \\{part} on `s' command's RHS")
    return Substitution(regex, template, "g" in flags, max(int(digits or 1), 1), "p" in flags)


def _template(replacement: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch == "\\" and i + 1 < len(replacement):
            nxt = replacement[i + 1]
            if nxt.isdigit():
                parts.append(int(nxt))
            else:
                parts.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        parts.append(0 if ch == "&" else ch)
        i += 1
    return tuple(parts)


def _edit(text: str, commands: list[Substitution | PrintLines], quiet: bool) -> str:
    if not text:
        return ""
    ends_with_newline = text.endswith("\n")
    emitted = []
    for lineno, line in enumerate((text[:-1] if ends_with_newline else text).split("\n"), start=1):
        for cmd in commands:
            line, matched = cmd.apply(line, lineno)
            if matched and cmd.print_:
                emitted.append(line)
        if not quiet:
            emitted.append(line)
    if not emitted:
        return ""
    return "\n".join(emitted) + ("\n" if ends_with_newline else "")


def sed(world: World, argv: list[str]) -> Result:
    scripts: list[str] = []
    files: list[str] = []
    in_place = quiet = False
    args = iter(argv[1:])
    for tok in args:
        if tok == "--":
            files.extend(args)
        elif tok.startswith("--"):
            name, _, value = tok[2:].partition("=")
            in_place |= name == "in-place"
            quiet |= name in ("quiet", "silent")
            if name == "expression":
                scripts.append(value or next(args, ""))
        elif tok.startswith("-") and len(tok) > 1:
            for i, c in enumerate(tok[1:], start=1):
                if c == "i":
                    in_place = True
                    break  # GNU: the rest of the cluster is a backup suffix (-iE is not -i -E)
                if c in "ef":
                    value = tok[i + 1:] or next(args, "")
                    if c == "e":
                        scripts.append(value)
                    break
                quiet |= c == "n"
        else:
            files.append(tok)
    if not scripts:
        if not files:
            return Result(err="Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n", code=1)
        scripts.append(files.pop(0))
    try:
        commands = [c for k, s in enumerate(scripts, start=1) for c in parse_script(s, k)]
    except SedError as exc:
        return Result(err=f"{exc}\n", code=1)
    if in_place and not files:
        return Result(err="sed: no input files\n", code=1)

    out: list[str] = []
    err: list[str] = []
    code = 0
    for arg in files:
        kind, found = expand(world, arg)
        if kind == "missing":
            err.append(f"sed: can't read {arg}: No such file or directory\n")
            code = max(code, 2)
            continue
        if kind == "dir":
            err.append(f"sed: couldn't edit {arg}: not a regular file\n" if in_place else f"sed: read error on {arg}: Is a directory\n")
            code = 4
            continue
        path = found[0][1]
        before = world.workspace.read(path)
        try:
            after = _edit(before, commands, quiet)
        except WorldError as exc:  # a pattern over its time limit: files already done stay done, as in GNU
            err.append(f"sed: {exc.message}\n")
            return Result("".join(out), "".join(err), 4)
        if in_place:
            if after != before:
                world.workspace.write(path, after)
        else:
            if out and not out[-1].endswith("\n"):
                out.append("\n")  # GNU reads all files as one stream
            out.append(after)
    return Result("".join(out), "".join(err), code)


@access_rule("sed")
def _sed_access(words: list[str], stdin: str | None) -> list[Access]:
    # The first operand is the script; the files are written with -i, read without.
    in_place = any(w.startswith("-i") for w in words[1:])
    return [Access("write" if in_place else "read", path_resource(p)) for p in operands(words)[1:]]
