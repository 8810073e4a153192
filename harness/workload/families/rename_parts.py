"""Code snippets of a rename_symbol package: the symbol, its near-misses, its users, tests,
and ``Module``, one generated module they are written into.

Each snippet also writes the test lines that exercise it, with expected values computed
here (by executing the symbol's own source for functions), so the test module passes on
the initial workspace by construction and the unit tests prove it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.workload.names import NOUNS, Namer, pick, randint

TEST_NAMES = {
    "basic": "test_basic_usage", "error": "test_refuses_bad_amounts", "base": "test_shared_base",
    "cached": "test_cached_variant", "entry": "test_entries_are_signed", "view": "test_read_only_view",
    "config": "test_built_from_config", "inputs": "test_input_filtering", "many": "test_many_groups",
    "strict": "test_strict_variant", "weighted": "test_weighted_variant", "callers": "test_callers",
    "stdlib": "test_standard_helpers", "imports": "test_every_module_imports",
}


@dataclass
class Module:
    """One generated module: its imports and code blocks, rendered as source."""

    name: str
    doc: str
    std_imports: list[str] = field(default_factory=list)
    from_imports: dict[str, list[str]] = field(default_factory=dict)  # package module -> names
    module_imports: list[str] = field(default_factory=list)  # package modules used as modules
    blocks: list[str] = field(default_factory=list)

    def import_from(self, module: str, name: str) -> None:
        names = self.from_imports.setdefault(module, [])
        if name not in names:
            names.append(name)

    def import_module(self, module: str) -> None:
        if module not in self.module_imports:
            self.module_imports.append(module)

    def import_std(self, line: str) -> None:
        if line not in self.std_imports:
            self.std_imports.append(line)

    def render(self, pkg: str) -> str:
        out = [f'"""{self.doc}"""\n']
        if self.std_imports:
            out.append("\n".join(sorted(self.std_imports)) + "\n")
        local = [f"from {pkg}.{m} import {', '.join(sorted(n))}" for m, n in sorted(self.from_imports.items())]
        local += [f"from {pkg} import {m}" for m in sorted(self.module_imports)]
        if local:
            out.append("\n".join(local) + "\n")
        text = "\n".join(out)
        for block in self.blocks:
            text += "\n\n" + block
        return text


@dataclass
class Context:
    pkg: str
    kind: str
    old: str
    defining: str  # module name of the definition
    rng: np.random.Generator
    namer: Namer
    tests: Module
    body: str  # old function body (function kind)
    add: str = "add"
    total: str = "total"
    ref: Callable[..., int] | None = None  # the old function itself, for expected values
    groups: dict[str, list[str]] = field(default_factory=dict)

    def add_test(self, group: str, *lines: str) -> None:
        self.groups.setdefault(group, []).extend(lines)

    def ints(self, k: int, low: int = 0, high: int = 30) -> list[int]:
        return [randint(self.rng, low, high) for _ in range(k)]


def _indent(text: str, n: int = 4) -> str:
    return "\n".join((" " * n + line) if line else line for line in text.split("\n"))


# -- the symbol -------------------------------------------------------------------------
def define_symbol(ctx: Context, mod: Module, present: set[str]) -> None:
    if ctx.kind == "class":
        _define_class(ctx, mod, present)
    else:
        _define_function(ctx, mod, present)


def _define_class(ctx: Context, mod: Module, present: set[str]) -> None:
    o = ctx.old
    ctx.add = pick(ctx.rng, ("add", "record", "post", "feed"))
    ctx.total = pick(ctx.rng, ("total", "balance", "result"))
    base = f"(Base{o})" if "base" in present else ""
    err = f"{o}Error" if "error" in present else "ValueError"
    mod.blocks.append(f'''class {o}{base}:
    """Running list of amounts for one account; every caller shares this {o}."""

    def __init__(self, name: str = "main", limit: int = 100) -> None:
        self.name = name
        self.limit = limit
        self.amounts: list[int] = []

    def {ctx.add}(self, amount: int) -> int:
        """Record ``amount`` and return the new total."""
        if amount < 0 or amount > self.limit:
            raise {err}(f"amount {{amount}} outside 0..{{self.limit}}")
        self.amounts.append(amount)
        return self.{ctx.total}()

    def {ctx.total}(self) -> int:
        return sum(self.amounts)
''')
    a, b = ctx.ints(2, 1, 25)
    ctx.tests.import_from(ctx.defining, o)
    ctx.add_test("basic", f'book = {o}("main", 50)', f"assert book.{ctx.add}({a}) == {a}",
                 f"assert book.{ctx.add}({b}) == {a + b}", f"assert book.{ctx.total}() == {a + b}",
                 "assert book.limit == 50", "try:", f"    book.{ctx.add}(-1)", "except ValueError:",
                 "    pass", "else:", '    raise AssertionError("a negative amount was accepted")')


def _define_function(ctx: Context, mod: Module, present: set[str]) -> None:
    o = ctx.old
    pre = f"    values = _{o}_inputs(values)\n" if "inputs" in present else ""
    body = "\n".join("    " + line for line in ctx.body.split(";"))
    source = (f'def {o}(values: list[int], scale: int = 1) -> int:\n'
              f'    """Reduce ``values`` to one figure, multiplied by ``scale``."""\n{pre}{body}\n')
    mod.blocks.append(source)
    # Run our own template to get expected values; the stand-in for ``_{old}_inputs``
    # mirrors its template below (a divergence makes the generated tests fail).
    namespace: dict[str, Any] = {"_" + o + "_inputs": lambda vs: [v for v in vs if v >= 0]}
    exec(compile(source, "<rename_symbol reference>", "exec"), namespace)
    ctx.ref = namespace[o]
    ctx.tests.import_from(ctx.defining, o)
    v1, v2 = ctx.ints(5), ctx.ints(4)
    ctx.add_test("basic", f"assert {o}({v1}) == {ctx.ref(v1)}", f"assert {o}({v2}, 3) == {ctx.ref(v2, 3)}",
                 f"assert {o}([]) == {ctx.ref([])}")


# -- near-misses --------------------------------------------------------------------------
@dataclass(frozen=True)
class NearMiss:
    key: str
    pattern: str  # "{old}Error"
    in_defining_module: bool
    define: Callable[[Context, Module, str], None]
    consume: Callable[[Context, Module, str], None]
    test: Callable[[Context, str], None]


def _import_old(ctx: Context, mod: Module) -> None:
    if mod.name != ctx.defining:
        mod.import_from(ctx.defining, ctx.old)


def _near(key: str, pattern: str, in_defining: bool, source: str, consumer: str | None,
          test_lines: Callable[[Context, str], list[str]], needs_old: bool = True,
          std: str = "") -> NearMiss:
    """A near-miss from source templates ({o} old, {n} near-miss, {fn} fresh, {a}/{t} methods)."""

    def fill(ctx: Context, text: str, fn: str = "") -> str:
        return text.format(o=ctx.old, n=pattern.format(old=ctx.old), fn=fn, a=ctx.add, t=ctx.total,
                           memo=f"_MEMO_{pick(ctx.rng, NOUNS).upper()}")

    def define(ctx: Context, mod: Module, home: str) -> None:
        if std:
            mod.import_std(std)
        if needs_old:
            _import_old(ctx, mod)
        if in_defining:
            mod.blocks.insert(0, fill(ctx, source))
        else:
            mod.blocks.append(fill(ctx, source))

    def consume(ctx: Context, mod: Module, home: str) -> None:
        if consumer is None:
            return
        name = pattern.format(old=ctx.old)
        mod.import_from(home, name)
        if "{o}" in consumer:
            _import_old(ctx, mod)
        mod.blocks.append(fill(ctx, consumer, ctx.namer.function()))

    def test(ctx: Context, home: str) -> None:
        ctx.tests.import_from(home, pattern.format(old=ctx.old))
        ctx.add_test(key, *test_lines(ctx, pattern.format(old=ctx.old)))

    return NearMiss(key, pattern, in_defining, define, consume, test)


CLASS_NEAR_MISSES = (
    _near("error", "{old}Error", True, '''class {n}(ValueError):
    """Raised when an amount does not fit a {o}."""
''', '''def {fn}(book: {o}, amount: int) -> int:
    """Add ``amount`` if it fits; -1 when the {o} refuses it."""
    try:
        return book.{a}(amount)
    except {n}:
        return -1
''', lambda c, n: [f'book = {c.old}("strict", 5)', "try:", f"    book.{c.add}(9)", f"except {n} as exc:",
                   '    assert "outside" in str(exc)', "else:",
                   '    raise AssertionError("an amount above the limit was accepted")',
                   f"assert issubclass({n}, ValueError)"], needs_old=False),
    _near("base", "Base{old}", True, '''class {n}:
    """Behaviour shared by every account-like container."""

    name: str

    def {t}(self) -> int:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{{self.name}}:{{self.{t}()}}"
''', '''def {fn}(books: list[{n}]) -> list[str]:
    """One line per book, for the daily summary."""
    return [book.describe() for book in books]
''', lambda c, n: [f'book = {c.old}("desk", 50)', f"book.{c.add}(4)", f"assert isinstance(book, {n})",
                   'assert book.describe() == "desk:4"'], needs_old=False),
    _near("cached", "Cached{old}", False, '''class {n}({o}):
    """A {o} that remembers the last total it reported."""

    def __init__(self, name: str = "cached", limit: int = 100) -> None:
        super().__init__(name, limit)
        self.last_total = 0

    def {t}(self) -> int:
        self.last_total = super().{t}()
        return self.last_total
''', '''def {fn}() -> {n}:
    """The shared cached book of this module."""
    return {n}("shared")
''', lambda c, n: [f"book = {n}()", f"book.{c.add}(6)", f"assert book.{c.total}() == 6",
                   "assert book.last_total == 6"]),
    _near("entry", "{old}Entry", False, '''class {n}:
    """One labelled amount, as a {o} would store it."""

    def __init__(self, label: str, amount: int) -> None:
        self.label = label
        self.amount = amount

    def signed(self) -> int:
        return -self.amount if self.label.startswith("-") else self.amount
''', '''def {fn}(entries: list[{n}]) -> int:
    """Net amount of the entries."""
    return sum(entry.signed() for entry in entries)
''', lambda c, n: [f'assert {n}("-fee", 5).signed() == -5', f'assert {n}("sale", 7).signed() == 7'],
        needs_old=False),
    _near("view", "{old}View", False, '''class {n}:
    """Read-only summary of a {o}."""

    def __init__(self, source: {o}) -> None:
        self.source = source

    def peak(self) -> int:
        return max(self.source.amounts, default=0)
''', '''def {fn}(view: {n}) -> int:
    """The peak amount, or zero for an empty book."""
    return view.peak()
''', lambda c, n: [f"book = {c.old}()", f"book.{c.add}(3)", f"book.{c.add}(8)",
                   f"assert {n}(book).peak() == 8"]),
    _near("config", "{old}Config", False, '''@dataclass(frozen=True)
class {n}:
    """Settings a {o} is built from."""

    name: str = "configured"
    limit: int = 50

    def build(self) -> {o}:
        return {o}(self.name, self.limit)
''', '''DEFAULT_SETTINGS = {n}()
''', lambda c, n: [f"assert {n}(limit=7).build().limit == 7", f'assert {n}().build().name == "configured"'],
        std="from dataclasses import dataclass"),
)


def _fn_tests(key: str) -> Callable[[Context, str], list[str]]:
    def lines(c: Context, n: str) -> list[str]:
        assert c.ref is not None
        v, w = c.ints(5), c.ints(3)
        if key == "inputs":
            return [f"assert {n}([-2, 5, 0]) == [5, 0]", f"assert {c.old}([-50] + {v}) == {c.ref([-50] + v)}"]
        if key == "cached":
            return [f"assert {n}({v}) == {c.ref(v)}", f"assert {n}({v}) == {c.ref(v)}"]
        if key == "many":
            return [f"assert {n}([{v}, {w}], 2) == {[c.ref(v, 2), c.ref(w, 2)]}", f"assert {n}([]) == []"]
        if key == "strict":
            return [f"assert {n}({v}, 2) == {c.ref(v, 2)}", "try:", f"    {n}([])", "except ValueError:",
                    "    pass", "else:", '    raise AssertionError("an empty input was accepted")']
        weighted = [a * b for a, b in zip(v, w, strict=False)]
        return [f"assert {n}({v}, {w}) == {c.ref(weighted)}"]

    return lines


FUNCTION_NEAR_MISSES = (
    _near("inputs", "_{old}_inputs", True, '''def {n}(values: list[int]) -> list[int]:
    """The readings {o} works on: negative ones are dropped."""
    return [item for item in values if item >= 0]
''', None, _fn_tests("inputs"), needs_old=False),
    _near("cached", "{old}_cached", False, '''{memo}: dict[tuple[int, ...], int] = {{}}


def {n}(values: list[int]) -> int:
    """{o} of ``values``, remembered per distinct input."""
    key = tuple(values)
    if key not in {memo}:
        {memo}[key] = {o}(values)
    return {memo}[key]
''', '''def {fn}(values: list[int]) -> int:
    """Cached figure of the whole input plus that of its first reading."""
    return {n}(values) + {n}(values[:1])
''', _fn_tests("cached")),
    _near("many", "{old}_many", False, '''def {n}(groups: list[list[int]], scale: int = 1) -> list[int]:
    """{o} of each group."""
    return [{o}(group, scale) for group in groups]
''', '''def {fn}(groups: list[list[int]]) -> int:
    """The sum of the per-group figures."""
    return sum({n}(groups))
''', _fn_tests("many")),
    _near("strict", "{old}_strict", False, '''def {n}(values: list[int], scale: int = 1) -> int:
    """Like {o}, but an empty input is an error rather than zero."""
    if not values:
        raise ValueError("no values given")
    return {o}(values, scale)
''', '''def {fn}(values: list[int]) -> int:
    """The strict figure, or -1 when there is nothing to measure."""
    try:
        return {n}(values)
    except ValueError:
        return -1
''', _fn_tests("strict")),
    _near("weighted", "weighted_{old}", False, '''def {n}(values: list[int], weights: list[int]) -> int:
    """{o} of the values, each multiplied by its weight first."""
    return {o}([item * weight for item, weight in zip(values, weights)])
''', '''def {fn}(values: list[int]) -> int:
    """Weights rise with position: later readings count more."""
    return {n}(values, list(range(1, len(values) + 1)))
''', _fn_tests("weighted")),
)


# -- the test module ----------------------------------------------------------------------
def finish_tests(ctx: Context, modules: list[str]) -> None:
    ctx.tests.import_std("import importlib")
    listing = "".join(f'    "{m}",\n' for m in modules)
    ctx.tests.blocks.append(f"# Every module must import: {ctx.old} is used all over the package.\n"
                            f"MODULES = (\n{listing})\n")
    ctx.add_test("imports", "for name in MODULES:",
                 f'    assert importlib.import_module(f"{ctx.pkg}.{{name}}") is not None')
    for group, lines in ctx.groups.items():
        ctx.tests.blocks.append(f"def {ctx.namer.claim(TEST_NAMES[group])}() -> None:\n"
                                + _indent("\n".join(lines)) + "\n")
