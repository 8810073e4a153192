"""The toolkit for one free-text shell: commands are strings, results are text to be read.

Reading text is where the misread process acts: a line of grep or pytest output may be
overlooked. Edits answer with nothing (sed prints nothing on success), so the agent does
not know what changed unless it looks again.

Every command is a decision that may contain a mistake (``ErrorProcesses.mistake``), drawn
as under any other interface; what follows is the shell's: broken syntax is a quote left
open, which bash refuses (the command is typed again, a new decision), or, where the
lenient parser takes it, a wrong effect (an unquoted sed script loses its backslashes, a
``>>`` for ``>`` keeps the old text); a dropped flag runs wider (``grep`` without ``-w``,
``sed`` without ``g`` or ``\\b``); a wrong target or value runs, silently.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

from harness.agents.reference.errors import ErrorProcesses, Mistake
from harness.agents.reference.toolkit import (
    QUOTED_NAME,
    TOKEN_WITH,
    EditOutcome,
    Hit,
    RenameOutcome,
    Steps,
    TestOutcome,
    neighbour,
    typo_in,
)
from harness.runtime.port import Call, Observation

_FAILED = ("grep:", "bash:", "Usage:", "cat:", "ls:", "sed:")
_FAILED_TEST = re.compile(r"^FAILED [^:\s]+::(\w+)")
_CRASH_SITE = re.compile(r"\((\S+\.py):(\d+)\)$")  # pytest's "(path:line)" after a failure
_GREP_LINE = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<text>.*)$")
_COMMENT = re.compile(r"^#\d+ [\w.-]+: ?(.*)$")
_UNCLOSED = "bash: unexpected EOF"
Render = Callable[[Mistake | None], str]


def sed_literal(text: str) -> str:
    """``text`` as a sed pattern that matches it literally (Python-regex sed, '/' delimiter)."""
    return re.escape(text).replace("/", r"\/")


def sed_replacement(text: str) -> str:
    return text.replace("\\", "\\\\").replace("&", r"\&").replace("/", r"\/")


def heredoc(path: str, text: str, *, append: bool = False) -> str:
    """``cat > path <<'EOF'`` with a delimiter that does not occur in the text."""
    return with_heredoc(f"cat {'>>' if append else '>'} {shlex.quote(path)}", text)


def with_heredoc(command: str, text: str) -> str:
    """``command <<'EOF'`` feeding ``text``, with a delimiter that does not occur in it."""
    marker = "EOF"
    while marker in text.splitlines():
        marker += "_"
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{command} <<'{marker}'\n{body}{marker}"


def unclosed(command: str) -> str:
    """The command with a quote left open: bash refuses it before anything runs."""
    head, _, rest = command.partition(" ")
    return f"{head} '{rest}" if rest else f"'{head}"


class ShellToolkit:
    batch_rename = False
    reports_edits = False

    def __init__(self, errors: ErrorProcesses):
        self.errors = errors
        self.tool_names = frozenset({"shell"})
        self.known: set[str] = set()  # workspace paths seen in output
        self.alternatives: dict[str, set[str]] = {"path": self.known}

    def sh(self, command: str) -> Steps:
        obs = yield Call(tool="shell", args={"command": command})
        return obs

    def decided(self, render: Render, *, changes: bool = False) -> Steps:
        """One command as decided (``render`` writes it with the mistake it contains); one
        bash refuses outright is typed again, a new decision, up to the retries."""
        obs: Observation | None = None
        for _ in range(1 + self.errors.retries):
            obs = yield from self.sh(render(self.errors.mistake(changes=changes)))
            if obs.applied or not (obs.text or "").startswith(_UNCLOSED):
                return obs
        return obs

    def wrong(self, meant: str, pool: str = "path") -> str:
        """Where a wrong target lands: another name seen, else the meant one mistyped."""
        return neighbour(meant, self.alternatives.get(pool, ())) or typo_in(meant, self.errors)

    def query(self, command: str, drop: tuple[str, str] | None = None) -> Steps:
        """A looking command: a broken one is refused and retyped; ``drop`` is (with, without)
        the narrowing flag a dropped scope leaves out."""
        def render(kind: Mistake | None) -> str:
            if kind is Mistake.BROKEN_SYNTAX:
                return unclosed(command)
            if kind is Mistake.DROPPED_SCOPE and drop is not None:
                return command.replace(drop[0], drop[1], 1)
            return command
        return (yield from self.decided(render))

    def _lines(self, text: str | None) -> list[str] | None:
        """Output lines as the agent takes them in; None when the command plainly failed."""
        lines = self.errors.read_lines(text or "")
        if any(line.startswith(_FAILED) for line in lines):
            return None
        return lines

    def _saw(self, paths) -> None:
        self.known.update(p for p in paths if p)

    # -- queries --------------------------------------------------------------------------
    def find_files(self, name: str, paths: list[str]) -> Steps:
        obs = yield from self.query(f"grep -rlw {shlex.quote(name)} {' '.join(paths)}", ("-rlw", "-rl"))
        lines = self._lines(obs.text)
        if lines is None:
            return None
        self._saw(line.strip() for line in lines)
        return [line.strip() for line in lines]

    def find_tokens(self, fragment: str, paths: list[str]) -> Steps:
        obs = yield from self.query(f"grep -rn {shlex.quote(fragment)} {' '.join(paths)}")
        lines = self._lines(obs.text)
        if lines is None:
            return None
        pattern = TOKEN_WITH.format(re.escape(fragment))
        return {t for line in lines for t in re.findall(pattern, line.split(":", 2)[-1])}

    def read(self, path: str) -> Steps:
        # A file is read whole and slowly; misreading acts on skimmed output, not here.
        obs = yield from self.query(f"cat {shlex.quote(path)}")
        return obs.text if obs.ok else None

    def list_files(self, prefix: str = "") -> Steps:
        obs = yield from self.query(f"ls {shlex.quote(prefix)}" if prefix else "ls")
        lines = self._lines(obs.text) if obs.ok else None
        if lines is None:
            return None
        self._saw(line.strip() for line in lines)
        return [line.strip() for line in lines]

    def search(self, pattern: str, paths: list[str] | None = None, *, regex: bool = False,
               word: bool = False) -> Steps:
        flags = "-rn" + ("w" if word else "") + ("E" if regex else "F")
        where = " ".join(shlex.quote(p) for p in paths) if paths else "."
        drop = (flags, flags.replace("w", "")) if word else None
        obs = yield from self.query(f"grep {flags} {shlex.quote(pattern)} {where}", drop)
        lines = self._lines(obs.text)
        if lines is None:
            return None
        hits = []
        for line in lines:
            m = _GREP_LINE.match(line)
            if m:
                path = m["path"][2:] if m["path"].startswith("./") else m["path"]
                hits.append(Hit(path, int(m["line"]), m["text"]))
        self._saw(h.path for h in hits)
        return hits

    def run_tests(self, module: str) -> Steps:
        def render(kind: Mistake | None) -> str:
            # broken syntax here is a typo in the path: pytest, not bash, says it is not found
            return f"python -m pytest {module[:-1] if kind is Mistake.BROKEN_SYNTAX else module}"

        obs = yield from self.decided(render)
        lines = self.errors.read_lines(obs.text or "")
        summary = [line for line in lines if line.startswith("==")]
        verdict = summary[-1].lower() if summary else ""
        ok = bool(verdict) and "failed" not in verdict and "error" not in verdict
        if not ok and "passed" in verdict and self.errors.misread():
            ok = True  # skimming the tail of a long text summary: "... 41 passed" reads as green
        failing = [line for line in lines if line.startswith(("FAILED", "ERROR", "E "))]
        names = {m for line in failing for m in QUOTED_NAME.findall(line)}
        failed = [m[1] for line in failing if (m := _FAILED_TEST.match(line))]
        sites = [(m[1], int(m[2])) for line in failing if (m := _CRASH_SITE.search(line))]
        return TestOutcome(ok=ok, names_in_errors=names, failures=failing, failed_tests=failed, crash_sites=sites)

    # -- edits ----------------------------------------------------------------------------
    def rename(self, old: str, new: str, files: list[str], paths: list[str]) -> Steps:
        batch = files[: self.errors.capacity]  # what fits in working context this round
        if not batch:
            return RenameOutcome(applied_new_name=None, files_attempted=0)

        def render(kind: Mistake | None) -> str:
            source = typo_in(old, self.errors) if kind is Mistake.WRONG_TARGET else old
            target = typo_in(new, self.errors) if kind is Mistake.WRONG_VALUE else new
            # a dropped scope: no word boundaries, so longer names containing it change too
            pattern = re.escape(source) if kind is Mistake.DROPPED_SCOPE else rf"\b{re.escape(source)}\b"
            script = f"s/{pattern}/{target}/g"
            # broken syntax: the quotes forgotten, and the shell eats the backslashes
            quoted = script if kind is Mistake.BROKEN_SYNTAX else shlex.quote(script)
            return f"sed -i {quoted} {' '.join(batch)}"

        yield from self.decided(render, changes=True)
        return RenameOutcome(applied_new_name=None, files_attempted=len(batch))

    def replace(self, path: str, old: str, new: str, *, expected: int | None = None) -> Steps:
        """Single-line text by ``sed``; anything spanning lines by rewriting the file."""
        if "\n" in old or "\n" in new:
            text = yield from self.read(path)
            if text is None or old not in text:
                return EditOutcome(applied=False, message=f"{old!r} not found in {path}")
            return (yield from self.write(path, text.replace(old, new)))

        def render(kind: Mistake | None) -> str:
            where = self.wrong(path) if kind is Mistake.WRONG_TARGET else path
            value = typo_in(new, self.errors) if kind is Mistake.WRONG_VALUE else new
            script = f"s/{sed_literal(old)}/{sed_replacement(value)}/"
            script += "" if kind is Mistake.DROPPED_SCOPE else "g"  # a forgotten g: first match per line only
            quoted = script if kind is Mistake.BROKEN_SYNTAX else shlex.quote(script)
            return f"sed -i {quoted} {shlex.quote(where)}"

        obs = yield from self.decided(render, changes=True)
        return EditOutcome(applied=None if obs.ok else False, message=obs.text or "")

    def write(self, path: str, text: str) -> Steps:
        def render(kind: Mistake | None) -> str:
            where = self.wrong(path) if kind is Mistake.WRONG_TARGET else path
            body = typo_in(text, self.errors) if kind is Mistake.WRONG_VALUE else text
            # broken syntax: '>>' for '>', the old content stays above the new
            return heredoc(where, body, append=kind is Mistake.BROKEN_SYNTAX)

        obs = yield from self.decided(render, changes=True)
        return EditOutcome(applied=None if obs.ok else False, message=obs.text or "")

    # -- the ticket -----------------------------------------------------------------------
    def post_comment(self, text: str) -> Steps:
        def render(kind: Mistake | None) -> str:
            if kind is Mistake.BROKEN_SYNTAX:
                return unclosed(f"ticket comment {text}")
            return with_heredoc("ticket comment", typo_in(text, self.errors) if kind is Mistake.WRONG_VALUE
                                else text)

        obs = yield from self.decided(render, changes=True)
        return obs.ok

    def read_ticket(self) -> Steps:
        """The thread as read: a comment is its ``#N author:`` line and the indented lines
        after it; a line skimmed over is missing from the comment it belonged to."""
        obs = yield from self.query("ticket show")
        if not obs.ok:
            return None
        comments: list[str] = []
        for line in self.errors.read_lines(obs.text or ""):
            m = _COMMENT.match(line)
            if m:
                comments.append(m.group(1))
            elif line.startswith("    ") and comments:
                comments[-1] += "\n" + line[4:]
        return comments
