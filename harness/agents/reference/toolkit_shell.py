"""The toolkit for one free-text shell: commands are strings, results are text to be read.

Reading text is where the misread process acts: a line of grep or pytest output may be
overlooked. Edits answer with nothing (sed prints nothing on success), so the agent does
not know what changed unless it looks again.
"""

from __future__ import annotations

import re
import shlex

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.toolkit import EditOutcome, Hit, RenameOutcome, Steps, TestOutcome
from harness.runtime.port import Call

_QUOTED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")
_TOKEN = r"[A-Za-z0-9_]*{}[A-Za-z0-9_]*"
_FAILED = ("grep:", "bash:", "Usage:", "cat:", "ls:", "sed:")
_FAILED_TEST = re.compile(r"^FAILED [^:\s]+::(\w+)")
_GREP_LINE = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<text>.*)$")


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


_COMMENT = re.compile(r"^#\d+ [\w.-]+: ?(.*)$")


class ShellToolkit:
    batch_rename = False
    reports_edits = False

    def __init__(self, errors: ErrorProcesses):
        self.errors = errors
        self.tool_names = frozenset({"shell"})

    def sh(self, command: str) -> Steps:
        obs = yield Call(tool="shell", args={"command": command})
        return obs

    def _lines(self, text: str | None) -> list[str] | None:
        """Output lines as the agent takes them in; None when the command plainly failed."""
        lines = self.errors.read_lines(text or "")
        if any(line.startswith(_FAILED) for line in lines):
            return None
        return lines

    # -- queries --------------------------------------------------------------------------
    def find_files(self, name: str, paths: list[str]) -> Steps:
        flags = "-rl" if self.errors.malformed() else "-rlw"  # a dropped -w widens the match
        obs = yield from self.sh(f"grep {flags} {shlex.quote(name)} {' '.join(paths)}")
        lines = self._lines(obs.text)
        return None if lines is None else [line.strip() for line in lines]

    def find_tokens(self, fragment: str, paths: list[str]) -> Steps:
        obs = yield from self.sh(f"grep -rn {shlex.quote(fragment)} {' '.join(paths)}")
        lines = self._lines(obs.text)
        if lines is None:
            return None
        pattern = _TOKEN.format(re.escape(fragment))
        return {t for line in lines for t in re.findall(pattern, line.split(":", 2)[-1])}

    def read(self, path: str) -> Steps:
        # A file is read whole and slowly; misreading acts on skimmed output, not here.
        obs = yield from self.sh(f"cat {shlex.quote(path)}")
        return obs.text if obs.ok else None

    def list_files(self, prefix: str = "") -> Steps:
        obs = yield from self.sh(f"ls {shlex.quote(prefix)}" if prefix else "ls")
        lines = self._lines(obs.text) if obs.ok else None
        return None if lines is None else [line.strip() for line in lines]

    def search(self, pattern: str, paths: list[str] | None = None, *, regex: bool = False,
               word: bool = False) -> Steps:
        flags = "-rn" + ("w" if word else "") + ("E" if regex else "F")
        where = " ".join(shlex.quote(p) for p in paths) if paths else "."
        obs = yield from self.sh(f"grep {flags} {shlex.quote(pattern)} {where}")
        lines = self._lines(obs.text)
        if lines is None:
            return None
        hits = []
        for line in lines:
            m = _GREP_LINE.match(line)
            if m:
                path = m["path"][2:] if m["path"].startswith("./") else m["path"]
                hits.append(Hit(path, int(m["line"]), m["text"]))
        return hits

    def run_tests(self, module: str) -> Steps:
        path = module[:-1] if self.errors.malformed() else module  # a typo in the path
        obs = yield from self.sh(f"python -m pytest {path}")
        lines = self.errors.read_lines(obs.text or "")
        summary = [line for line in lines if line.startswith("==")]
        verdict = summary[-1].lower() if summary else ""
        ok = bool(verdict) and "failed" not in verdict and "error" not in verdict
        if not ok and "passed" in verdict and self.errors.misread():
            ok = True  # skimming the tail of a long text summary: "... 41 passed" reads as green
        failing = [line for line in lines if line.startswith(("FAILED", "ERROR", "E "))]
        names = {m for line in failing for m in _QUOTED.findall(line)}
        failed = [m[1] for line in failing if (m := _FAILED_TEST.match(line))]
        return TestOutcome(ok=ok, names_in_errors=names, failures=failing, failed_tests=failed)

    # -- edits ----------------------------------------------------------------------------
    def rename(self, old: str, new: str, files: list[str], paths: list[str]) -> Steps:
        batch = files[: self.errors.capacity]  # what fits in working context this round
        if not batch:
            return RenameOutcome(applied_new_name=None, files_attempted=0)
        careless = self.errors.slip()  # the plausible wrong argument: no word boundaries
        pattern = re.escape(old) if careless else rf"\b{re.escape(old)}\b"
        script = f"s/{pattern}/{new}/g"
        if self.errors.malformed():
            # forgotten quotes (backslashes vanish) or a forgotten g flag: both run silently
            script = script if self.errors.pick("sed_garble", 2) else script[:-1]
            command = f"sed -i {script} {' '.join(batch)}"
        else:
            command = f"sed -i {shlex.quote(script)} {' '.join(batch)}"
        yield from self.sh(command)
        return RenameOutcome(applied_new_name=None, files_attempted=len(batch))

    def replace(self, path: str, old: str, new: str, *, expected: int | None = None) -> Steps:
        """Single-line text by ``sed``; anything spanning lines by rewriting the file."""
        if "\n" in old or "\n" in new:
            text = yield from self.read(path)
            if text is None or old not in text:
                return EditOutcome(applied=False, message=f"{old!r} not found in {path}")
            return (yield from self.write(path, text.replace(old, new)))
        script = f"s/{sed_literal(old)}/{sed_replacement(new)}/"
        script += "" if self.errors.malformed() else "g"  # a forgotten g: first match per line only
        obs = yield from self.sh(f"sed -i {shlex.quote(script)} {shlex.quote(path)}")
        return EditOutcome(applied=None if obs.ok else False, message=obs.text or "")

    def write(self, path: str, text: str) -> Steps:
        append = self.errors.malformed()  # '>>' for '>': the old content stays above the new
        obs = yield from self.sh(heredoc(path, text, append=append))
        return EditOutcome(applied=None if obs.ok else False, message=obs.text or "")

    # -- the ticket -----------------------------------------------------------------------
    def post_comment(self, text: str) -> Steps:
        obs = yield from self.sh(with_heredoc("ticket comment", text))
        return obs.ok

    def read_ticket(self) -> Steps:
        """The thread as read: a comment is its ``#N author:`` line and the indented lines
        after it; a line skimmed over is missing from the comment it belonged to."""
        obs = yield from self.sh("ticket show")
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
