"""Strategy for a new keyword-only parameter on a real function: read, edit, test, submit.

The brief says the function, its module, the parameter and what it does (applied to the
result when given). The agent reads the module, adds the parameter to the signature and
routes each of the function's own ``return`` values through it, writes the module back,
runs the test module that uses the function most, and submits when it passes. A slip
routes only the first ``return`` (a function with several exits is where that bites).
"""

from __future__ import annotations

import ast
import io
import tokenize

from harness.agents.reference import codemod_support as cs
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think


@STRATEGIES.register("code_modification/real_add_parameter")
def real_add_parameter(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    fn, path, param = brief.public["function"], brief.public["path"], brief.public["parameter"]
    test_module = brief.public["test_module"]
    text = yield from kit.read(path)
    edited = with_parameter(text, fn, param, only_first=errors.slip())
    if edited is None:
        yield GiveUp(reason=f"cannot find a top-level function {fn} in {path}")
        return
    yield Think(step=f"add `{param}=None` to {fn} and apply it to each returned value")
    written = yield from cs.write_checked(kit, errors, path, edited)
    if not written:
        yield GiveUp(reason=f"could not write {path}")
        return
    for _ in range(1 + errors.retries):
        outcome = yield from cs.tests_pass(kit, errors, test_module)
        if outcome is not None and outcome.ok:
            yield Submit(answer={})
            return
        # A failure after an edit is first a question about the edit: is the file what was meant?
        repaired = yield from cs.recheck(kit, errors, {path: edited})
        if not repaired:
            break
        yield Think(step=f"{path} was not what I wrote; rewritten", evidence=tuple(repaired))
    yield from cs.write_checked(kit, errors, path, text or "")  # leave the code as it was
    yield GiveUp(reason="the existing tests fail with the new parameter")


def _own_returns(fn: ast.AST) -> list[ast.Return]:
    out, stack = [], list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return) and node.value is not None:
            out.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            stack.extend(ast.iter_child_nodes(node))
    return sorted(out, key=lambda n: (n.lineno, n.col_offset))


def with_parameter(text: str | None, function: str, param: str, only_first: bool = False) -> str | None:
    if text is None:
        return None
    edited = _add_to_signature(text, function, f"{param}=None")
    if edited is None:
        return None
    tree = ast.parse(edited)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == function)
    returns = _own_returns(fn)[:1] if only_first else _own_returns(fn)
    raw = edited.encode()
    starts = [0]
    for line in edited.splitlines(keepends=True):
        starts.append(starts[-1] + len(line.encode()))
    for ret in reversed(returns):
        v = ret.value
        assert v is not None
        a = starts[v.lineno - 1] + v.col_offset
        b = starts[v.end_lineno - 1] + v.end_col_offset  # type: ignore[operator]
        expr = raw[a:b].decode()
        raw = raw[:a] + f"({expr}) if {param} is None else {param}({expr})".encode() + raw[b:]
    return raw.decode()


def _add_to_signature(text: str, function: str, parameter: str) -> str | None:
    """The parameter added keyword-only: before ``**kwargs`` if any, else last, after a bare
    ``*`` unless the function already has ``*args`` or keyword-only parameters."""
    tree = cs.tree_of(text)
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
               and n.name == function), None) if tree else None
    if fn is None:
        return None
    a = fn.args
    star = "" if (a.vararg or a.kwonlyargs) else "*, "
    if a.kwarg is not None:
        at = text.rindex("**", 0, cs.offset(text, a.kwarg.lineno, a.kwarg.col_offset))
        return text[:at] + f"{star}{parameter}, " + text[at:]
    head_end = _closing_paren(text, cs.offset(text, fn.lineno, fn.col_offset))
    before = text[:head_end].rstrip()
    has = bool(a.posonlyargs or a.args or a.vararg or a.kwonlyargs)
    joint = ("" if before.endswith(",") else ",") + " " if has else ""
    return before + joint + star + parameter + text[head_end:]


def _closing_paren(text: str, start: int) -> int:
    """Offset of the ``)`` closing the parameter list of the def at ``start``."""
    depth = 0
    rest = text[start:]
    lines = rest.splitlines(keepends=True)
    for tok in tokenize.generate_tokens(io.StringIO(rest).readline):
        if tok.type == tokenize.OP and tok.string in "()":
            depth += 1 if tok.string == "(" else -1
            if depth == 0:
                return start + sum(len(x) for x in lines[:tok.start[0] - 1]) + tok.start[1]
    raise ValueError("unbalanced parameter list")
