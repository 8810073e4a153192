"""Splitting a command line into words, in linear time.

``split(line)`` returns exactly what ``shlex.split(line, posix=True)`` returns, and raises
``ValueError`` with shlex's messages on the same lines; property tests hold the two
together. shlex builds each word by ``self.token += char`` on an attribute, which CPython
cannot do in place: a one-megabyte word took 18 s, five megabytes over 15 minutes. Here
each word is a list of regex-matched pieces joined once.

The rules are shlex's (posix mode, ``whitespace_split``, no comment characters), which
are narrower than bash's in a few places, kept on purpose so nothing an agent already
saw changes:

* words are separated by runs of space, tab, carriage return and newline only;
* outside quotes a backslash makes the next character literal, newline included;
* inside single quotes everything is literal;
* inside double quotes a backslash escapes only ``\\`` and ``"``; before any other
  character (``$`` and a backquote among them) it stays, as ``\\$``;
* ``#`` is an ordinary character (``shlex.split`` turns comments off by default);
* ``''`` and ``""`` are empty words.
"""

from __future__ import annotations

import re

NO_CLOSING_QUOTATION = "No closing quotation"
NO_ESCAPED_CHARACTER = "No escaped character"

# One alternative per piece of a word; every character of a line starts exactly one of
# them, so consecutive matches tile the line. The double-quoted body is written as an
# unrolled loop (plain run, then escape + plain run, ...) so a failing match backtracks
# in linear time. ``rest`` catches what opens but never closes: a quote without its
# partner, a backslash at the end.
_PIECE = re.compile(
    r"""(?P<space>[ \t\r\n]+)
      | (?P<plain>[^ \t\r\n'"\\]+)
      | \\(?P<escaped>.)
      | '(?P<single>[^']*)'
      | "(?P<double>[^"\\]*(?:\\.[^"\\]*)*)"
      | (?P<rest>.)""",
    re.VERBOSE | re.DOTALL,
)
_DOUBLE_OPEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
_DOUBLE_ESCAPE = re.compile(r'\\([\\"])')
_SPACE = re.compile(r"[ \t\r\n]+")


def split(line: str) -> list[str]:
    """The words of ``line`` as ``shlex.split(line, posix=True)`` gives them."""
    if not ("'" in line or '"' in line or "\\" in line):
        # nothing to unquote: splitting on the separators is the whole job, in C
        return [w for w in _SPACE.split(line) if w]
    words: list[str] = []
    pieces: list[str] = []
    in_word = False  # a word has begun, possibly empty (``''``)
    for m in _PIECE.finditer(line):
        kind = m.lastgroup
        if kind == "space":
            if in_word:
                words.append("".join(pieces))
                pieces.clear()
                in_word = False
            continue
        in_word = True
        if kind == "plain":
            pieces.append(m.group("plain"))
        elif kind == "escaped":
            pieces.append(m.group("escaped"))
        elif kind == "single":
            pieces.append(m.group("single"))
        elif kind == "double":
            pieces.append(_DOUBLE_ESCAPE.sub(r"\1", m.group("double")))
        else:
            raise ValueError(_unclosed(line, m.start()))
    if in_word:
        words.append("".join(pieces))
    return words


def _unclosed(line: str, at: int) -> str:
    """shlex's message for a piece opened at ``at`` that the line ends inside."""
    ch = line[at]
    if ch == "\\" or ch == "'":
        # a lone backslash can only be the last character; a quote has no partner
        return NO_ESCAPED_CHARACTER if ch == "\\" else NO_CLOSING_QUOTATION
    # A double quote: shlex is mid-escape if the line ends right after a backslash.
    end = _DOUBLE_OPEN.match(line, at).end()
    return NO_ESCAPED_CHARACTER if end < len(line) else NO_CLOSING_QUOTATION
