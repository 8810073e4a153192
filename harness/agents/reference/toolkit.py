"""Toolkits: how the reference agent does each basic job with the tools it was given.

An agent in life uses whatever tools it is handed; so does this one. A toolkit is chosen
by looking at the tool list, never at a condition (``agent.make_toolkit``), and turns
intentions (find the files that use a name, read a file, replace a line, run the tests)
into calls, applying the agent's error processes to what it sends and to how it reads
what comes back.

Every query returns ``None`` when the lookup itself failed, so a strategy can tell
"unknown" from "empty"; what a failure looks like is the variant's business.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.agents.reference.errors import ErrorProcesses
from harness.runtime.port import Action, Observation

Steps = Generator[Action, Observation | None, Any]


@dataclass
class TestOutcome:
    ok: bool
    names_in_errors: set[str] = field(default_factory=set)  # identifiers quoted in failures
    failures: list[str] = field(default_factory=list)  # failure messages as the agent read them
    failed_tests: list[str] = field(default_factory=list)  # names of the failing tests, as read
    crash_sites: list[tuple[str, int]] = field(default_factory=list)  # (path, line) where failures were raised


@dataclass
class RenameOutcome:
    applied_new_name: str | None  # what the infrastructure says it renamed to, when it says
    files_attempted: int
    refused: bool = False  # the infrastructure said no, with a reason, and changed nothing


@dataclass
class EditOutcome:
    """What an edit is known to have done. ``applied`` is None when the tool does not say
    (a shell command that printed nothing): the agent must look to find out."""

    applied: bool | None
    count: int | None = None  # replacements made, when the tool reports it
    refused: bool = False  # refused before touching the world, with a reason
    message: str = ""


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    text: str


class Toolkit(Protocol):
    batch_rename: bool  # one call renames everywhere, safely
    reports_edits: bool  # edits answer with what they changed (no need to re-read)

    def find_files(self, name: str, paths: list[str]) -> Steps: ...  # list, or None if the lookup failed
    def find_tokens(self, fragment: str, paths: list[str]) -> Steps: ...  # set, or None if the lookup failed
    def rename(self, old: str, new: str, files: list[str], paths: list[str]) -> Steps: ...
    def run_tests(self, module: str) -> Steps: ...  # TestOutcome
    def read(self, path: str) -> Steps: ...  # text, or None
    def list_files(self, prefix: str = "") -> Steps: ...  # paths, or None
    def search(self, pattern: str, paths: list[str] | None = None, *, regex: bool = False,
               word: bool = False) -> Steps: ...  # list[Hit], or None
    def replace(self, path: str, old: str, new: str, *, expected: int | None = None) -> Steps: ...  # EditOutcome
    def write(self, path: str, text: str) -> Steps: ...  # EditOutcome
    def post_comment(self, text: str) -> Steps: ...  # True when the ticket took it
    def read_ticket(self) -> Steps: ...  # the comments' texts as read, or None


@dataclass(frozen=True)
class Decision:
    """What one typed call decides, so that a mistake can land where it would: the argument
    naming what is acted on (``target``), the one carrying what is written (``value``),
    and the arguments that narrow the call (``scope``)."""

    target: str | None = None
    value: str | None = None
    scope: tuple[str, ...] = ()
    pool: str = "path"  # which names the agent has seen a wrong target is drawn from

    @property
    def changes(self) -> bool:
        return self.target is not None or self.value is not None


QUERY = Decision(scope=("word", "identifier"))  # a search's narrowing flags (grep's -w)


def neighbour(meant: str, known: list[str] | set[str] | tuple[str, ...]) -> str | None:
    """A plausible wrong target: the next name after ``meant`` among those the agent has
    seen (with the same extension, when it has one), in sorted order; None if none."""
    ext = meant.rsplit(".", 1)[-1] if "." in meant.rsplit("/", 1)[-1] else None
    pool = sorted({k for k in known if k != meant and (ext is None or k.endswith("." + ext))})
    if not pool:
        return None
    later = [k for k in pool if k > meant]
    return (later or pool)[0]


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{3,}")
QUOTED_NAME = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")  # a name quoted in an error message
TOKEN_WITH = r"[A-Za-z0-9_]*{}[A-Za-z0-9_]*"  # a whole token containing a fragment (format it)


def typo_in(text: str, errors: ErrorProcesses) -> str:
    """``text`` with one of its words mistyped (a name, a key, a value in a longer text)."""
    words = list(_WORD.finditer(text))
    if not words:
        return typo(text, errors) if text else text
    m = words[errors.pick("typo_word", len(words))]
    return text[:m.start()] + typo(m.group(), errors) + text[m.end():]


def typo(name: str, errors: ErrorProcesses) -> str:
    """A plausible misspelling: swapped neighbours, a dropped letter, or a case flip."""
    kind = errors.pick("typo", 3)
    if len(name) > 3 and kind == 0:
        i = 1 + errors.pick("typo_pos", len(name) - 2)
        return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]
    if len(name) > 3 and kind == 1:
        i = 1 + errors.pick("typo_pos", len(name) - 1)
        return name[:i] + name[i + 1 :]
    return name[0].swapcase() + name[1:]
