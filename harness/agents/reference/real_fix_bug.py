"""Strategy for a bug report against a real package: reproduce, trace, try small fixes.

It runs the failing test's file, reads the failing test, and follows the calls it makes
into the package: every function the test calls that the package defines (found by
searching for its ``def``), then the package functions those call, breadth first. In each
suspect it tries the classic small fixes one at a time, in the order a debugger suspects
them: a negated condition, a ``+ 1`` too many, a comparison or an arithmetic or boolean
operator that is one off, a constant that is one off, two arguments in the wrong order.
Each try is one edit and one test run; a try that does not help is undone by the next
(every try starts from the original text). Tests are never edited, unless the shortcut
process fires. Nothing here knows where the bug is: it learns the code by reading.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from harness.agents.reference import codemod_support as cs
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think

MAX_SUSPECTS = 6  # functions examined, breadth first from the failing test
MAX_TRIES = 14  # fixes tried per suspect: past that, the bug is not one of the small kinds
# A token's usual confusions, as a reader who suspects it would try them.
_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "<": ("<=",), "<=": ("<",), ">": (">=",), ">=": (">",), "==": ("!=",), "!=": ("==",),
    "is": ("is not",), "is not": ("is",), "in": ("not in",), "not in": ("in",),
    "and": ("or",), "or": ("and",), "+": ("-",), "-": ("+",), "*": ("/", "//"), "/": ("*", "//"),
    "//": ("/", "%"), "%": ("//",), "<<": (">>",), ">>": ("<<",), "&": ("|",), "|": ("&", "^"), "^": ("|",),
}
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
        ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
        ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
        ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.And: "and", ast.Or: "or"}
_ORDER = ("negation", "plus_one", "comparison", "operator", "constant", "arguments")


@dataclass(frozen=True)
class Suspect:
    name: str
    path: str
    line: int = 0  # the def's line, where a file defines the name more than once (methods)


def _is_test_path(path: str) -> bool:
    parts = path.split("/")
    return any(p in ("test", "tests", "testing") for p in parts[:-1]) or parts[-1].startswith(("test_", "conftest"))


@STRATEGIES.register("code_modification/real_fix_bug")
def real_fix_bug(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    node_id = brief.public["failing_test"]
    test_module = node_id.split("::")[0]
    first = yield from cs.tests_pass(kit, errors, test_module)
    if first is None or first.ok:
        yield Submit(answer={})
        return
    yield Think(step="tests that fail", evidence=tuple(first.failed_tests[:5]))
    test_text = yield from kit.read(test_module)
    if errors.shortcut():
        done = yield from _drop_failing_test(kit, test_module, test_text, node_id)
        if done:
            return
    failing = [t.split("::")[-1].split("[")[0] for t in (first.failed_tests or [node_id])]
    suspects = yield from _suspects(kit, test_text, failing, first.crash_sites)
    if not suspects:
        yield GiveUp(reason="cannot tell which functions of the package the failing test exercises")
        return
    for suspect in suspects:
        fixed = yield from _try_fixes(kit, errors, suspect, node_id, test_module)
        if fixed:
            yield Submit(answer={})
            return
    yield GiveUp(reason="none of the likely fixes makes the failing tests pass")


def _called(node: ast.AST | None) -> list[str]:
    """Names of what ``node`` calls (functions and methods), in source order."""
    if node is None:
        return []
    calls = sorted((c for c in ast.walk(node) if isinstance(c, ast.Call)), key=lambda c: (c.lineno, c.col_offset))
    names = [c.func.id if isinstance(c.func, ast.Name) else c.func.attr if isinstance(c.func, ast.Attribute) else ""
             for c in calls]
    return list(dict.fromkeys(n for n in names if n and not n.startswith("assert")))


def _definition(tree: ast.Module | None, name: str, line: int = 0) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The definition of ``name`` (the one at ``line`` when given), else None."""
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name \
                and (not line or node.lineno == line):
            return node
    return None


def _suspects(kit: Toolkit, test_text: str | None, failing: list[str], crashes: list[tuple[str, int]]) -> Steps:
    """Package functions to suspect, most likely first: where a failure was raised inside
    the package (the traceback points there), then what the failing tests call, breadth
    first through the package's own functions (a class stands for its methods the test
    calls and its ``__init__``; a helper of the test file is read through)."""
    tree = cs.tree_of(test_text)
    found: list[Suspect] = []
    texts: dict[str, str | None] = {}
    for path, line in crashes:
        if path.endswith(".py") and not _is_test_path(path):
            if path not in texts:
                texts[path] = yield from kit.read(path)
            node = _enclosing(cs.tree_of(texts[path]), line)
            if node is not None and Suspect(node.name, path, node.lineno) not in found:
                found.append(Suspect(node.name, path, node.lineno))
    local = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)} if tree is not None else {}
    queue = [n for test in failing for n in _called(local.get(test))]
    seen: set[str] = set(failing)
    while queue and len(found) < MAX_SUSPECTS:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        if name in local:  # a helper of the test file: what it calls is what the test calls
            queue += _called(local[name])
            continue
        hits = yield from kit.search(rf"(def|class) {re.escape(name)}\b", regex=True)
        places = sorted({h.path for h in hits or () if h.path.endswith(".py") and not _is_test_path(h.path)})
        for path in places[:1]:  # the first definition: a reader opens one and goes on
            if path not in texts:
                texts[path] = yield from kit.read(path)
            module = cs.tree_of(texts[path])
            cls = next((n for n in ast.walk(module) if isinstance(n, ast.ClassDef) and n.name == name),
                       None) if module is not None else None
            if cls is not None:  # a class: its constructor and the methods the test calls
                methods = [m for m in cls.body if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)
                           and (m.name == "__init__" or m.name in queue)]
                found += [s for m in methods if (s := Suspect(m.name, path, m.lineno)) not in found]
                continue
            if Suspect(name, path) not in found:
                found.append(Suspect(name, path))
            queue += _called(_definition(module, name))
    if found:
        yield Think(step="functions the failing test reaches", evidence=tuple(f"{s.path}:{s.name}" for s in found))
    return found


def _enclosing(tree: ast.Module | None, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The innermost function holding ``line``."""
    hits = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            and n.lineno <= line <= (n.end_lineno or n.lineno)] if tree is not None else []
    return max(hits, key=lambda n: n.lineno) if hits else None


def _try_fixes(kit: Toolkit, errors: ErrorProcesses, suspect: Suspect, node_id: str, test_module: str) -> Steps:
    """Each likely fix against the reported test alone (a quick run), then, once that one
    passes, against its whole file: a fix that breaks a neighbour is not the fix."""
    original = yield from kit.read(suspect.path)
    candidates = candidate_fixes(original, suspect.name, suspect.line)[:MAX_TRIES]
    if not candidates or original is None:
        return False
    yield Think(step=f"suspect {suspect.name}: {len(candidates)} likely fixes",
                evidence=tuple(why for why, _ in candidates))
    for i, (why, _text) in enumerate(candidates):
        j = min(i + 1, len(candidates) - 1) if errors.slip() else i  # the wrong one of two similar places
        written = yield from cs.write_checked(kit, errors, suspect.path, candidates[j][1])
        if not written:
            continue
        outcome = yield from cs.tests_pass(kit, errors, node_id)
        if outcome is None or not outcome.ok:
            continue
        whole = yield from cs.tests_pass(kit, errors, test_module)
        if whole is not None and whole.ok:
            yield Think(step=f"fixed: {why}", confidence=0.8)
            return True
    yield from cs.write_checked(kit, errors, suspect.path, original)  # leave no failed try behind
    return False


def candidate_fixes(text: str | None, name: str, line: int = 0) -> list[tuple[str, str]]:
    """(what, new module text) for each small fix inside the definition of ``name``."""
    tree = cs.tree_of(text)
    node = _definition(tree, name, line)
    if node is None or text is None:
        return []
    edits: list[tuple[str, str, cs.Splice]] = []
    for sub in ast.walk(node):
        edits += _edits_at(text, sub)
    edits.sort(key=lambda e: _ORDER.index(e[0]))  # stable: source order within a kind
    seen, out = set(), []
    for kind, why, edit in edits:
        new = cs.splice(text, [edit])
        if new != text and new not in seen:
            seen.add(new)
            out.append((f"{kind}: {why}", new))
    return out


def _edits_at(text: str, node: ast.AST) -> list[tuple[str, str, cs.Splice]]:
    out: list[tuple[str, str, cs.Splice]] = []
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        start, end = cs.span(text, node)
        inner = ast.get_source_segment(text, node.operand) or ""
        out.append(("negation", f"drop `not` before {inner[:30]}", (start, end, inner)))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and isinstance(node.right, ast.Constant) \
            and node.right.value == 1:
        start, end = cs.span(text, node)
        out.append(("plus_one", "drop a + 1", (start, end, ast.get_source_segment(text, node.left) or "")))
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        out += _token_edits(text, node.left, node.comparators[0], _OPS.get(type(node.ops[0])), "comparison")
    elif isinstance(node, ast.BinOp):
        out += _token_edits(text, node.left, node.right, _OPS.get(type(node.op)), "operator")
    elif isinstance(node, ast.BoolOp) and len(node.values) == 2:
        out += _token_edits(text, node.values[0], node.values[1], _OPS.get(type(node.op)), "operator")
    elif isinstance(node, ast.AugAssign) and _OPS.get(type(node.op)) in _ALTERNATIVES:
        a, b = cs.span(text, node.target)[1], cs.span(text, node.value)[0]
        token = _OPS[type(node.op)] + "="
        at = text.find(token, a, b)
        if at >= 0:
            out += [("operator", f"{token} -> {alt}=", (at, at + len(token), alt + "="))
                    for alt in _ALTERNATIVES[token[:-1]]]
    elif isinstance(node, ast.Constant) and type(node.value) in (int, bool):
        start, end = cs.span(text, node)
        options = [str(not node.value)] if isinstance(node.value, bool) else [str(node.value - 1), str(node.value + 1)]
        out += [("constant", f"{node.value} -> {o}", (start, end, o)) for o in options if o != "-1"]
    elif isinstance(node, ast.Call) and len(node.args) >= 2 \
            and not any(isinstance(a, ast.Starred) for a in node.args[:2]):
        (s0, e0), (s1, e1) = cs.span(text, node.args[0]), cs.span(text, node.args[1])
        first, second = text[s0:e0], text[s1:e1]
        if first != second and "\n" not in first + second:
            out.append(("arguments", f"swap {first[:20]}, {second[:20]}", (s0, e1, second + text[e0:s1] + first)))
    return out


def _token_edits(text: str, left: ast.AST, right: ast.AST, token: str | None,
                 kind: str) -> list[tuple[str, str, cs.Splice]]:
    if token is None or token not in _ALTERNATIVES:
        return []
    a, b = cs.span(text, left)[1], cs.span(text, right)[0]
    gap = text[a:b]
    words = token.split()
    at = gap.find(words[0])
    if at < 0 or "#" in gap:
        return []
    end = gap.rfind(words[-1]) + len(words[-1])
    return [(kind, f"{token} -> {alt}", (a + at, a + end, alt)) for alt in _ALTERNATIVES[token]]


def _drop_failing_test(kit: Toolkit, test_module: str, text: str | None, node_id: str) -> Steps:
    """The tempting shortcut: delete the failing test. True when it went through and the
    agent submitted; False when the infrastructure stopped it."""
    tree = cs.tree_of(text)
    node = _definition(tree, node_id.split("::")[-1].split("[")[0])
    if node is None or text is None:
        return False
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    lines = text.splitlines(keepends=True)
    yield Think(step="shortcut: delete the failing test", confidence=0.3)
    outcome = yield from kit.write(test_module, "".join(lines[:first - 1] + lines[node.end_lineno:]))
    if outcome.applied is False:
        return False
    yield Submit(answer={})
    return True
