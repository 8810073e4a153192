"""The toolkit for structured tools: arguments are validated, results are data, errors are codes."""

from __future__ import annotations

import re
from typing import Any

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.toolkit import (
    EditOutcome,
    Hit,
    RenameOutcome,
    Steps,
    TestOutcome,
    typo,
)
from harness.runtime.port import Call, Observation

_QUOTED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")
_TOKEN = r"[A-Za-z0-9_]*{}[A-Za-z0-9_]*"


class TypedToolkit:
    reports_edits = True

    def __init__(self, errors: ErrorProcesses, tool_names: set[str] | frozenset[str] = frozenset()):
        self.errors = errors
        self.tool_names = frozenset(tool_names)
        self.batch_rename = "rename_symbol" in self.tool_names

    def call(self, tool: str, args: dict[str, Any]) -> Steps:
        """One call; a malformed one is rejected by validation and sent again, up to the retries."""
        obs = None
        for _ in range(1 + self.errors.retries):
            sent = self._garble(args) if args and self.errors.malformed() else args
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

    # -- queries --------------------------------------------------------------------------
    def find_files(self, name: str, paths: list[str]) -> Steps:
        obs = yield from self.call("search", {"pattern": name, "word": True, "identifier": True, "paths": paths})
        return list(obs.data["files"]) if obs.ok and obs.data is not None else None

    def find_tokens(self, fragment: str, paths: list[str]) -> Steps:
        obs = yield from self.call("search", {"pattern": fragment, "paths": paths})
        if not obs.ok or obs.data is None:
            return None
        return {t for hit in obs.data["hits"] for t in re.findall(_TOKEN.format(re.escape(fragment)), hit["text"])}

    def read(self, path: str) -> Steps:
        obs = yield from self.call("read_file", {"path": path})
        return obs.data["text"] if obs.ok and obs.data is not None else None

    def list_files(self, prefix: str = "") -> Steps:
        obs = yield from self.call("list_files", {"prefix": prefix})
        return list(obs.data["files"]) if obs.ok and obs.data is not None else None

    def search(self, pattern: str, paths: list[str] | None = None, *, regex: bool = False,
               word: bool = False) -> Steps:
        args: dict[str, Any] = {"pattern": pattern, "regex": regex, "word": word}
        if paths is not None:
            args["paths"] = paths
        obs = yield from self.call("search", args)
        if not obs.ok or obs.data is None:
            return None
        return [Hit(h["path"], h["line"], h["text"]) for h in obs.data["hits"]]

    def run_tests(self, module: str) -> Steps:
        obs = yield from self.call("run_tests", {"path": module})
        if obs.data is None:
            return TestOutcome(ok=False)
        report = obs.data
        messages = [f["message"] for f in report.get("failures", [])]
        if report.get("collection_error"):
            messages.append(report["collection_error"]["message"])
        names = {m for msg in messages for m in _QUOTED.findall(msg)}
        failed = [f["test"] for f in report.get("failures", [])]
        return TestOutcome(ok=bool(report.get("ok")), names_in_errors=names, failures=messages,
                           failed_tests=failed)

    # -- edits ----------------------------------------------------------------------------
    def rename(self, old: str, new: str, files: list[str], paths: list[str]) -> Steps:
        target = typo(new, self.errors) if self.errors.slip() else new
        obs = yield from self.call("rename_symbol", {"old_name": old, "new_name": target, "paths": paths})
        echoed = obs.data.get("new_name") if obs.ok and obs.data else None
        refused = obs.error is not None and not obs.applied
        return RenameOutcome(applied_new_name=echoed, files_attempted=len(files), refused=refused)

    def replace(self, path: str, old: str, new: str, *, expected: int | None = None) -> Steps:
        args: dict[str, Any] = {"path": path, "old": old, "new": new}
        if expected is not None:
            args["expected_count"] = expected
        obs = yield from self.call("replace_in_file", args)
        return _edit(obs, count=(obs.data or {}).get("replacements"))

    def write(self, path: str, text: str) -> Steps:
        obs = yield from self.call("write_file", {"path": path, "text": text})
        return _edit(obs)

    # -- the ticket -----------------------------------------------------------------------
    def post_comment(self, text: str) -> Steps:
        obs = yield from self.call("ticket_comment", {"text": text})
        return obs.ok

    def read_ticket(self) -> Steps:
        obs = yield from self.call("ticket_read", {})
        if not obs.ok or obs.data is None:
            return None
        return [str(c["text"]) for c in obs.data["comments"]]


def _edit(obs: Observation, count: int | None = None) -> EditOutcome:
    if obs.ok:
        return EditOutcome(applied=True, count=count)
    message = obs.error.message if obs.error is not None else (obs.text or "")
    return EditOutcome(applied=False if not obs.applied else None, refused=not obs.applied, message=message)
