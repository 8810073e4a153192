"""Toolkits: how the reference agent does each basic job with the tools it was given.

An agent in life uses whatever tools it is handed; so does this one. A toolkit is chosen
by looking at the tool list (never at a condition), and turns intentions (find the files
that use a name, rename a name in some files, run the tests) into calls, applying the
agent's error processes to what it sends and to how it reads what comes back.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.agents.reference.errors import ErrorProcesses
from harness.runtime.port import Action, Call, Observation, ToolSpec

Steps = Generator[Action, Observation | None, Any]
_QUOTED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")
_TOKEN = r"[A-Za-z0-9_]*{}[A-Za-z0-9_]*"


@dataclass
class TestOutcome:
    ok: bool
    names_in_errors: set[str] = field(default_factory=set)  # identifiers quoted in failures


@dataclass
class RenameOutcome:
    applied_new_name: str | None  # what the infrastructure says it renamed to, when it says
    files_attempted: int
    refused: bool = False  # the infrastructure said no, with a reason, and changed nothing


class Toolkit(Protocol):
    batch_rename: bool  # one call renames everywhere, safely

    def find_files(self, name: str, paths: list[str]) -> Steps: ...  # list, or None if the lookup failed
    def find_tokens(self, fragment: str, paths: list[str]) -> Steps: ...  # set, or None if the lookup failed
    def rename(self, old: str, new: str, files: list[str], paths: list[str]) -> Steps: ...
    def run_tests(self, module: str) -> Steps: ...


def _typo(name: str, errors: ErrorProcesses) -> str:
    """A plausible misspelling: swapped neighbours, a dropped letter, or a case flip."""
    kind = errors.pick("typo", 3)
    if len(name) > 3 and kind == 0:
        i = 1 + errors.pick("typo_pos", len(name) - 2)
        return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]
    if len(name) > 3 and kind == 1:
        i = 1 + errors.pick("typo_pos", len(name) - 1)
        return name[:i] + name[i + 1 :]
    return name[0].swapcase() + name[1:]


class TypedToolkit:
    """Structured tools: arguments are validated, results are data, errors are codes."""

    batch_rename = True

    def __init__(self, errors: ErrorProcesses):
        self.errors = errors

    def _call(self, tool: str, args: dict[str, Any]) -> Steps:
        obs = None
        for _ in range(1 + self.errors.retries):
            sent = self._garble(args) if self.errors.malformed() else args
            obs = yield Call(tool=tool, args=sent)
            if obs.applied or obs.error is None or obs.error.code != "invalid_arguments":
                return obs
        return obs

    def _garble(self, args: dict[str, Any]) -> dict[str, Any]:
        keys = sorted(args)
        key = keys[self.errors.pick("garble_key", len(keys))]
        broken = dict(args)
        broken[key.rstrip("_") + "_"] = broken.pop(key)  # a misremembered field name
        return broken

    def find_files(self, name: str, paths: list[str]) -> Steps:
        """Files using ``name``; None when the search itself failed (unknown, not empty)."""
        obs = yield from self._call("search", {"pattern": name, "word": True, "identifier": True, "paths": paths})
        return list(obs.data["files"]) if obs.ok and obs.data is not None else None

    def find_tokens(self, fragment: str, paths: list[str]) -> Steps:
        obs = yield from self._call("search", {"pattern": fragment, "paths": paths})
        if not obs.ok or obs.data is None:
            return None
        return {t for hit in obs.data["hits"] for t in re.findall(_TOKEN.format(re.escape(fragment)), hit["text"])}

    def rename(self, old: str, new: str, files: list[str], paths: list[str]) -> Steps:
        target = _typo(new, self.errors) if self.errors.slip() else new
        obs = yield from self._call("rename_symbol", {"old_name": old, "new_name": target, "paths": paths})
        echoed = obs.data.get("new_name") if obs.ok and obs.data else None
        refused = obs.error is not None and not obs.applied
        return RenameOutcome(applied_new_name=echoed, files_attempted=len(files), refused=refused)

    def run_tests(self, module: str) -> Steps:
        obs = yield from self._call("run_tests", {"path": module})
        if obs.data is None:
            return TestOutcome(ok=False)
        report = obs.data
        messages = [f["message"] for f in report.get("failures", [])]
        if report.get("collection_error"):
            messages.append(report["collection_error"]["message"])
        names = {m for msg in messages for m in _QUOTED.findall(msg)}
        return TestOutcome(ok=bool(report.get("ok")), names_in_errors=names)


class ShellToolkit:
    """One free-text shell: commands are strings, results are text to be read."""

    batch_rename = False

    def __init__(self, errors: ErrorProcesses):
        self.errors = errors

    def _sh(self, command: str) -> Steps:
        obs = yield Call(tool="shell", args={"command": command})
        return obs

    def find_files(self, name: str, paths: list[str]) -> Steps:
        flags = "-rl" if self.errors.malformed() else "-rlw"  # a dropped -w widens the match
        obs = yield from self._sh(f"grep {flags} {shlex.quote(name)} {' '.join(paths)}")
        lines = self.errors.read_lines(obs.text or "")
        if any(line.startswith(("grep:", "bash:", "Usage:")) for line in lines):
            return None  # the command failed: that says nothing about the files
        return [line.strip() for line in lines]

    def find_tokens(self, fragment: str, paths: list[str]) -> Steps:
        obs = yield from self._sh(f"grep -rn {shlex.quote(fragment)} {' '.join(paths)}")
        lines = self.errors.read_lines(obs.text or "")
        if any(line.startswith(("grep:", "bash:", "Usage:")) for line in lines):
            return None
        pattern = _TOKEN.format(re.escape(fragment))
        return {t for line in lines for t in re.findall(pattern, line.split(":", 2)[-1])}

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
        yield from self._sh(command)
        return RenameOutcome(applied_new_name=None, files_attempted=len(batch))

    def run_tests(self, module: str) -> Steps:
        path = module[:-1] if self.errors.malformed() else module  # a typo in the path
        obs = yield from self._sh(f"python -m pytest {path}")
        lines = self.errors.read_lines(obs.text or "")
        summary = [line for line in lines if line.startswith("==")]
        verdict = summary[-1].lower() if summary else ""
        ok = bool(verdict) and "failed" not in verdict and "error" not in verdict
        if not ok and "passed" in verdict and self.errors.misread():
            ok = True  # skimming the tail of a long text summary: "... 41 passed" reads as green
        names = {m for line in lines if line.startswith(("FAILED", "ERROR")) for m in _QUOTED.findall(line)}
        return TestOutcome(ok=ok, names_in_errors=names)


def make_toolkit(tools: list[ToolSpec], errors: ErrorProcesses) -> Toolkit | None:
    names = {t.name for t in tools}
    if {"search", "rename_symbol", "run_tests"} <= names:
        return TypedToolkit(errors)
    if "shell" in names:
        return ShellToolkit(errors)
    return None
