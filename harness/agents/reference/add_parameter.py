"""Strategy for turning a hard-coded value into a keyword-only parameter that every call
site passes explicitly: learn the decision, find the calls, edit, verify, repair, submit.

The decision (parameter name, required or defaulted, today's value) is in the brief, or,
in a two-session task, was given in session 1 and must be remembered. Calls are found by
searching for the function's name and then read with a parser, so a method of the same
name on another class is left alone. The new test's expected value is worked out by
evaluating the function the agent itself just wrote, as one would in a REPL.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from harness.agents.reference import codemod_support as cs
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.knowledge import keep, recall_fact
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think

_DECISION = re.compile(
    r"the new parameter is called `(?P<param>\w+)`; it is a (?P<form>required keyword-only parameter"
    r" \(no default\)|keyword-only parameter with default \d+);.*?passes `\w+=(?P<value>-?\d+)`", re.S)
_PROBE = [4, 11, 17, 23, 30]


@dataclass(frozen=True)
class Decision:
    param: str
    required: bool
    value: int


def parse_decision(text: str) -> Decision | None:
    m = _DECISION.search(text)
    if m is None:
        return None
    return Decision(m["param"], m["form"].startswith("required"), int(m["value"]))


@STRATEGIES.register("code_modification/add_parameter")
def add_parameter(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    fn, pkg, test_module = brief.public["function"], brief.public["package"], brief.public["test_module"]
    paths = [pkg.rstrip("/"), test_module.rsplit("/", 1)[0]]
    told = parse_decision(brief.instructions)
    if brief.sessions > 1 and brief.session == 0:
        yield from _survey_session(kit, errors, fn, paths, told)
        return
    decision = told
    if decision is None:
        decision = yield from recall_fact(kit, brief, f"design review decision parameter {fn}", parse_decision)
    if decision is None:
        decision = yield from _guess(kit, errors, brief, fn, paths)
    if decision is None:
        yield GiveUp(reason="the parameter's name and value are unknown")
        return
    yield Think(step=f"make {decision.param} a parameter of {fn}; pass {decision.param}={decision.value} everywhere")
    yield from _change(kit, errors, fn, test_module, paths, decision)


def _survey_session(kit: Toolkit, errors: ErrorProcesses, fn: str, paths: list[str],
                    told: Decision | None) -> Steps:
    if told is not None:
        yield from keep(kit, errors, f"design review {fn}", f"Design review decision for `{fn}`: "
                        f"the new parameter is called `{told.param}`; it is a "
                        f"{_form(told)}; every existing call site passes `{told.param}={told.value}`")
    files = yield from kit.find_files(fn, paths)
    yield Think(step=f"calls of {fn} live in {len(files or [])} files", evidence=tuple(files or ()))
    yield Submit(answer={})


def _form(d: Decision) -> str:
    return ("required keyword-only parameter (no default)" if d.required
            else f"keyword-only parameter with default {d.value}")


def _guess(kit: Toolkit, errors: ErrorProcesses, brief: Brief, fn: str, paths: list[str]) -> Steps:
    """Without the decision, today's value can be read off the code; the name cannot, so
    the most plausible word from the instructions stands in for it."""
    m = re.search(r"hard-codes its (?:[\w-]+ )*?(\w+)(?: of| on)? ", brief.instructions)
    word = m.group(1) if m else "value"
    files = yield from kit.find_files(fn, paths)
    for path in files or []:
        text = yield from kit.read(path)
        tree = cs.tree_of(text)
        node = cs.function_def(tree, fn) if tree else None
        if node is None:
            continue
        body = ast.Module(body=node.body[1:], type_ignores=[])
        ints = [n.value for n in ast.walk(body) if isinstance(n, ast.Constant) and type(n.value) is int]
        if ints:
            yield Think(step=f"guessing the parameter name {word}", confidence=0.2)
            return Decision(word, True, ints[-1])
    return None


def _change(kit: Toolkit, errors: ErrorProcesses, fn: str, test_module: str,
            paths: list[str], d: Decision) -> Steps:
    files = yield from _find(kit, errors, fn, paths)
    if not files:
        yield GiveUp(reason=f"could not find where {fn} is used")
        return
    home_path, home_text = yield from _defining_module(kit, files, fn)
    if home_path is None:
        yield GiveUp(reason=f"could not find the definition of {fn}")
        return
    site = Site(fn, home_path.rsplit("/", 1)[-1].removesuffix(".py"), home_path, test_module, d,
                _new_test(home_text, fn, d))
    meant = cs.EditMemory(errors.capacity)
    done: set[str] = set()
    for _ in range(2 + len(files) // errors.capacity + errors.retries):
        batch = [f for f in files if f not in done][: errors.capacity]  # what fits in mind at once
        if not batch:
            break
        for path in batch:
            done.add(path)
            text = home_text if path == home_path else (yield from kit.read(path))
            intended = _rewrite(text, path, site, d.value)
            if intended is None or intended == text:
                continue
            meant[path] = intended
            slipped = _rewrite(text, path, site, _slipped(d.value, errors))
            yield from cs.edit_checked(kit, errors, path, text, slipped or intended)
        files = (yield from _find(kit, errors, fn, paths)) or files
    yield from _verify(kit, errors, test_module, meant, lambda path, text: _rewrite(text, path, site, d.value))


def _verify(kit: Toolkit, errors: ErrorProcesses, test_module: str, meant: cs.EditMemory, redo: cs.Redo) -> Steps:
    for _ in range(1 + errors.retries):
        outcome = yield from cs.tests_pass(kit, errors, test_module)
        if outcome is not None and outcome.ok:
            yield Submit(answer={})
            return
        yield Think(step="tests fail; compare every edited file with what I meant",
                    evidence=tuple((outcome.failures if outcome else [])[:3]))
        yield from cs.repair(kit, errors, meant, redo)
    yield GiveUp(reason="tests still fail after repairs")


@dataclass(frozen=True)
class Site:
    fn: str
    home: str  # the defining module's name, as ``home.fn(...)`` calls spell it
    home_path: str
    test_module: str
    decision: Decision
    new_test: str | None  # the test of another value, ready to append


def _find(kit: Toolkit, errors: ErrorProcesses, fn: str, paths: list[str]) -> Steps:
    for _ in range(1 + errors.retries):
        files = yield from kit.find_files(fn, paths)
        if files is not None:
            return sorted(f for f in files if f.endswith(".py"))
    return None


def _defining_module(kit: Toolkit, files: list[str], fn: str) -> Steps:
    hits = yield from kit.search(f"def {fn}(", files)
    for hit in hits or []:
        if hit.text.startswith("def "):  # top level: a method is indented
            text = yield from kit.read(hit.path)
            return hit.path, text
    return None, None


def _slipped(value: int, errors: ErrorProcesses) -> int:
    """The value a slip passes instead: its neighbour, the wrong one of two similar values."""
    if not errors.slip():
        return value
    return value + (1 if errors.pick("slip_sign", 2) else -1)


def _rewrite(text: str | None, path: str, site: Site, value: int) -> str | None:
    tree = cs.tree_of(text)
    if tree is None or text is None:
        return None
    d = site.decision
    edits: list[cs.Splice] = []
    for call in cs.calls_to(tree, site.fn, {site.home}):
        if any(k.arg == d.param for k in call.keywords):
            continue
        end = cs.span(text, call)[1] - 1  # the closing parenthesis
        edits.append((end, end, f", {d.param}={value}"))
    node = cs.function_def(tree, site.fn) if path == site.home_path else None
    if node is not None:
        edits += _signature_edits(text, node, d)
    new = cs.splice(text, edits)
    if path == site.test_module and site.new_test and site.new_test.split("(")[0] not in new:
        new = new.rstrip("\n") + "\n" + site.new_test
    return new


def _signature_edits(text: str, node: ast.FunctionDef, d: Decision) -> list[cs.Splice]:
    """``, *, param: int`` after the last parameter; the literal in the body becomes the name."""
    last = node.args.args[-1]
    after = cs.span(text, node.args.defaults[-1] if node.args.defaults else last)[1]
    default = "" if d.required else f" = {d.value}"
    edits: list[cs.Splice] = [(after, after, f", *, {d.param}: int{default}")]
    for stmt in node.body[1:]:
        for n in ast.walk(stmt):
            if isinstance(n, ast.Constant) and type(n.value) is int and n.value == d.value:
                start, end = cs.span(text, n)
                edits.append((start, end, d.param))
    return edits


def _new_test(home_text: str | None, fn: str, d: Decision) -> str | None:
    """A test of another value, its expectation worked out by running the changed function
    in a scratch namespace (what one would do in a REPL before writing the assert)."""
    tree = cs.tree_of(home_text)
    node = cs.function_def(tree, fn) if tree else None
    if node is None or home_text is None:
        return None
    start, end = cs.span(home_text, node)
    changed = cs.splice(home_text[start:end], _signature_edits(home_text[start:end],
                                                               ast.parse(home_text[start:end]).body[0], d))
    other = d.value + 3
    namespace: dict[str, object] = {}
    try:
        exec(compile(changed, "<scratch>", "exec"), namespace)  # noqa: S102 - the agent's own code
        expected = namespace[fn](list(_PROBE), **{d.param: other})  # type: ignore[operator]
    except Exception:  # noqa: BLE001 - a scratch run that fails just means no new test
        return None
    return (f"\n\ndef test_{fn}_{d.param}() -> None:\n"
            f"    assert {fn}({_PROBE}, {d.param}={other}) == {expected!r}\n")
