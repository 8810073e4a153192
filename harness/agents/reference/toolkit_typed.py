"""The toolkit for structured tools: arguments are validated, results are data, errors are codes.

Every call is a decision that may contain a mistake (``ErrorProcesses.mistake``), drawn as
under any other interface; what follows is this interface's: broken syntax is a field the
schema rejects (the call is sent again, a new decision); a dropped scope leaves out a
narrowing argument and the call runs wider; a wrong target or a wrong value is a valid call
that runs, which only a postcondition in the result, a test or the history can expose.
"""

from __future__ import annotations

import re
from typing import Any

from harness.agents.reference.errors import ErrorProcesses, Mistake
from harness.agents.reference.toolkit import (
    QUERY,
    QUOTED_NAME,
    TOKEN_WITH,
    Decision,
    EditOutcome,
    Hit,
    RenameOutcome,
    Steps,
    TestOutcome,
    neighbour,
    typo_in,
)
from harness.runtime.port import Call, Observation

EDIT = Decision(target="path", value="new", scope=("expected_count",))
WRITE = Decision(target="path", value="text")
RENAME = Decision(target="old_name", value="new_name", scope=("paths",))
COMMENT = Decision(value="text")


class TypedToolkit:
    reports_edits = True

    def __init__(self, errors: ErrorProcesses, tool_names: set[str] | frozenset[str] = frozenset()):
        self.errors = errors
        self.tool_names = frozenset(tool_names)
        self.batch_rename = "rename_symbol" in self.tool_names
        self.known: set[str] = set()  # workspace paths seen in results
        # names seen, by kind: where a wrong target lands (ops and data add their own)
        self.alternatives: dict[str, set[str]] = {"path": self.known}

    def call(self, tool: str, args: dict[str, Any], decision: Decision = QUERY) -> Steps:
        """One call, as decided; a call the schema rejects is sent again (a new decision),
        up to the retries."""
        obs = None
        for _ in range(1 + self.errors.retries):
            sent = self._with_mistake(args, decision, self.errors.mistake(changes=decision.changes))
            obs = yield Call(tool=tool, args=sent)
            if obs.applied or obs.error is None or obs.error.code != "invalid_arguments":
                return obs
        return obs

    def _with_mistake(self, args: dict[str, Any], d: Decision, kind: Mistake | None) -> dict[str, Any]:
        sent = dict(args)
        if kind is Mistake.BROKEN_SYNTAX:
            return self._garble(sent)
        if kind is Mistake.DROPPED_SCOPE:
            for key in d.scope:  # the narrowing arguments left out, as a flag is forgotten
                sent.pop(key, None)
        elif kind is Mistake.WRONG_TARGET and d.target in sent:
            meant = str(sent[d.target])
            # another name it has seen, else the meant one mistyped
            sent[d.target] = neighbour(meant, self.alternatives.get(d.pool, ())) or typo_in(meant, self.errors)
        elif kind is Mistake.WRONG_VALUE and isinstance(sent.get(d.value), str):
            sent[d.value] = typo_in(sent[d.value], self.errors)
        return sent

    def _garble(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args:
            return {"args_": ""}  # a field the tool does not have
        keys = sorted(args)
        key = keys[self.errors.pick("garble_key", len(keys))]
        broken = dict(args)
        broken[key.rstrip("_") + "_"] = broken.pop(key)  # a misremembered field name
        return broken

    def _saw(self, paths) -> None:
        self.known.update(str(p) for p in paths)

    # -- queries --------------------------------------------------------------------------
    def find_files(self, name: str, paths: list[str]) -> Steps:
        obs = yield from self.call("search", {"pattern": name, "word": True, "identifier": True, "paths": paths})
        if not obs.ok or obs.data is None:
            return None
        self._saw(obs.data["files"])
        return list(obs.data["files"])

    def find_tokens(self, fragment: str, paths: list[str]) -> Steps:
        obs = yield from self.call("search", {"pattern": fragment, "paths": paths})
        if not obs.ok or obs.data is None:
            return None
        return {t for hit in obs.data["hits"] for t in re.findall(TOKEN_WITH.format(re.escape(fragment)), hit["text"])}

    def read(self, path: str) -> Steps:
        obs = yield from self.call("read_file", {"path": path})
        return obs.data["text"] if obs.ok and obs.data is not None else None

    def list_files(self, prefix: str = "") -> Steps:
        obs = yield from self.call("list_files", {"prefix": prefix})
        if not obs.ok or obs.data is None:
            return None
        self._saw(obs.data["files"])
        return list(obs.data["files"])

    def search(self, pattern: str, paths: list[str] | None = None, *, regex: bool = False,
               word: bool = False) -> Steps:
        args: dict[str, Any] = {"pattern": pattern, "regex": regex, "word": word}
        if paths is not None:
            args["paths"] = paths
        obs = yield from self.call("search", args)
        if not obs.ok or obs.data is None:
            return None
        self._saw(obs.data["files"])
        return [Hit(h["path"], h["line"], h["text"]) for h in obs.data["hits"]]

    def run_tests(self, module: str) -> Steps:
        obs = yield from self.call("run_tests", {"path": module})
        if obs.data is None:
            return TestOutcome(ok=False)
        report = obs.data
        messages = [f["message"] for f in report.get("failures", [])]
        if report.get("collection_error"):
            messages.append(report["collection_error"]["message"])
        names = {m for msg in messages for m in QUOTED_NAME.findall(msg)}
        failed = [f["test"] for f in report.get("failures", [])]
        sites = [(f["path"], int(f["line"])) for f in report.get("failures", []) if f.get("path") and f.get("line")]
        return TestOutcome(ok=bool(report.get("ok")), names_in_errors=names, failures=messages,
                           failed_tests=failed, crash_sites=sites)

    # -- edits ----------------------------------------------------------------------------
    def rename(self, old: str, new: str, files: list[str], paths: list[str]) -> Steps:
        obs = yield from self.call("rename_symbol", {"old_name": old, "new_name": new, "paths": paths}, RENAME)
        echoed = obs.data.get("new_name") if obs.ok and obs.data else None
        refused = obs.error is not None and not obs.applied
        return RenameOutcome(applied_new_name=echoed, files_attempted=len(files), refused=refused)

    def replace(self, path: str, old: str, new: str, *, expected: int | None = None) -> Steps:
        args: dict[str, Any] = {"path": path, "old": old, "new": new}
        if expected is not None:
            args["expected_count"] = expected
        obs = yield from self.call("replace_in_file", args, EDIT)
        return _edit(obs, path, count=(obs.data or {}).get("replacements"))

    def write(self, path: str, text: str) -> Steps:
        obs = yield from self.call("write_file", {"path": path, "text": text}, WRITE)
        return _edit(obs, path)

    # -- the ticket -----------------------------------------------------------------------
    def post_comment(self, text: str) -> Steps:
        obs = yield from self.call("ticket_comment", {"text": text}, COMMENT)
        return obs.ok

    def read_ticket(self) -> Steps:
        obs = yield from self.call("ticket_read", {})
        if not obs.ok or obs.data is None:
            return None
        return [str(c["text"]) for c in obs.data["comments"]]


def _edit(obs: Observation, meant: str, count: int | None = None) -> EditOutcome:
    """What an edit did, as its result says. The result names the file it changed: an edit
    that landed elsewhere is not the edit meant (its damage stays where it landed)."""
    if obs.ok:
        landed = (obs.data or {}).get("path", meant)
        if landed != meant:
            return EditOutcome(applied=False, message=f"the edit went to {landed}, not {meant}")
        return EditOutcome(applied=True, count=count)
    message = obs.error.message if obs.error is not None else (obs.text or "")
    return EditOutcome(applied=False if not obs.applied else None, refused=not obs.applied, message=message)
