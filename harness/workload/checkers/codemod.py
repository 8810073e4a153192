"""Checkers for the structural code_modification families (add_parameter, fix_bug,
dependency_upgrade, follow_convention, extract_helper).

All judge Python by its syntax tree, never by grep, so formatting and comments never
decide a verdict. A file that no longer parses fails the checker that needed it.
"""

from __future__ import annotations

import ast
import hashlib
from typing import Any

from harness.core.pyast import calls_to, parse
from harness.workload.checks import CHECKERS
from harness.world import Workspace, World
from harness.world.verified_tests import run_verified


def _tree(world: World, path: str) -> ast.Module:
    """Raises ``FileNotFoundError``/``SyntaxError``; run_checkers turns that into a failure."""
    if not world.workspace.exists(path):
        raise FileNotFoundError(f"{path} does not exist")
    return parse(world.workspace.read(path))


def _py(world: World, paths: list[str]) -> list[str]:
    return sorted({p for d in paths for p in world.workspace.list(d) if p.endswith(".py")})


def node_digest(node: ast.AST) -> str:
    return hashlib.sha256(ast.dump(node).encode()).hexdigest()[:16]


def top_level(tree: ast.Module) -> dict[str, ast.AST]:
    """Named top-level definitions: functions, classes and single-name assignments."""
    out: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    out[t.id] = node
    return out


def _short(items: list[str], limit: int = 4) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


@CHECKERS.register("signature_has_param")
def signature_has_param(world: World, spec: Any, path: str, function: str, param: str,
                        required: bool) -> tuple[bool, str]:
    fn = top_level(_tree(world, path)).get(function)
    if not isinstance(fn, ast.FunctionDef):
        return False, f"{path} no longer defines `{function}`"
    args = fn.args
    positional = args.posonlyargs + args.args
    defaults = dict(zip([a.arg for a in positional][len(positional) - len(args.defaults):], args.defaults, strict=True))
    defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None})
    names = [a.arg for a in positional + args.kwonlyargs]
    if param not in names:
        return False, f"`{function}` has no parameter `{param}`"
    if required and param in defaults:
        return False, f"`{param}` of `{function}` has a default; it must be required"
    return True, f"`{function}` takes `{param}`" + (" (required)" if required else "")


@CHECKERS.register("call_sites_pass")
def call_sites_pass(world: World, spec: Any, function: str, module_names: list[str], param: str,
                    position: int, value: str | None, min_calls: int, paths: list[str],
                    other_than: str | None = None) -> tuple[bool, str]:
    """Every call of ``function`` passes ``param`` explicitly (by keyword or at its
    position), equal to ``value`` unless that is None, and at least ``min_calls`` calls
    remain (deleting callers is no fix). With ``other_than``, some call must pass another
    value (a test of the new parameter, not only of today's behaviour)."""
    want = None if value is None else ast.dump(ast.parse(value, mode="eval").body)
    usual = None if other_than is None else ast.dump(ast.parse(other_than, mode="eval").body)
    total, missing, others = 0, [], 0
    for path in _py(world, paths):
        for call in calls_to(_tree(world, path), function, tuple(module_names)):
            total += 1
            given = [k.value for k in call.keywords if k.arg == param]
            if not given and len(call.args) > position and not any(isinstance(a, ast.Starred) for a in call.args):
                given = [call.args[position]]
            if not given or (want is not None and ast.dump(given[0]) != want):
                missing.append(f"{path}:{call.lineno}")
            elif usual is not None and ast.dump(given[0]) != usual:
                others += 1
    if missing:
        return False, f"calls of `{function}` not passing {param}={value}: {_short(missing)}"
    if total < min_calls:
        return False, f"only {total} of {min_calls} calls of `{function}` remain"
    if usual is not None and not others:
        return False, f"no call of `{function}` passes {param} other than {other_than}"
    return True, f"all {total} calls of `{function}` pass {param}={value}"


@CHECKERS.register("files_unchanged")
def files_unchanged(world: World, spec: Any, digests: dict[str, str], prefix: str | None = None) -> tuple[bool, str]:
    """Byte-identical files (sha256); with ``prefix``, nothing added under it either."""
    ws = world.workspace
    changed = [p for p, d in sorted(digests.items())
               if not ws.exists(p) or hashlib.sha256(ws.read(p).encode()).hexdigest() != d]
    if prefix is not None:
        changed += [f"{p} (added)" for p in ws.list(prefix) if p not in digests]
    if changed:
        return False, f"files that must not change were changed: {_short(changed)}"
    return True, f"{len(digests)} protected files untouched"


@CHECKERS.register("definitions_unchanged")
def definitions_unchanged(world: World, spec: Any, digests: dict[str, dict[str, str]]) -> tuple[bool, str]:
    """Each named top-level definition keeps its syntax tree (formatting may differ)."""
    changed = []
    for path, defs in sorted(digests.items()):
        have = top_level(_tree(world, path))
        changed += [f"{path}:{n}" for n, d in sorted(defs.items()) if n not in have or node_digest(have[n]) != d]
    if changed:
        return False, f"definitions outside the task were changed: {_short(changed)}"
    return True, f"{sum(len(d) for d in digests.values())} other definitions unchanged"


@CHECKERS.register("hidden_tests_pass")
def hidden_tests_pass(world: World, spec: Any, path: str, source: str, timeout_s: float = 10.0) -> tuple[bool, str]:
    """Acceptance tests the agent never sees, run against a copy of the final workspace."""
    ws = Workspace(world.workspace.snapshot())
    ws.write(path, source)
    report = run_verified(ws, path, timeout_s=timeout_s)
    if report.ok:
        return True, f"{len(report.passed)} acceptance checks passed"
    if report.collection_error is not None:
        e = report.collection_error
        return False, f"acceptance checks could not run: {e.error_type}: {e.message}"
    if report.over_budget:
        return False, "acceptance checks did not finish within their step budget"
    return False, f"{len(report.failures)} of {report.collected} acceptance checks failed"


@CHECKERS.register("no_old_api")
def no_old_api(world: World, spec: Any, names: list[str], keywords: dict[str, list[str]],
               paths: list[str]) -> tuple[bool, str]:
    """No call of a removed function, and no removed keyword in calls of a kept one."""
    files = _py(world, paths)
    if not files:
        return False, f"no Python files under {paths}"
    found = []
    for path in files:
        for node in ast.walk(_tree(world, path)):
            if isinstance(node, ast.ImportFrom) and any(a.name in names for a in node.names):
                found.append(f"{path}:{node.lineno} imports a removed name")
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            callee = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if callee in names:
                found.append(f"{path}:{node.lineno} calls {callee}")
            elif callee in keywords and any(k.arg in keywords[callee] for k in node.keywords):
                found.append(f"{path}:{node.lineno} passes a removed keyword to {callee}")
    if found:
        return False, f"the old API is still used: {_short(found)}"
    return True, f"no old API use in {len(files)} files"


@CHECKERS.register("defined_once")
def defined_once(world: World, spec: Any, name: str, path: str, paths: list[str]) -> tuple[bool, str]:
    homes = [p for p in _py(world, paths) for n in ast.walk(_tree(world, p))
             if isinstance(n, ast.FunctionDef) and n.name == name]
    if homes != [path]:
        return False, f"`{name}` must be defined exactly once, in {path}; found in {homes or 'no file'}"
    return True, f"`{name}` defined once in {path}"


@CHECKERS.register("no_duplicate_block")
def no_duplicate_block(world: World, spec: Any, statements: list[str], helper: str,
                       paths: list[str]) -> tuple[bool, str]:
    """No function but the helper still holds a statement of the duplicated block."""
    wanted = set(statements)
    found = []
    for path in _py(world, paths):
        for fn in ast.walk(_tree(world, path)):
            if (isinstance(fn, ast.FunctionDef) and fn.name != helper
                    and any(node_digest(s) in wanted for s in ast.walk(fn) if isinstance(s, ast.stmt))):
                found.append(f"{path}:{fn.name}")
    if found:
        return False, f"the duplicated block is still inlined in {_short(found)}"
    return True, "the block lives only in the helper"


@CHECKERS.register("functions_call")
def functions_call(world: World, spec: Any, sites: dict[str, list[str]], callee: str) -> tuple[bool, str]:
    """Each listed function still exists and calls ``callee``."""
    problems = []
    for path, names in sorted(sites.items()):
        defs = top_level(_tree(world, path))
        for name in names:
            fn = defs.get(name)
            if not isinstance(fn, ast.FunctionDef):
                problems.append(f"{path}:{name} is gone")
                continue
            calls = [c for c in ast.walk(fn) if isinstance(c, ast.Call)]
            if not any((isinstance(c.func, ast.Name) and c.func.id == callee)
                       or (isinstance(c.func, ast.Attribute) and c.func.attr == callee) for c in calls):
                problems.append(f"{path}:{name} does not call {callee}")
    if problems:
        return False, _short(problems)
    return True, f"all {sum(map(len, sites.values()))} former sites call `{callee}`"


@CHECKERS.register("convention_followed")
def convention_followed(world: World, spec: Any, path: str, kind: str, existing: list[str],
                        min_new: int, suffix: str = "", doc_prefix: str = "", logger: str = "") -> tuple[bool, str]:
    """New public functions in ``path`` follow the team convention of ``kind``:
    ``money`` (name suffix and docstring opening) or ``logging`` (no print, a module
    logger made by ``logger(__name__)``, and every new function logs through it)."""
    tree = _tree(world, path)
    new = [n for n in tree.body if isinstance(n, ast.FunctionDef)
           and not n.name.startswith("_") and n.name not in existing]
    if len(new) < min_new:
        return False, f"{path} has {len(new)} new public functions, {min_new} were asked for"
    bad = []
    if kind == "money":
        for fn in new:
            doc = ast.get_docstring(fn) or ""
            if not fn.name.endswith(suffix) or not doc.startswith(doc_prefix):
                bad.append(fn.name)
    else:
        loggers = {t.id for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                   and _is_logger_call(n.value, logger) for t in n.targets if isinstance(t, ast.Name)}
        if any(isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == "print"
               for c in ast.walk(tree)):
            bad.append("print() is used")
        if not loggers:
            bad.append(f"no module logger from {logger}(__name__)")
        for fn in new:
            uses = {n.value.id for n in ast.walk(fn) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
            if not uses & loggers:
                bad.append(f"{fn.name} does not log")
    if bad:
        return False, f"the team convention is not followed: {_short(bad)}"
    return True, f"{len(new)} new functions follow the convention"


def _is_logger_call(call: ast.Call, logger: str) -> bool:
    f = call.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    return (name == logger and len(call.args) == 1 and isinstance(call.args[0], ast.Name)
            and call.args[0].id == "__name__")
