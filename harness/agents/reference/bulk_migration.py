"""Strategy for a bulk migration off a deprecated helper: read the rule, find the files that
call the old helper, rewrite every call in rounds of what fits in mind, look again for
calls left behind, verify with the tests, repair, submit.

The rule is read the way a person reads it: "`old(a, b)` becomes `new(b, a * 1000)`", a
template over the old parameters. Each rewritten call is a decision, and a slip puts a
wrong argument into it (the old order kept, or the unit conversion forgotten) under the
new name, where it looks like every correct call. So a file is migrated once: redoing
the rule on its current text finds nothing left to change. When the tests fail, the
files still in mind are compared with what was meant; a forgotten one can be put right
only from the history of the edit (the text it replaced), or not at all.
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
from harness.runtime.port import GiveUp, Think

_RULE = re.compile(r"`(?P<old>\w+)\((?P<params>[^`)]*)\)` becomes `(?P<new>\w+)\((?P<args>[^`]*)\)`")


@dataclass(frozen=True)
class Rule:
    old: str
    params: tuple[str, ...]  # the old helper's parameters, in order
    new: str
    args: tuple[str, ...]  # the new call's arguments, each an expression over one old parameter
    module: str  # the helper module's name, as call sites qualify it (``mod.old(...)``)

    @property
    def converts(self) -> bool:
        """Some argument changes units on the way (``seconds * 1000``), not just place."""
        return any(a not in self.params for a in self.args)


def parse_rule(text: str, helper_module: str) -> Rule | None:
    m = _RULE.search(text)
    if m is None:
        return None
    params = tuple(p.strip() for p in m["params"].split(",") if p.strip())
    try:
        args = tuple(ast.unparse(a) for a in ast.parse(f"f({m['args']})", mode="eval").body.args)  # type: ignore[attr-defined]
    except SyntaxError:
        return None
    if not params or any(_param(params, a) is None for a in args):
        return None
    module = helper_module.rsplit("/", 1)[-1].removesuffix(".py")
    return Rule(m["old"], params, m["new"], args, module)


def _param(params: tuple[str, ...], arg: str) -> str | None:
    return next((w for w in re.findall(r"\w+", arg) if w in params), None)


@STRATEGIES.register("code_modification/bulk_migration")
def bulk_migration(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    pkg, test_module = brief.public["package"], brief.public["test_module"]
    rule = parse_rule(brief.instructions, brief.public["helper_module"])
    if rule is None:
        yield GiveUp(reason="could not read the migration rule")
        return
    yield Think(step="migration plan", evidence=(f"{rule.old}({', '.join(rule.params)}) -> "
                                                 f"{rule.new}({', '.join(rule.args)})",))
    meant = yield from _migrate(kit, errors, pkg, rule)
    if meant is None:
        yield GiveUp(reason="could not find the calls of the deprecated helper")
        return
    yield from cs.verify_and_submit(kit, errors, test_module, meant, lambda _, text: migrated(text, rule))


def _migrate(kit: Toolkit, errors: ErrorProcesses, pkg: str, rule: Rule) -> Steps:
    """Edit every file calling the old helper, each once, in rounds of what fits in mind;
    then search again, since a file overlooked in a listing still calls it."""
    meant, seen = cs.EditMemory(errors.capacity), set()
    for _ in range(1 + errors.retries):
        found = yield from kit.find_files(rule.old, [pkg])
        if found is None:
            continue
        todo = sorted(f for f in set(found) - seen if f.endswith(".py"))
        if not todo:
            return meant
        seen.update(todo)
        for start in range(0, len(todo), errors.capacity):
            batch = todo[start: start + errors.capacity]
            yield Think(step=f"round {start // errors.capacity + 1}: migrate {len(batch)} files", evidence=tuple(batch))
            for path in batch:
                yield from _edit(kit, errors, path, rule, meant)
    return meant if seen else None


def _edit(kit: Toolkit, errors: ErrorProcesses, path: str, rule: Rule, meant: cs.EditMemory) -> Steps:
    text = yield from kit.read(path)
    intended = migrated(text, rule)
    if text is None or intended is None or intended == text:
        return
    slips = [_slip(errors, rule) for _ in _calls(cs.tree_of(text), rule)]
    meant[path] = intended
    yield from cs.edit_checked(kit, errors, path, text, migrated(text, rule, slips) or intended)


def _slip(errors: ErrorProcesses, rule: Rule) -> str | None:
    """One call's decision: right, or a plausible wrong argument under the new name."""
    if not errors.slip():
        return None
    return ("order", "units")[errors.pick("migration_slip", 2)] if rule.converts else "order"


def _calls(tree: ast.Module | None, rule: Rule) -> list[ast.Call]:
    if tree is None:
        return []
    return sorted(cs.calls_to(tree, rule.old, {rule.module}), key=lambda c: (c.lineno, c.col_offset))


def migrated(text: str | None, rule: Rule, slips: list[str | None] | None = None) -> str | None:
    """``text`` with every call of the old helper rewritten by the rule and its imports
    renamed; ``slips`` (one per call, in order) says which calls go wrong and how."""
    tree = cs.tree_of(text)
    if tree is None or text is None:
        return None
    slips = slips or []
    edits: list[cs.Splice] = []
    for i, call in enumerate(_calls(tree, rule)):
        start, end = cs.span(text, call)
        edits.append((start, end, _new_call(text, call, rule, slips[i] if i < len(slips) else None)))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == rule.old for a in node.names):
            names = list(dict.fromkeys(
                (rule.new if a.name == rule.old else a.name) + (f" as {a.asname}" if a.asname else "")
                for a in node.names))
            edits.append((*cs.span(text, node), f"from {'.' * node.level}{node.module or ''} import {', '.join(names)}"))
    return cs.splice(text, edits)


def _new_call(text: str, call: ast.Call, rule: Rule, slip: str | None) -> str:
    func = ast.get_source_segment(text, call.func) or rule.old
    func = func[: len(func) - len(rule.old)] + rule.new
    given = [ast.get_source_segment(text, a) or "" for a in call.args]
    bound = dict(zip(rule.params, given, strict=False))
    bound.update({k.arg: ast.get_source_segment(text, k.value) or "" for k in call.keywords if k.arg})
    if set(bound) != set(rule.params):  # a call the rule does not cover: left for the tests to show
        return ast.get_source_segment(text, call) or ""
    args = list(rule.args)
    if slip == "order":  # the arguments left where they were
        args.sort(key=lambda a: rule.params.index(_param(rule.params, a) or rule.params[0]))
    elif slip == "units":  # the conversion forgotten
        args = [_param(rule.params, a) or a for a in args]
    return f"{func}({', '.join(_fill(a, bound) for a in args)})"


def _fill(arg: str, bound: dict[str, str]) -> str:
    """An argument of the template with the call's own expressions put in, parenthesized
    where the precedence needs it."""
    filled = re.sub(r"\b\w+\b", lambda t: f"({bound[t[0]]})" if t[0] in bound else t[0], arg)
    return ast.unparse(ast.parse(filled, mode="eval"))
