"""Resource patterns: a small glob language, matching, and proven containment.

A resource is a typed string ``<type>:<path>``: ``file:src/app.py``, ``service:prod/api``,
``table:orders``, ``log:staging/api``, ``host:db-1:/var/log/syslog``. The type is the text
before the first ``:``; everything after it is the path (later colons are ordinary
characters, so ``host:db-1:/var/log/**`` has path ``db-1:/var/log/**``).

A pattern has the same shape. Its type is a literal name or ``*`` (any type). Its path is
a glob:

=========  ==========================================================================
``?``      exactly one character other than ``/``
``*``      any run (possibly empty) of characters other than ``/``: one path segment
``**/``    zero or more whole segments (``src/**/*.py`` matches ``src/a.py``, ``src/x/a.py``)
``**``     elsewhere: any run of characters, ``/`` included (``src/**`` matches all below)
other      itself; there are no character classes or escapes (``[``, ``]`` are literal)
=========  ==========================================================================

Containment (``contains(parent, child)``: every resource the child matches, the parent
matches too) is what makes delegation safe. It is decided exactly, by exploring the
product of the two patterns' automata over an alphabet of the literal characters that
occur in them, ``/`` and one symbol standing for every other character (the automata
cannot tell such characters apart, so this loses nothing). The exploration is capped;
past the cap the answer is "not proven", and callers refuse, so the check errs only
towards refusing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Predicates on one character; _OTHER stands for "any character not named in the patterns".
_ANY, _NOT_SLASH = "any", "notslash"
_OTHER = "\x00other"
MAX_PRODUCT_STATES = 20_000


class PatternError(ValueError):
    """A pattern or resource string that is not ``<type>:<path>``."""


@dataclass(frozen=True)
class _Nfa:
    """States 0..n; ``edges[s]`` = ((predicate, target), ...); ``eps[s]`` = targets."""

    edges: tuple[tuple[tuple[str, int], ...], ...]
    eps: tuple[tuple[int, ...], ...]
    accept: int


def split(text: str) -> tuple[str, str]:
    """``"file:src/**"`` -> ``("file", "src/**")``; refuses strings without a type."""
    if not isinstance(text, str) or ":" not in text:
        raise PatternError(f"{text!r} is not of the form <type>:<path> (e.g. file:src/**)")
    kind, path = text.split(":", 1)
    if not kind or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*|\*", kind):
        raise PatternError(f"{text!r}: the type must be a name or '*', got {kind!r}")
    return kind, path


def _tokens(path: str) -> list[str]:
    """Glob path -> tokens: 'LIT:c', '?', '*', '**', '**/'. Runs of 3+ stars act as '**'."""
    out: list[str] = []
    i = 0
    while i < len(path):
        if path[i] == "*":
            j = i
            while j < len(path) and path[j] == "*":
                j += 1
            if j - i == 1:
                out.append("*")
            elif j < len(path) and path[j] == "/":
                out.append("**/")
                j += 1
            else:
                out.append("**")
            i = j
        elif path[i] == "?":
            out.append("?")
            i += 1
        else:
            out.append("LIT:" + path[i])
            i += 1
    return out


@lru_cache(maxsize=65_536)
def _nfa(path: str) -> _Nfa:
    edges: list[list[tuple[str, int]]] = []
    eps: list[list[int]] = []

    def new() -> int:
        edges.append([])
        eps.append([])
        return len(edges) - 1

    s = new()
    for tok in _tokens(path):
        if tok == "**/":
            inner, nxt = new(), new()
            eps[s].append(nxt)
            edges[s].append((_ANY, inner))
            edges[inner].append((_ANY, inner))
            edges[inner].append(("LIT:/", nxt))
            edges[s].append(("LIT:/", nxt))  # "**/" consuming just the slash: "a/" + rest
        else:
            nxt = new()
            if tok.startswith("LIT:"):
                edges[s].append((tok, nxt))
            elif tok == "?":
                edges[s].append((_NOT_SLASH, nxt))
            elif tok == "*":
                edges[s].append((_NOT_SLASH, s))
                eps[s].append(nxt)
            else:  # "**"
                edges[s].append((_ANY, s))
                eps[s].append(nxt)
        s = nxt
    return _Nfa(tuple(tuple(e) for e in edges), tuple(tuple(e) for e in eps), s)


def _holds(pred: str, sym: str) -> bool:
    if pred == _ANY:
        return True
    if pred == _NOT_SLASH:
        return sym != "/"
    return sym == pred[4:]


def _closure(nfa: _Nfa, states: frozenset[int]) -> frozenset[int]:
    todo, seen = list(states), set(states)
    while todo:
        for t in nfa.eps[todo.pop()]:
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return frozenset(seen)


def _step(nfa: _Nfa, states: frozenset[int], sym: str) -> frozenset[int]:
    nxt = {t for s in states for pred, t in nfa.edges[s] if _holds(pred, sym)}
    return _closure(nfa, frozenset(nxt))


@lru_cache(maxsize=65_536)
def _regex(path: str) -> re.Pattern[str]:
    parts = []
    for tok in _tokens(path):
        if tok.startswith("LIT:"):
            parts.append(re.escape(tok[4:]))
        else:
            parts.append({"?": "[^/]", "*": "[^/]*", "**": ".*", "**/": "(?:.*/)?"}[tok])
    return re.compile("".join(parts), re.DOTALL)


def compiled(glob: str) -> re.Pattern[str]:
    """The glob's compiled regex (``fullmatch`` it against a path)."""
    return _regex(glob)


def path_matches(glob: str, path: str) -> bool:
    return _regex(glob).fullmatch(path) is not None


def matches(pattern: str, resource: str) -> bool:
    """Does the typed ``pattern`` match the typed ``resource``?"""
    pkind, pglob = split(pattern)
    rkind, rpath = split(resource)
    return (pkind == "*" or pkind == rkind) and path_matches(pglob, rpath)


def path_contains(parent: str, child: str) -> bool | None:
    """True if every path ``child`` matches is matched by ``parent``; False if some path
    is not; None if the exploration hit ``MAX_PRODUCT_STATES`` (treat as not proven)."""
    if parent == child or parent == "**":
        return True
    pn, cn = _nfa(parent), _nfa(child)
    alphabet = sorted({t[4:] for t in _tokens(parent) + _tokens(child) if t.startswith("LIT:")} | {"/"})
    alphabet.append(_OTHER)
    start = (_closure(cn, frozenset({0})), _closure(pn, frozenset({0})))
    todo, seen = [start], {start}
    while todo:
        cs, ps = todo.pop()
        if cn.accept in cs and pn.accept not in ps:
            return False  # a string the child matches and the parent does not
        for sym in alphabet:
            nc = _step(cn, cs, sym)
            if not nc:
                continue  # the child matches nothing along this prefix
            pair = (nc, _step(pn, ps, sym))
            if pair not in seen:
                if len(seen) >= MAX_PRODUCT_STATES:
                    return None
                seen.add(pair)
                todo.append(pair)
    return True


def contains(parent: str, child: str) -> bool:
    """Proven containment of typed patterns; anything unproven is False (refuse)."""
    pkind, pglob = split(parent)
    ckind, cglob = split(child)
    if pkind != "*" and pkind != ckind:
        return False
    return path_contains(pglob, cglob) is True


def literal_head(pattern: str) -> str | None:
    """The pattern's first path segment if it is wholly literal (used to index
    capabilities so that authorizing against thousands of them stays cheap)."""
    _, glob = split(pattern)
    head = glob.partition("/")[0]
    if any(c in head for c in "*?"):
        return None
    return head
