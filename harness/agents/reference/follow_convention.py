"""Strategy for writing new code that follows a team convention told one session earlier.

Session 1 tells the convention and asks for nothing else: the agent keeps it in memory
and looks around. Session 2 asks for functions described in words; the agent writes them
(its programming skill is a small table from descriptions to expressions, the way a
developer turns "rounded up" into ``-(-a // b)``), shaped by the convention it recalls.
Without it, the agent writes them the way the legacy code around them looks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.agents.reference import codemod_support as cs
from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.knowledge import keep, recall_fact
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think

_MONEY = re.compile(r"every public function in `(?P<path>[^`]+)` that returns a money amount is named with "
                    r"the suffix `(?P<suffix>\w+)` and has a docstring starting with `(?P<prefix>\w+)`")
_LOGGING = re.compile(r"new modules log through `(?P<factory>\w+)\(__name__\)` from `(?P<path>[^`]+)`")
_FEATURE = re.compile(r"^- `(?P<stem>\w+)\((?P<params>[^)]*)\)`: returns (?P<what>.*)\.$", re.M)
_TARGET = re.compile(r"(?:Add these functions to|Create the module) `(?P<path>[^`]+)`")
# What a description asks for, as an expression over the parameters it names ({0}, {1}).
_SKILL = (
    (re.compile(r"the tax on `(\w+)` at `(\w+)` percent, rounded down"), "{0} * {1} // 100"),
    (re.compile(r"`(\w+)` after taking `(\w+)` percent off"), "{0} - {0} * {1} // 100"),
    (re.compile(r"the shipping cost of `(\w+)` items: (\d+) plus (\d+) per item"), "{1} + {2} * {0}"),
    (re.compile(r"the refund for `(\w+)`: the amount minus a fixed fee of (\d+), never below 0"),
     "max({0} - {1}, 0)"),
    (re.compile(r"one of `(\w+)` equal installments of `(\w+)`, rounded up"), "-(-{1} // {0})"),
)


@dataclass(frozen=True)
class Convention:
    kind: str  # money | logging
    path: str  # the module it governs (money) or the logging module (logging)
    suffix: str = ""
    prefix: str = ""
    factory: str = ""


@dataclass(frozen=True)
class Feature:
    stem: str
    params: str
    what: str
    expr: str | None


def parse_convention(text: str) -> Convention | None:
    if m := _MONEY.search(text):
        return Convention("money", m["path"], suffix=m["suffix"], prefix=m["prefix"])
    if m := _LOGGING.search(text):
        return Convention("logging", m["path"], factory=m["factory"])
    return None


def parse_features(text: str) -> list[Feature]:
    found = []
    for m in _FEATURE.finditer(text):
        expr = None
        for pattern, template in _SKILL:
            if s := pattern.search(m["what"]):
                expr = template.format(*s.groups())
                break
        found.append(Feature(m["stem"], m["params"], m["what"], expr))
    return found


@STRATEGIES.register("code_modification/follow_convention")
def follow_convention(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    told = parse_convention(brief.instructions)
    if told is not None:
        text = brief.instructions.split("This session: ", 1)[-1].split(". Older code", 1)[0]
        yield from keep(kit, errors, "team convention", text)
    target = _TARGET.search(brief.instructions)
    if target is None:  # a session that asks for no change: get to know the package
        yield from kit.list_files(brief.public["package"])
        yield Submit(answer={})
        return
    features = parse_features(brief.instructions)
    if not features or any(f.expr is None for f in features):
        yield GiveUp(reason="could not understand what the functions should compute")
        return
    convention = told or (yield from recall_fact(kit, brief, "team convention code style", parse_convention))
    yield Think(step=f"write {len(features)} functions in {target['path']}",
                evidence=(repr(convention),), confidence=0.9 if convention else 0.4)
    yield from _write_features(kit, errors, brief, target["path"], features, convention)


def _write_features(kit: Toolkit, errors: ErrorProcesses, brief: Brief, path: str,
                    features: list[Feature], convention: Convention | None) -> Steps:
    existing = yield from kit.read(path)
    slip = errors.pick("slip_which", len(features)) if errors.slip() else None
    text = _module_text(path, existing, features, convention, None)
    written = yield from cs.write_checked(kit, errors, path, _module_text(path, existing, features, convention, slip))
    if not written:
        yield GiveUp(reason=f"could not write {path}")
        return
    yield from cs.recheck(kit, errors, {path: text})  # review the change before calling it done
    for _ in range(1 + errors.retries):
        outcome = yield from cs.tests_pass(kit, errors, brief.public["test_module"])
        if outcome is not None and outcome.ok:
            yield Submit(answer={})
            return
        yield from cs.recheck(kit, errors, {path: text})
    yield GiveUp(reason="tests still fail")


def _module_text(path: str, existing: str | None, features: list[Feature], c: Convention | None,
                 slip: int | None) -> str:
    """The file with the new functions; ``slip`` is the one written out of habit, in the
    legacy style."""
    if c is not None and c.kind == "logging":
        return _logging_module(c, features, slip)
    if c is not None and c.kind == "money" and c.path == path:
        return _append(existing, [_plain_function(f, None) if i == slip else _money_function(f, c)
                                  for i, f in enumerate(features)])
    if existing is not None:  # the legacy style: plain names and docstrings
        return _append(existing, [_plain_function(f, None) for f in features])
    # a new module, reporting the way the legacy code does: print
    return '"""Checkout figures."""\n\n\n' + "\n\n".join(_plain_function(f, "print") for f in features)


def _append(existing: str | None, blocks: list[str]) -> str:
    return (existing or "").rstrip("\n") + "\n\n\n" + "\n\n".join(blocks)


def _doc(f: Feature) -> str:
    return f.what.replace("`", "``")


def _money_function(f: Feature, c: Convention) -> str:
    return (f"def {f.stem}{c.suffix}({f.params}) -> int:\n"
            f'    """{c.prefix} {_doc(f)}."""\n    return {f.expr}\n')


def _plain_function(f: Feature, report: str | None) -> str:
    if report is None:
        return f'def {f.stem}({f.params}) -> int:\n    """{_doc(f)[0].upper() + _doc(f)[1:]}."""\n    return {f.expr}\n'
    return (f'def {f.stem}({f.params}) -> int:\n    """{_doc(f)[0].upper() + _doc(f)[1:]}."""\n'
            f'    result = {f.expr}\n    {report}("{f.stem} computed %s", result)\n    return result\n')


def _logging_module(c: Convention, features: list[Feature], slip: int | None) -> str:
    module = c.path.removesuffix(".py").replace("/", ".")
    head = f'"""Checkout figures."""\n\nfrom {module} import {c.factory}\n\nlog = {c.factory}(__name__)\n\n\n'
    body = [_plain_function(f, "print") if i == slip else _plain_function(f, "log.info")
            for i, f in enumerate(features)]
    return head + "\n\n".join(body)
