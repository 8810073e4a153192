"""``cmdline.split`` agrees with ``shlex.split(s, posix=True)`` on every string: the same
words, or a ValueError with the same message."""

from __future__ import annotations

import shlex

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.runtime.tools import cmdline
from harness.runtime.tools.shell_ops import _HEREDOC, _first_unquoted

# What changes the lexer's state, weighted in: quotes, backslashes, separators, '#'.
SPECIAL = st.sampled_from(["'", '"', "\\", " ", "\t", "\n", "\r", "#", "$", "`", ">", "<<", "''", '\\"'])
PLAIN = st.sampled_from(["a", "b", "x1", "é", "ß", "漢", "🙂", "\u00a0", "\u2028", "\x00", "\x0b"])
SHELLISH = st.lists(st.one_of(SPECIAL, PLAIN), max_size=40).map("".join)


def _outcome(fn, line):
    try:
        return "words", fn(line)
    except ValueError as exc:
        return "error", str(exc)


@settings(max_examples=3000, deadline=None)
@given(SHELLISH)
def test_agrees_with_shlex_on_shell_like_text(line):
    assert _outcome(cmdline.split, line) == _outcome(lambda s: shlex.split(s, posix=True), line)


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=60))
def test_agrees_with_shlex_on_any_text(line):
    assert _outcome(cmdline.split, line) == _outcome(lambda s: shlex.split(s, posix=True), line)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=8))
def test_quoted_words_come_back(words):
    # shlex.quote is how the gold translators and agents build lines
    assert cmdline.split(" ".join(shlex.quote(w) for w in words)) == words


def _heredoc_by_rescanning(first: str):
    """``split_heredoc``'s choice of ``<<`` as it was made before: every candidate checked
    by scanning the line again from its start."""

    def outside(end: int) -> bool:
        quote, i = None, 0
        while i < end:
            ch = first[i]
            if quote is None and ch == "\\":
                i += 1
            elif quote is None and ch in "'\"":
                quote = ch
            elif ch == quote:
                quote = None
            i += 1
        return quote is None

    return next((m.span() for m in _HEREDOC.finditer(first) if outside(m.start())), None)


HEREDOCKY = st.lists(st.sampled_from(["<<", "<<-", "EOF", "'E'", '"X"', "'", '"', "\\", " ", "a", "\t"]),
                     max_size=30).map("".join)


@settings(max_examples=2000, deadline=None)
@given(HEREDOCKY)
def test_the_heredoc_found_is_the_one_a_rescan_finds(first):
    m = _first_unquoted(first)
    assert (m.span() if m else None) == _heredoc_by_rescanning(first)
