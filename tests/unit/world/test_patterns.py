"""Agent-supplied regular expressions: a catastrophic one is refused, not a hang; an
ordinary one gives exactly what ``re`` gives."""

from __future__ import annotations

import re
import threading
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.runtime.tools.shell import ShellTools
from harness.runtime.tools.typed import TypedTools
from harness.world import Workspace, World, WorldError, patterns

# Forty a's then a b: `re` backtracks through every way to split the a's (minutes), and so
# does `regex` for this alternation (its safeguards catch the classic (a+)+$, not this one).
EVIL = "(a|aa)+$"
VICTIM = "a" * 40 + "b"


@pytest.fixture
def short_limit(monkeypatch):
    """A short budget, so each refusal takes a fraction of a second rather than 2 s."""
    monkeypatch.setattr(patterns, "TIMEOUT_S", 0.25)


def world() -> World:
    return World(Workspace({
        "victim.txt": f"{VICTIM}\nplain line\n",
        "pkg/mod.py": f"{VICTIM} = 1\nok = 2\n",
        "many.txt": f"{VICTIM}\n" * 20,
    }))


def said_too_slow(text: str | None) -> bool:
    return text is not None and "took longer than" in text and "catastrophic backtracking" in text


# -- a catastrophic pattern is the world's refusal, through every door ------------------------------
def test_workspace_search_refuses_at_the_real_limit():
    ws = world().workspace
    with pytest.raises(WorldError) as caught:
        ws.search(EVIL, regex=True, paths=["victim.txt"])
    assert said_too_slow(caught.value.message)
    assert f"{patterns.TIMEOUT_S:g} s" in caught.value.message and repr(EVIL) in caught.value.message


def test_one_budget_covers_a_whole_search_not_each_line(short_limit):
    # twenty catastrophic lines: a per-line limit would take twenty budgets
    with pytest.raises(WorldError) as caught:
        world().workspace.search(EVIL, regex=True, paths=["many.txt"])
    assert said_too_slow(caught.value.message)


def test_workspace_replace_refuses_and_leaves_the_file(short_limit):
    w = world()
    before = w.workspace.digest()
    with pytest.raises(WorldError) as caught:
        w.workspace.replace("victim.txt", EVIL, "x", regex=True)
    assert said_too_slow(caught.value.message)
    assert w.workspace.digest() == before


def test_shell_grep_is_an_error_observation(short_limit):
    w = world()
    obs = ShellTools().call(w, "shell", {"command": f"grep -E '{EVIL}' victim.txt"})
    assert obs.ok is False and said_too_slow(obs.text) and obs.text.startswith("grep: pattern ")


def test_shell_sed_is_an_error_observation(short_limit):
    w = world()
    before = w.workspace.digest()
    obs = ShellTools().call(w, "shell", {"command": f"sed -i 's/{EVIL}/x/' victim.txt"})
    assert obs.ok is False and said_too_slow(obs.text) and obs.text.startswith("sed: pattern ")
    assert w.workspace.digest() == before
    obs = ShellTools().call(w, "shell", {"command": f"sed -E 's/{EVIL}/x/g' victim.txt"})
    assert obs.ok is False and said_too_slow(obs.text)


@pytest.mark.parametrize("args", [
    {"pattern": EVIL, "regex": True},
    {"pattern": EVIL, "regex": True, "identifier": True},  # names are matched first
])
def test_typed_search_is_an_error_observation(short_limit, args):
    obs = TypedTools().call(world(), "search", args)
    assert obs.ok is False and obs.error is not None
    assert obs.error.field == "pattern" and said_too_slow(obs.error.message)


def test_typed_replace_is_an_error_observation(short_limit):
    w = world()
    before = w.workspace.digest()
    obs = TypedTools().call(w, "replace_in_file", {"path": "victim.txt", "old": EVIL, "new": "x", "regex": True})
    assert obs.ok is False and obs.error is not None and obs.error.field == "old"
    assert said_too_slow(obs.error.message) and w.workspace.digest() == before


# -- invalid patterns: re's own errors and messages --------------------------------------------------
def test_invalid_patterns_keep_re_messages():
    ws = world().workspace
    with pytest.raises(WorldError) as caught:
        ws.search("(", regex=True)
    assert caught.value.message == "invalid pattern '(': missing ), unterminated subpattern at position 0"
    with pytest.raises(WorldError) as caught:
        ws.replace("victim.txt", "(a)", r"\2", regex=True)
    assert caught.value.message == "invalid pattern '(a)': invalid group reference 2 at position 1"
    # re raises a bare IndexError for an unknown group name; here it is a refusal too
    with pytest.raises(WorldError, match="unknown group name"):
        ws.replace("victim.txt", "(a)", r"\g<x>", regex=True)
    obs = ShellTools().call(world(), "shell", {"command": "sed 's/(/x/' victim.txt"})
    assert obs.text == "sed: -e expression #1, char 6: invalid regular expression: " \
        "missing ), unterminated subpattern at position 0\n"


def test_a_pattern_regex_would_expand_past_the_limit_is_invalid():
    # regex copies a counted repeat's minimum at compile time: a{10000000} is 2.6 GB
    big = "a{10000000}"
    with pytest.raises(WorldError, match=r"invalid pattern 'a\{10000000\}': its repeats expand it to 10,000,000"):
        world().workspace.search(big, regex=True)
    obs = TypedTools().call(world(), "search", {"pattern": f"(?:{big})", "regex": True, "identifier": True})
    assert obs.error is not None and obs.error.code == "invalid_pattern"
    obs = ShellTools().call(world(), "shell", {"command": "sed 's/(a{1000}){1000}/x/' victim.txt"})
    assert obs.ok is False and "invalid regular expression: its repeats expand it to 1,000,000 items" in obs.text
    assert patterns.compile(f"a{{{patterns.MAX_EXPANDED}}}").fullmatch("a" * patterns.MAX_EXPANDED)


def test_constructs_regex_would_read_as_syntax_stay_literal_as_in_re():
    text = "a b:c[d]e1 s] x{e<=1} e"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # re: "Possible nested set"
        for p in ["[[:space:]]+", "[a-z[:digit:]]", "[[:^alpha:]]", "x{e<=1}", "e{e<=1}", "(?x:x{ 1})"]:
            ours = patterns.compile(p).sub("_", text)
            assert ours == re.sub(p, "_", text), p


# -- ordinary patterns: the same results as re ---------------------------------------------------------
ATOMS = st.sampled_from([
    "a", "b", " ", ".", ":", "-", "1", r"\w", r"\W", r"\d", r"\s", r"\S", r"\b", r"\B", "^", "$",
    r"\.", r"\A", r"\Z", "[ab]", "[^a]", "[a-c]", "[]a]", "[[]", "[[:alpha:]]", "[a[:b]",
    "{", "}", "{e<=1}", "{x}", "{}", "(?i:A)", r"\N{LATIN SMALL LETTER A}",
])
QUANTIFIERS = st.sampled_from(["*", "+", "?", "*?", "+?", "??", "{2}", "{1,2}", "{,2}", "{1,}", "{2,1}", "*+"])
STRUCTURED = st.recursive(ATOMS, lambda inner: st.one_of(
    st.tuples(inner, inner).map("".join),
    st.tuples(inner, inner).map("|".join),
    inner.map(lambda p: f"({p})"),
    inner.map(lambda p: f"(?:{p})"),
    inner.map(lambda p: f"(?={p})"),
    inner.map(lambda p: f"(?<!{p})"),  # not fixed width: both refuse it the same way
    st.tuples(inner, QUANTIFIERS).map(lambda t: f"(?:{t[0]}){t[1]}"),
), max_leaves=8)
# unbalanced token runs: how both read (or refuse) the odd corners of the syntax
SOUP = st.lists(st.sampled_from([
    "(", ")", "[", "]", "{", "}", "\\", "|", "*", "+", "?", "^", "-", ":", ",", "1", "2", "a",
    "b", "(?", "#", "x", "e<=1", "[:alpha:]", "(?x)", "(?#", "P<n>", r"\1", " ", "\n", "(?x:",
]), max_size=8).map("".join)
PATTERNS = st.one_of(STRUCTURED, SOUP)
TEXTS = st.text(alphabet="ab :[]{}1-,\n_A", max_size=10)
TEMPLATES = st.sampled_from([r"<\g<0>>", "x", r"[\1]", r"\n", "\\\\", r"\q", r"\g<n>", r"\g<1>", ""])


def outcome(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", fn()
    except (re.error, IndexError) as exc:  # re: an unknown group name is an IndexError
        return "error", str(exc)


def match_view(m):
    return None if m is None else (m.span(), m.groups(), m.lastindex)


@settings(max_examples=400, deadline=None)
@given(pattern=PATTERNS, text=TEXTS, ignorecase=st.booleans())
def test_search_and_fullmatch_agree_with_re(pattern, text, ignorecase):
    flags = re.IGNORECASE if ignorecase else 0
    ours = outcome(lambda: patterns.compile(pattern, flags))
    theirs = outcome(lambda: re.compile(pattern, flags))
    assert ours[0] == theirs[0] and (ours[0] == "ok" or ours == theirs), (ours, theirs)
    if ours[0] == "ok":
        p, r = ours[1], theirs[1]
        assert p.groups == r.groups
        assert match_view(p.search(text)) == match_view(r.search(text))
        assert match_view(p.fullmatch(text)) == match_view(r.fullmatch(text))
        assert p.sub(lambda m: f"<{m.group(0)}>", text, count=1) == r.sub(lambda m: f"<{m.group(0)}>", text, count=1)


@settings(max_examples=300, deadline=None)
@given(pattern=STRUCTURED, text=TEXTS, template=TEMPLATES)
def test_substitution_agrees_with_re(pattern, text, template):
    def ours():
        patterns.check_template(pattern, template)
        return patterns.compile(pattern).subn(template, text)

    assert outcome(ours) == outcome(lambda: re.subn(pattern, template, text))


@settings(max_examples=200, deadline=None)
@given(pattern=STRUCTURED, lines=st.lists(st.text(alphabet="ab :[]{}1-_A", max_size=8), max_size=5),
       word=st.booleans())
def test_workspace_search_agrees_with_re(pattern, lines, word):
    text = "\n".join(lines)
    expr = rf"\b(?:{pattern})\b" if word else pattern
    theirs = outcome(lambda: re.compile(expr))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hits = [h.line for h in Workspace({"f.txt": text}).search(pattern, regex=True, word=word)]
    except WorldError as exc:
        assert theirs == ("error", exc.message.removeprefix(f"invalid pattern {pattern!r}: "))  # as re does
    else:
        assert theirs[0] == "ok"
        assert hits == [i for i, line in enumerate(text.splitlines(), start=1) if theirs[1].search(line)]


def test_an_ordinary_search_beside_busy_threads_is_not_refused(short_limit):
    """The budget is this thread's CPU time: the turns other threads (episodes running at
    once in the process) take at the interpreter lock between its matches are not its own."""
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            sum(range(100))

    threads = [threading.Thread(target=busy, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        pattern = patterns.compile(r"cleaned = \[item for item in values if item >= 0\]")
        found = [pattern.search(f"    cleaned = [item for item in values if item >= {i}]") for i in range(300)]
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert sum(m is not None for m in found) == 1
