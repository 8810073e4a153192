"""Regular expressions an agent supplies, compiled and applied under a time limit.

Python's ``re`` backtracks without bound: ``(a|aa)+$`` against forty ``a`` and a ``b``
runs for minutes, and an adversarial agent could hang a worker with one search. Every
pattern that comes from an agent's action therefore goes through this module, which
matches with the ``regex`` package in its ``re``-compatible mode (``VERSION0``) and gives
each operation a time budget; running out of it is the world's own refusal, a
``WorldError``, which the tool layers turn into an error observation. The budget is the
calling thread's CPU time, not the wall clock: episodes running at once on a process's
threads wait for each other's turns at the interpreter lock between the matches of a
search (measured: a search over 2,000 lines beside 31 busy threads took 2.5 s of wall
clock and 9 ms of CPU), and that must not turn an ordinary search into a refusal.

Results are ``re``'s: a pattern is first compiled by ``re``, so exactly the patterns
``re`` accepts are accepted, with ``re``'s error (``re.error``) and message for the
others; then the two constructs ``re`` reads literally but ``regex`` reads as syntax (a
``[`` inside a set, as in ``[[:space:]]``, and a ``{`` that is not a repeat, as in the
fuzzy ``{e<=1}``) are escaped for ``regex``, and ``\\B`` is kept from matching an empty
string. A replacement template is checked by ``re`` too. Known remaining differences,
none of them in ASCII text except the first: ``\\s`` does not match the separators
``\\x1c``-``\\x1f``; ``regex`` classes characters by Unicode properties (combining marks
are ``\\w``, superscript digits are not) and folds case simply (``(?i)i`` does not match
a dotless ``ı``); a conditional or back-reference to a group still open around it can
differ; ``Match.lastgroup`` can name a group ``re`` would not.

Patterns the harness writes itself stay on ``re``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from time import thread_time as _clock  # this thread's CPU time (see the module's doc)
from typing import Any

import regex

from harness.core.errors import WorldError

# No published source: a generous limit that no ordinary search over a workspace comes
# near (they take milliseconds); only a catastrophic pattern reaches it. It is one
# operation's budget, shared by every match that operation makes, not a per-line limit.
TIMEOUT_S = 2.0
# No published source either. regex, unlike re, copies a counted repeat's minimum when it
# compiles (a{10000000} takes 2.6 GB and 3.5 s), so a pattern that would expand past this
# many items is refused before compiling; a{65535} is 65,535 items and about 17 MB.
MAX_EXPANDED = 100_000

_QUANTIFIER = re.compile(r"\{(\d*)(?:,\d*)?\}")  # re's repeat syntax; any other '{' is a literal
_SCOPED_FLAGS = re.compile(r"\(\?([aiLmsux]*)(?:-([imsx]*))?:")
# re before Python 3.14 never matches \B in an empty string; regex does
_NOT_BOUNDARY = r"(?:\B(?!\A\Z))" if re.search(r"\B", "") is None else r"\B"
_FLAGS = {re.IGNORECASE: regex.IGNORECASE, re.MULTILINE: regex.MULTILINE,
          re.DOTALL: regex.DOTALL, re.VERBOSE: regex.VERBOSE, re.ASCII: regex.ASCII}


class Pattern:
    """A compiled agent pattern for one operation: its calls share one time budget, so a
    search over many lines is bounded as a whole. Compile a new one per operation."""

    __slots__ = ("_regex", "groups", "shown", "timeout", "_spent")

    def __init__(self, compiled: Any, shown: str, timeout: float):
        self._regex = compiled
        self.groups: int = compiled.groups
        self.shown = shown
        self.timeout = timeout
        self._spent = 0.0

    def search(self, text: str) -> Any:
        # _run inlined: this is the per-line call of a search over a whole workspace
        left = self.timeout - self._spent
        if left <= 0:
            raise self._timed_out()
        start = _clock()
        try:
            return self._regex.search(text, timeout=left)
        except TimeoutError:
            raise self._timed_out() from None
        finally:
            self._spent += _clock() - start

    def fullmatch(self, text: str) -> Any:
        return self._run(self._regex.fullmatch, text)

    def subn(self, repl: str | Callable[[Any], str], text: str, count: int = 0) -> tuple[str, int]:
        return self._run(self._regex.subn, repl, text, count=count)

    def sub(self, repl: str | Callable[[Any], str], text: str, count: int = 0) -> str:
        return self._run(self._regex.sub, repl, text, count=count)

    def _run(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        left = self.timeout - self._spent
        if left <= 0:
            raise self._timed_out()
        start = _clock()
        try:
            return method(*args, timeout=left, **kwargs)
        except TimeoutError:
            raise self._timed_out() from None
        except regex.error as exc:  # a template re accepted and regex does not
            raise re.error(str(exc)) from None
        finally:
            self._spent += _clock() - start

    def _timed_out(self) -> Exception:
        return WorldError(
            f"pattern {self.shown!r} took longer than {self.timeout:g} s: catastrophic backtracking?",
            "simplify the pattern: avoid nested or overlapping repeats such as (a+)+ or (a|aa)+",
        )


def compile(pattern: str, flags: int = 0, *, shown: str | None = None,
            timeout: float | None = None) -> Pattern:
    """``pattern`` (``re`` syntax, ``re`` flags) compiled for matching under ``timeout``
    seconds (default ``TIMEOUT_S``); ``shown`` is how a time-out names it (default: the
    pattern). Raises ``re.error`` with ``re``'s own message if ``re`` rejects it."""
    checked = re.compile(pattern, flags)
    translated = 0
    for ours, theirs in _FLAGS.items():
        if checked.flags & ours:
            translated |= theirs
    translation, size = _for_regex(pattern, bool(checked.flags & re.VERBOSE))
    if size > MAX_EXPANDED:  # refused as re would refuse a pattern it cannot read
        raise re.error(f"its repeats expand it to {size:,} items, more than the {MAX_EXPANDED:,} allowed")
    try:
        compiled = regex.compile(translation, translated | regex.VERSION0)
    except regex.error as exc:  # re accepted it; regex should too, but say so if not
        raise re.error(str(exc), pattern) from None
    return Pattern(compiled, pattern if shown is None else shown,
                   TIMEOUT_S if timeout is None else timeout)


def check_template(pattern: str, template: str, flags: int = 0) -> None:
    """Raise ``re.error`` if ``re`` would reject ``template`` as ``pattern``'s replacement
    (``re`` reports an unknown group name as ``IndexError``; that is a bad template too)."""
    try:
        re.compile(pattern, flags).subn(template, "")  # re parses the template before matching
    except IndexError as exc:
        raise re.error(str(exc)) from None


def _for_regex(pattern: str, verbose: bool) -> tuple[str, int]:
    """``pattern`` as ``regex`` must see it to read it as ``re`` does, and its size once
    ``regex`` has expanded its counted repeats. Escaped: a ``[`` inside a set
    (``[[:alpha:]]`` is a POSIX class to ``regex``, a set of characters to ``re``) and a
    ``{`` that does not start a repeat (``regex`` reads fuzzy constraints such as
    ``{e<=1}``); and ``\\B`` is kept from matching an empty string. The size counts every
    item once per copy a repeat's minimum makes (alternatives add up): an upper bound."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_set = False
    outer: list[bool] = []  # verbose mode outside each open group
    frames = [[0, 0]]  # per open group: [size so far, size of its last item]

    def item(size: int) -> None:
        frames[-1][0] += size
        frames[-1][1] = size

    while i < n:
        c = pattern[i]
        if c == "\\":
            end = i + 2
            if pattern.startswith("N{", i + 1):  # \N{NAME}: the braces belong to the escape
                close = pattern.find("}", i)
                end = n if close < 0 else close + 1
            escape = pattern[i:end]
            out.append(_NOT_BOUNDARY if escape == "\\B" and not in_set else escape)
            if not in_set:
                item(1)
            i = end
        elif in_set:
            if c == "]":
                in_set = False
            out.append("\\[" if c == "[" else c)
            i += 1
        elif c == "[":
            j = i + 1
            if pattern.startswith("^", j):
                j += 1
            if pattern.startswith("]", j):  # a ']' first in a set is a literal
                j += 1
            out.append(pattern[i:j])
            item(1)
            in_set, i = True, j
        elif c == "{":
            m = _QUANTIFIER.match(pattern, i)
            if m and m.group() != "{}":
                copies = max(int(m[1] or 0), 1)
                frames[-1][0] += frames[-1][1] * (copies - 1)
                frames[-1][1] *= copies
                out.append(m.group())
                i = m.end()
            else:
                out.append("\\{")
                item(1)
                i += 1
        elif pattern.startswith("(?#", i):  # a comment runs to the first ')'
            close = pattern.find(")", i)
            end = n if close < 0 else close + 1
            out.append(pattern[i:end])
            i = end
        elif verbose and c == "#":  # a verbose comment runs to the end of the line
            close = pattern.find("\n", i)
            end = n if close < 0 else close
            out.append(pattern[i:end])
            i = end
        elif c == "(":  # a group may turn verbose mode on or off inside it: (?x:...)
            outer.append(verbose)
            frames.append([0, 0])
            scoped = _SCOPED_FLAGS.match(pattern, i)
            if scoped:
                verbose = "x" in scoped[1] or (verbose and "x" not in (scoped[2] or ""))
            out.append(c)
            i += 1
        elif c == ")":
            verbose = outer.pop() if outer else verbose
            if len(frames) > 1:
                item(max(frames.pop()[0], 1))
            out.append(c)
            i += 1
        else:
            if c not in "*+?|":
                item(1)
            out.append(c)
            i += 1
    return "".join(out), sum(size for size, _ in frames)
