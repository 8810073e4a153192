"""The agent-native tool layer: a registry of typed tools with structured results.

Every call is validated against its pydantic model before it can touch the world, and
every refusal is a ``ToolError`` with a code and (where it applies) the offending field,
so an agent can act on it. Writes that span files are all-or-nothing. The operations
themselves are the world's primitives, the same ones the ``shell`` layer calls.

``applied`` is False for every refused call: validation, preconditions, world errors and
rolled-back postconditions all leave the world exactly as it was.
"""

from __future__ import annotations

import functools
import json
import re
import tokenize
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.runtime.port import Observation, ToolError, ToolSpec
from harness.runtime.tools.base import TOOL_LAYERS, ToolCosts
from harness.runtime.tools.typed_data import DATA_HANDLERS, DATA_TOOL_DEFS
from harness.runtime.tools.typed_models import (
    TOOL_DEFS,
    Args,
    ListFilesArgs,
    ReadFileArgs,
    RenameSymbolArgs,
    ReplaceInFileArgs,
    RunTestsArgs,
    SearchArgs,
    SubmitArgs,
    WriteFileArgs,
)
from harness.runtime.tools.typed_ops import OPS_HANDLERS, OPS_TOOL_DEFS, Refused
from harness.runtime.tools.typed_rename import rename_in_workspace
from harness.runtime.tools.typed_thread import THREAD_HANDLERS, THREAD_TOOL_DEFS
from harness.world import World, WorldError, patterns
from harness.world.pycode import identifier_counts
from harness.world.test_backends import run_tests

_PARSE_ERRORS = (SyntaxError, ValueError, tokenize.TokenError)
# Services and datasets tools live in their own modules; they join the registry here.
ALL_DEFS = (*TOOL_DEFS, *OPS_TOOL_DEFS, *DATA_TOOL_DEFS, *THREAD_TOOL_DEFS)


class _Refused(Exception):
    """Internal: a call refused with a structured error; the world is unchanged."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.error = ToolError(code=code, message=message, field=field)


def _world_error(exc: WorldError, field: str | None = None) -> _Refused:
    # WorldError carries no code, only a message whose prefix names the kind.
    msg = exc.message if exc.hint is None else f"{exc.message} ({exc.hint})"
    if exc.message.startswith("no such file"):
        return _Refused("not_found", msg, field)
    if exc.message.startswith("invalid pattern"):
        return _Refused("invalid_pattern", msg, field)
    if exc.message.startswith("invalid path"):
        return _Refused("invalid_path", msg, field)
    return _Refused("world_error", msg, field)


class ToolBudgets(BaseModel):
    """Call budgets a typed layer enforces per session (a session = one layer instance, which
    the runtime builds per episode), and the size one call's arguments may have. A call over
    either is refused before it runs, with a code the agent can act on; nothing is charged
    to the world."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_calls: int | None = Field(None, ge=0, description="calls of any tool per session")
    per_tool: dict[str, int] = Field(default_factory=dict, description="tool name -> calls per session")
    # No published source: a guard against abuse, the shell layer's max_command_chars
    # default, so both interfaces refuse the same sizes (a W500/S12 gold call is under 6k).
    max_argument_chars: int = Field(100_000, ge=1, description="a call's arguments, as compact JSON")


class TypedToolOptions(ToolCosts, ToolBudgets):
    """Everything ``layers.tools.config`` may say to the typed layer: costs and budgets."""


@functools.cache
def _specs() -> tuple[tuple[ToolSpec, str], ...]:
    """The exported schemas: fixed per process, and generating them is costly (pydantic
    builds JSON Schema per call), so it happens once, not at every agent start."""
    out = []
    for d in ALL_DEFS:
        spec = ToolSpec(name=d.name, description=d.description, parameters=d.args.model_json_schema(),
                        annotations=d.annotations)
        out.append((spec, json.dumps(spec.parameters)))
    return tuple(out)


@TOOL_LAYERS.register("typed", options=TypedToolOptions)
class TypedTools:
    """Typed, validated tools. Everything lives in the world it is handed, except the call
    counts its budgets need."""

    def __init__(self, options: TypedToolOptions | None = None):
        options = options or TypedToolOptions()
        self.budgets: ToolBudgets = options
        self.calls: dict[str, int] = {}
        self.minutes_per_call = options.minutes_per_call
        self.minutes_per_test_run = options.minutes_per_test_run
        self.test_timeout_s = options.test_timeout_s
        self.test_runner = options.test_runner
        self._defs = {d.name: d for d in ALL_DEFS}
        self._handlers = {
            "list_files": self._list_files,
            "read_file": self._read_file,
            "search": self._search,
            "replace_in_file": self._replace_in_file,
            "write_file": self._write_file,
            "rename_symbol": self._rename_symbol,
            "run_tests": self._run_tests,
            "submit": self._submit,
            **OPS_HANDLERS,
            **DATA_HANDLERS,
            **THREAD_HANDLERS,
        }

    # -- ToolLayer --------------------------------------------------------------------
    def specs(self) -> list[ToolSpec]:
        # fresh dicts each time: a schema an agent mutates must not reach the next episode
        return [ToolSpec.model_construct(name=s.name, description=s.description, parameters=json.loads(schema),
                                         annotations=s.annotations) for s, schema in _specs()]

    def call(self, world: World, tool: str, args: dict[str, Any]) -> Observation:
        obs = self._execute(world, tool, args)
        return obs.model_copy(update={"minutes": self.cost_minutes(tool, obs)})

    def _execute(self, world: World, tool: str, args: dict[str, Any]) -> Observation:
        definition = self._defs.get(tool)
        if definition is None:
            known = ", ".join(self._defs)
            return _refused(tool, ToolError(code="unknown_tool", message=f"unknown tool {tool!r}; tools: {known}"))
        too_large = self._oversized(args)
        if too_large is not None:
            return _refused(tool, too_large)
        try:
            parsed = definition.args.model_validate(args)
        except ValidationError as exc:
            return _refused(tool, _validation_error(exc))
        refusal = self.admit(tool, parsed)
        if refusal is not None:
            return _refused(tool, refusal)
        try:
            data = self._handlers[tool](world, parsed)
        except (_Refused, Refused) as refused:
            return _refused(tool, refused.error)
        return Observation(tool=tool, ok=True, data=data)

    def precheck(self, tool: str, args: dict[str, Any]) -> Observation | None:
        """The refusal of arguments over the size limit, before anyone reads them."""
        too_large = self._oversized(args) if tool in self._defs else None
        if too_large is None:
            return None
        obs = _refused(tool, too_large)
        return obs.model_copy(update={"minutes": self.cost_minutes(tool, obs)})

    def cost_minutes(self, tool: str, observation: Observation) -> float:
        # Only a run that actually happened costs test time; a refused call still cost a turn.
        if tool == "run_tests" and observation.ok:
            return self.minutes_per_test_run
        return self.minutes_per_call

    def _oversized(self, args: Any) -> ToolError | None:
        """Refuse arguments over the size limit before anything reads them. Measured as the
        compact JSON an agent would send, so the size is the same whatever the tool."""
        try:
            size = len(json.dumps(args, ensure_ascii=False, default=str, separators=(",", ":")))
        except (ValueError, RecursionError):  # a circular or absurdly deep structure
            return ToolError(code="invalid_arguments", message="arguments: not a JSON object")
        limit = self.budgets.max_argument_chars
        if size <= limit:
            return None
        return ToolError(code="too_large", message=f"arguments refused: {size:,} characters, the limit is {limit:,}")

    def admit(self, tool: str, args: Args) -> ToolError | None:
        """Refuse a validated call that is over a budget, before it touches the world
        (time limits are the test runner's: a test run over its limit is stopped)."""
        total = sum(self.calls.values())
        if self.budgets.max_calls is not None and total >= self.budgets.max_calls:
            return ToolError(code="budget_exhausted", message=f"this session's {self.budgets.max_calls} calls are used")
        limit = self.budgets.per_tool.get(tool)
        if limit is not None and self.calls.get(tool, 0) >= limit:
            return ToolError(code="budget_exhausted", message=f"{tool} may be called {limit} times per session",
                             field=None)
        self.calls[tool] = self.calls.get(tool, 0) + 1
        return None

    # -- read-only tools ----------------------------------------------------------------
    def _list_files(self, world: World, a: ListFilesArgs) -> dict[str, Any]:
        return {"files": world.workspace.list(a.prefix)}

    def _read_file(self, world: World, a: ReadFileArgs) -> dict[str, Any]:
        try:
            return {"path": a.path, "text": world.workspace.read(a.path)}
        except WorldError as exc:
            raise _world_error(exc, "path") from None

    def _search(self, world: World, a: SearchArgs) -> dict[str, Any]:
        ws = world.workspace
        targets = _targets(world, a.paths)
        data: dict[str, Any] = {}
        if a.identifier:
            matches_name = _name_matcher(a.pattern, a.regex)
            kept, skipped = [], []
            for path in (p for p in targets if p.endswith(".py")):
                try:
                    names = identifier_counts(ws.read(path))
                except _PARSE_ERRORS:
                    skipped.append(path)
                    continue
                try:
                    if any(n > 0 and matches_name(name) for name, n in names.items()):
                        kept.append(path)
                except WorldError as exc:  # the pattern ran over its time limit
                    raise _world_error(exc, "pattern") from None
            targets = kept
            # Files that could not be parsed are named, so "no hits" is never a silent guess.
            data["skipped"] = skipped
        try:
            hits = ws.search(a.pattern, regex=a.regex, word=a.word, paths=targets)
        except WorldError as exc:
            raise _world_error(exc, "pattern") from None
        files = targets if a.identifier else sorted({h.path for h in hits})
        return {
            "hits": [{"path": h.path, "line": h.line, "text": h.text} for h in hits],
            "files": files,
            "count": len(hits),
            **data,
        }

    def _run_tests(self, world: World, a: RunTestsArgs) -> dict[str, Any]:
        try:  # a pytest node id (``module::test``) runs one test of the module
            exists = world.workspace.exists(a.path.partition("::")[0])
        except WorldError as exc:
            raise _world_error(exc, "path") from None
        if not exists:
            raise _Refused("not_found", f"no such test module: {a.path}", "path")
        return run_tests(world, a.path, self.test_timeout_s, self.test_runner).to_dict()

    # -- writes ---------------------------------------------------------------------
    def _replace_in_file(self, world: World, a: ReplaceInFileArgs) -> dict[str, Any]:
        ws = world.workspace
        try:
            before = ws.read(a.path)
            n = ws.replace(a.path, a.old, a.new, regex=a.regex)
        except WorldError as exc:
            raise _world_error(exc, "old" if "pattern" in exc.message else "path") from None
        if a.expected_count is not None and n != a.expected_count:
            # Counting by replacing (then restoring) keeps the world's matching rules the
            # only matching rules, instead of re-implementing them here.
            if n:
                ws.write(a.path, before)
            raise _Refused(
                "precondition_failed",
                f"expected {a.expected_count} match(es) of {a.old!r} in {a.path}, found {n}; "
                "nothing changed",
                "expected_count",
            )
        return {"path": a.path, "replacements": n}

    def _write_file(self, world: World, a: WriteFileArgs) -> dict[str, Any]:
        ws = world.workspace
        try:
            exists = ws.exists(a.path)
        except WorldError as exc:
            raise _world_error(exc, "path") from None
        # A flat path map would accept both 'pkg' and 'pkg/x.py'; a file system would not.
        parts = [p for p in a.path.replace("\\", "/").split("/") if p not in ("", ".")]
        parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
        if not exists and ws.list(a.path):
            raise _Refused("precondition_failed", f"{a.path} is a directory", "path")
        if any(ws.exists(p) for p in parents):
            raise _Refused("precondition_failed", f"a parent of {a.path} is a file", "path")
        ws.write(a.path, a.text)
        return {"path": a.path, "chars": len(a.text)}

    def _rename_symbol(self, world: World, a: RenameSymbolArgs) -> dict[str, Any]:
        return rename_in_workspace(world.workspace, a, _targets(world, a.paths))

    # -- the end --------------------------------------------------------------------
    def _submit(self, world: World, a: SubmitArgs) -> dict[str, Any]:
        world.submit(dict(a.answer))
        return {"submitted": True}


# -- helpers ------------------------------------------------------------------------------
def _refused(tool: str, error: ToolError) -> Observation:
    return Observation(tool=tool, ok=False, error=error, applied=False)


def _validation_error(exc: ValidationError) -> ToolError:
    errors = exc.errors(include_url=False)
    first = errors[0] if errors else {"loc": (), "msg": str(exc)}
    loc = first.get("loc") or ()
    field = str(loc[0]) if loc else None
    where = ".".join(str(p) for p in loc) or "arguments"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ToolError(code="invalid_arguments", message=f"{where}: {first['msg']}{more}", field=field)


def _targets(world: World, paths: list[str] | None) -> list[str]:
    """Files under ``paths``; a path that selects nothing is an error, not an empty result,
    so that a mistyped directory never reads as "no matches"."""
    ws = world.workspace
    if paths is None:
        return ws.list()
    selected: set[str] = set()
    for p in paths:
        found = ws.list(p)
        if not found:
            raise _Refused("not_found", f"no files under {p!r}", "paths")
        selected.update(found)
    return sorted(selected)


def _name_matcher(pattern: str, regex: bool):
    if not regex:
        return lambda name: name == pattern
    try:
        compiled = patterns.compile(pattern)  # an agent's pattern: matched under a time limit
    except re.error as exc:
        raise _Refused("invalid_pattern", f"invalid pattern {pattern!r}: {exc}", "pattern") from None
    return lambda name: compiled.fullmatch(name) is not None
