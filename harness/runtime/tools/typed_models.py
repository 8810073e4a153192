"""Argument models of the ``typed`` tool layer.

Each model is the single source of truth for one tool: the JSON Schema the agent is shown
is exported from it, and a call is validated against it before anything touches the
world. ``strict`` is on because a typed layer's guarantee is that a wrong type is a
rejected call, never a silently coerced one (``"3"`` is not an ``expected_count``).

A tool's definition also carries its access rule (``ToolDef.access``): what a call would
do, to what (``harness.runtime.access``). The rule reads the arguments as sent, before
validation, since the security layer judges a request before it is run.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.runtime.access import Access, AccessRule, file_resource, no_access
from harness.runtime.port import ToolAnnotations


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ListFilesArgs(Args):
    prefix: str = Field("", description="Directory or path prefix; empty lists every file.")


class ReadFileArgs(Args):
    path: str = Field(min_length=1, description="Workspace path of the file.")


class SearchArgs(Args):
    pattern: str = Field(min_length=1, description="Text to find (a regex when regex=true).")
    regex: bool = Field(False, description="Treat pattern as a Python regular expression.")
    word: bool = Field(False, description="Match whole words only.")
    paths: list[str] | None = Field(None, description="Restrict to these files/directories.")
    identifier: bool = Field(
        False,
        description="Only files (.py) where pattern occurs as a Python identifier, "
        "not merely in strings or comments.",
    )


class ReplaceInFileArgs(Args):
    path: str = Field(min_length=1)
    old: str = Field(min_length=1, description="Text (or regex) to replace, everywhere in the file.")
    new: str
    regex: bool = False
    expected_count: int | None = Field(
        None, ge=0, description="If given, change nothing unless exactly this many matches."
    )


class WriteFileArgs(Args):
    path: str = Field(min_length=1)
    text: str = Field(description="The whole new content of the file.")


class RenameSymbolArgs(Args):
    old_name: str = Field(min_length=1, description="Identifier to rename.")
    new_name: str = Field(min_length=1, description="New identifier; must not already exist.")
    paths: list[str] | None = Field(None, description="Restrict to these files/directories.")
    skip_unparsable: bool = Field(
        False, description="Leave .py files that do not parse untouched (named in skipped) instead of refusing."
    )


class RunTestsArgs(Args):
    path: str = Field(min_length=1, description="Workspace path of a test module.")


class SubmitArgs(Args):
    answer: dict[str, Any] = Field(default_factory=dict)


READ_ONLY = ToolAnnotations(read_only=True, idempotent=True)


class ToolDef(BaseModel):
    """A tool of the registry: what the agent is shown, the model that guards it, and what a
    call of it does, to what (required: a tool without a rule would go unauthorised)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    description: str
    args: type[Args]
    annotations: ToolAnnotations
    access: AccessRule


# -- access rules of the workspace tools --------------------------------------------------
def _on_file(action: str, key: str) -> AccessRule:
    return lambda a: [Access(action, file_resource(str(a.get(key, ""))))]


def _on_paths(action: str) -> AccessRule:
    """Every path of ``paths``; none given (or not a list) is the whole workspace."""
    def rule(a: dict[str, Any]) -> list[Access]:
        paths = a.get("paths") or [""]
        return [Access(action, file_resource(str(p))) for p in (paths if isinstance(paths, list) else [""])]
    return rule


TOOL_DEFS: tuple[ToolDef, ...] = (
    ToolDef(
        name="list_files",
        description="List workspace files (sorted) under a prefix. Returns {files}.",
        args=ListFilesArgs,
        annotations=READ_ONLY,
        access=_on_file("read", "prefix"),
    ),
    ToolDef(
        name="read_file",
        description="Read one file. Returns {path, text}.",
        args=ReadFileArgs,
        annotations=READ_ONLY,
        access=_on_file("read", "path"),
    ),
    ToolDef(
        name="search",
        description="Find matching lines. Returns {hits:[{path,line,text}], files, count}.",
        args=SearchArgs,
        annotations=READ_ONLY,
        access=_on_paths("read"),
    ),
    ToolDef(
        name="replace_in_file",
        description="Replace every match in one file; with expected_count, all-or-nothing. "
        "Returns {path, replacements}.",
        args=ReplaceInFileArgs,
        annotations=ToolAnnotations(),
        access=_on_file("write", "path"),
    ),
    ToolDef(
        name="write_file",
        description="Create or overwrite a file with the given text. Returns {path, chars}.",
        args=WriteFileArgs,
        annotations=ToolAnnotations(destructive=True, idempotent=True),
        access=_on_file("write", "path"),
    ),
    ToolDef(
        name="rename_symbol",
        description="Rename a Python identifier in every .py file (AST-aware: strings, comments "
        "and longer names are untouched; __all__/__slots__ entries and doctest code are renamed). "
        "All-or-nothing; refuses collisions and files that do not parse (skip_unparsable skips them). "
        "Returns {old_name, new_name, files_changed, occurrences}, plus when there are any: "
        "unrenamed_mentions:[{path, line, kind}] (the name left in docstrings, doctest output, strings, "
        "comments), foreign_references:[{path, line, module}] (renamed uses that belong to another "
        "library), skipped:[{path, reason}].",
        args=RenameSymbolArgs,
        annotations=ToolAnnotations(idempotent=True),
        access=_on_paths("write"),
    ),
    ToolDef(
        name="run_tests",
        description="Run one test module. Returns {module, collected, passed, failures:[{test, "
        "error_type, message, path, line}], collection_error, timed_out, over_budget, ok}.",
        args=RunTestsArgs,
        annotations=READ_ONLY,
        access=_on_file("execute", "path"),
    ),
    ToolDef(
        name="submit",
        description="Submit the final answer and end the task. Returns {submitted}.",
        args=SubmitArgs,
        annotations=ToolAnnotations(idempotent=True),
        access=no_access,
    ),
)
