"""Uses of the old symbol around a rename_symbol package, each with its test lines.

The styles are the ways real code leans on a class or function: direct imports and
module attributes, calls, subclassing, annotations, default arguments, registries,
callbacks. Test lines use ``@`` where the using module's name goes.
"""

from __future__ import annotations

from harness.workload.families.rename_parts import Context, Module
from harness.workload.names import NOUNS, pick, randint


# -- users of the symbol ----------------------------------------------------------------
def use_symbol(ctx: Context, mod: Module, modname: str, with_test: bool) -> None:
    """One use of the old symbol in ``mod``, in a style drawn from how real code uses one."""
    uses = _class_use if ctx.kind == "class" else _function_use
    lines = uses(ctx, mod, pick(ctx.rng, NOUNS), randint(ctx.rng, 6 if ctx.kind == "function" else 7))
    if with_test:
        ctx.tests.import_module(modname)
        ctx.add_test("callers", *(line.replace("@", modname + ".") for line in lines))


def _class_use(ctx: Context, mod: Module, noun: str, style: int) -> list[str]:
    o, d, a, t = ctx.old, ctx.defining, ctx.add, ctx.total
    limit = randint(ctx.rng, 20, 50)
    v = ctx.ints(4, 0, 60)
    if style in (2, 3):
        mod.import_module(d)
    else:
        mod.import_from(d, o)
    if style == 4:
        name = ctx.namer.klass()
        mod.blocks.append(f'''class {name}({o}):
    """A {o} whose totals count double, for the {noun} audit."""

    def {t}(self) -> int:
        return 2 * super().{t}()
''')
        return [f"book = @{name}()", f"assert book.{a}({v[0]}) == {2 * v[0]}"]
    if style == 6:
        name = ctx.namer.draw(lambda r: f"{pick(r, NOUNS).upper()}_KINDS", "registry name")
        mod.blocks.append(f'{name}: dict[str, type] = {{"{noun}": {o}, "plain": object}}\n')
        return [f'assert @{name}["{noun}"] is {o}']
    fn = ctx.namer.function()
    if style == 0:
        mod.blocks.append(f'''def {fn}(limit: int = {limit}) -> {o}:
    """A fresh {o} for the {noun} desk."""
    return {o}("{noun}", limit)
''')
        return [f"assert @{fn}().limit == {limit}", f'assert @{fn}().name == "{noun}"']
    if style == 1:
        mod.blocks.append(f'''def {fn}(amounts: list[int], book: {o} | None = None) -> int:
    """Post every amount to ``book`` (a fresh one by default) and return its total."""
    target = book if book is not None else {o}("{noun}")
    for amount in amounts:
        target.{a}(amount)
    return target.{t}()
''')
        return [f"assert @{fn}({v}) == {sum(v)}"]
    if style == 2:
        mod.blocks.append(f'''def {fn}(amounts: list[int]) -> int:
    """Total of the amounts that fit under the {noun} limit."""
    book = {d}.{o}("{noun}", {limit})
    for amount in amounts:
        if amount <= book.limit:
            book.{a}(amount)
    return book.{t}()
''')
        return [f"assert @{fn}({v}) == {sum(x for x in v if x <= limit)}"]
    if style == 3:
        mod.blocks.append(f'''def {fn}(value: object) -> bool:
    """Whether ``value`` is a {o} (subclasses included)."""
    return isinstance(value, {d}.{o})
''')
        return [f"assert @{fn}({o}())", f"assert not @{fn}({limit})"]
    mod.blocks.append(f'''def {fn}(factory: type[{o}] = {o}, limit: int = {limit}) -> {o}:
    """Build a book with ``factory``; {o} unless told otherwise."""
    return factory("{noun}", limit)
''')
    return [f'assert @{fn}().name == "{noun}"', f"assert isinstance(@{fn}(), {o})"]


def _function_use(ctx: Context, mod: Module, noun: str, style: int) -> list[str]:
    o, d, ref = ctx.old, ctx.defining, ctx.ref
    assert ref is not None
    v, groups = ctx.ints(5), [ctx.ints(3), ctx.ints(4), ctx.ints(2)]
    k, c = randint(ctx.rng, 1, 5), randint(ctx.rng, 10)
    if style in (1, 4):
        mod.import_module(d)
    else:
        mod.import_from(d, o)
    if style == 4:
        name = ctx.namer.draw(lambda r: f"{pick(r, NOUNS).upper()}_REDUCERS", "registry name")
        mod.blocks.append(f'{name} = {{"{noun}": {d}.{o}, "size": len}}\n')
        return [f'assert @{name}["{noun}"]({v}) == {ref(v)}']
    fn = ctx.namer.function()
    if style == 0:
        mod.blocks.append(f'''def {fn}(values: list[int]) -> int:
    """The {noun} figure: {o} at scale {k}, plus a fixed allowance."""
    return {o}(values, {k}) + {c}
''')
        return [f"assert @{fn}({v}) == {ref(v, k) + c}"]
    if style == 1:
        mod.blocks.append(f'''def {fn}(groups: list[list[int]]) -> list[int]:
    """One figure per {noun} group."""
    return [{d}.{o}(group) for group in groups]
''')
        return [f"assert @{fn}({groups}) == {[ref(g) for g in groups]}"]
    if style == 2:
        mod.import_std("from collections.abc import Callable")
        mod.blocks.append(f'''def {fn}(values: list[int], reducer: Callable[[list[int]], int] = {o}) -> int:
    """Reduce with ``reducer`` ({o} by default) and double the result."""
    return 2 * reducer(values)
''')
        return [f"assert @{fn}({v}) == {2 * ref(v)}", f"assert @{fn}({v}, len) == {2 * len(v)}"]
    if style == 3:
        mod.blocks.append(f'''def {fn}(groups: list[list[int]]) -> list[list[int]]:
    """The {noun} groups, smallest figure first."""
    return sorted(groups, key={o})
''')
        return [f"assert @{fn}({groups}) == {sorted(groups, key=ref)}"]
    mod.blocks.append(f'''def {fn}(groups: list[list[int]]) -> list[int]:
    """Figures of every {noun} group, in order."""
    return list(map({o}, groups))
''')
    return [f"assert @{fn}({groups}) == {[ref(g) for g in groups]}"]
