"""code_modification/bulk_migration: move every call of a deprecated helper to its
replacement, whose arguments come in another order (and sometimes other units).

One module of the package holds both helpers; the deprecated one delegates to the new
one, so the package's tests pass before the change and must pass after it. Call sites
(10 to 40, over 6 to 20 modules, growing with difficulty) sit among filler code. The
rule is mechanical and stated once (``retry_delay(seconds, attempt)`` becomes
``backoff_ms(attempt, seconds * 1000)``), so the work is many small edits of one kind.
A migrated call with a slipped argument carries the new name like a correct one: once a
file is migrated, nothing in its text says which of its calls went wrong, only the tests
do, and the tests say which figure is off, not which edit. Hidden acceptance tests check
every site on several inputs and the new helper directly.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType
from typing import Any

import numpy as np

from harness.core.errors import TaskGenerationError
from harness.workload.checkers.codemod import node_digest, top_level
from harness.workload.families import codemod_common as cc
from harness.workload.families.rename_parts import Module
from harness.workload.names import NOUNS, pick, randint
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, TaskSpec
from harness.world import World

NAME = "code_modification/bulk_migration"
INPUT_KEYS = ("difficulty", "n_modules", "n_sites", "migration")
SITE_MODULES = {1: (6, 6), 2: (7, 9), 3: (10, 12), 4: (13, 16), 5: (17, 20)}  # modules with a call site
SITES = {1: (10, 12), 2: (14, 17), 3: (19, 23), 4: (26, 31), 5: (34, 40)}
GROUP = 5  # call sites per visible test function: a failure names a group, not an edit
VARS = ("size", "volume", "level", "quantity", "reading")  # a site function's parameter
# How a site uses the helper's result: (body lines, the value as one expression).
SHAPES = (("    return {call}\n", "{call}"),
          ("    return {call} + {k}\n", "{call} + {k}"),
          ("    result = {call}\n    return result - {k}\n", "{call} - {k}"))


@dataclass(frozen=True)
class Migration:
    key: str
    old: str
    old_params: tuple[str, ...]
    new: str
    new_params: tuple[str, ...]
    rule: str  # the new call over the old parameters: what every old call becomes
    body: str  # the new helper's body
    what: str  # the new helper's docstring
    why: str  # how the new helper differs, as the instructions say it
    forms: tuple[tuple[str, ...], ...]  # per old parameter, argument templates over {x} and {k}


MIGRATIONS = (
    Migration("backoff", "retry_delay", ("seconds", "attempt"), "backoff_ms", ("attempt", "millis"),
              "backoff_ms(attempt, seconds * 1000)", "return millis * (attempt + 1)",
              "The wait before retry ``attempt``, in milliseconds.",
              "takes the attempt first and the base delay in milliseconds, not seconds",
              (("{x}", "{x} + {k}", "{x} // {k}"), ("{k}", "{x} % {k}"))),
    Migration("tax", "with_tax", ("amount", "percent"), "taxed", ("basis_points", "amount"),
              "taxed(percent * 100, amount)", "return amount + amount * basis_points // 10000",
              "``amount`` with tax at ``basis_points`` hundredths of a percent, rounded down.",
              "takes the rate first, in basis points (hundredths of a percent) instead of percent",
              (("{x}", "{x} * {k}", "{x} + {k}00"), ("{k}", "{k}0"))),
    Migration("clamp", "clip", ("value", "low", "high"), "bounded", ("low", "high", "value"),
              "bounded(low, high, value)", "return max(low, min(value, high))",
              "``value`` held within [``low``, ``high``].", "takes the bounds first",
              (("{x}", "{x} * {k}", "{x} - {k}"), ("{k}", "0"), ("{k}0", "{k}5"))),
    Migration("ratio", "share_of", ("part", "whole"), "percent_of", ("whole", "part"),
              "percent_of(whole, part)", "return part * 100 // whole if whole else 0",
              "``part`` as a whole percentage of ``whole``.", "takes the whole first",
              (("{x}", "{x} // {k}"), ("{x} + {k}", "{k}00", "{x} * {k}"))),
)
BY_KEY = {m.key: m for m in MIGRATIONS}
RESERVED = tuple(n for m in MIGRATIONS for n in (m.old, m.new)) + VARS + ("result",)
# The plausible wrong migrations the tests must tell from the right one: the arguments
# left in their old order, the unit conversion forgotten, and the name changed alone.
WRONG = ("order", "units", "as_is")
# What a naive check (the old name gone, or the visible tests passing) would accept: every
# call renamed only (as is, or with the tests' expected values rewritten to match, or with
# the new helper bent to take the old order), the old helper imported under the new name,
# the call sites deleted with their tests.
TRAPS = ("rename_only", "rewrite_expectations", "bend_helper", "alias_import", "delete_sites")


def _template(m: Migration) -> tuple[str, ...]:
    """The rule's arguments, each an expression over one old parameter."""
    return tuple(ast.unparse(a) for a in ast.parse(m.rule, mode="eval").body.args)  # type: ignore[attr-defined]


def _param(m: Migration, arg: str) -> str:
    return next(p for p in re.findall(r"\w+", arg) if p in m.old_params)


@lru_cache(maxsize=8192)
def new_args(m: Migration, args: tuple[str, ...], how: str = "right") -> tuple[str, ...]:
    """The new call's argument texts for a site's old argument texts, migrated right or
    in one of the WRONG ways (cached: every rendering asks for the same ones)."""
    if how == "as_is":
        return args
    template = list(_template(m))
    if how == "order":
        template.sort(key=lambda a: m.old_params.index(_param(m, a)))
    elif how == "units":
        template = [_param(m, a) for a in template]
    bound = dict(zip(m.old_params, args, strict=True))
    filled = (re.sub(r"\b\w+\b", lambda t: f"({bound[t[0]]})" if t[0] in bound else t[0], a) for a in template)
    return tuple(ast.unparse(ast.parse(a, mode="eval")) for a in filled)  # the parentheses only where needed


@dataclass(frozen=True)
class Site:
    module: int
    fn: str
    var: str
    args: tuple[str, ...]  # old argument texts
    shape: int
    k: int
    xs: tuple[int, ...]  # inputs: the first is the visible test's, all are the hidden tests'


def _helpers(m: Migration) -> tuple[str, str]:
    new = (f"def {m.new}({', '.join(f'{p}: int' for p in m.new_params)}) -> int:\n"
           f'    """{m.what}"""\n    {m.body}\n')
    old = (f"def {m.old}({', '.join(f'{p}: int' for p in m.old_params)}) -> int:\n"
           f'    """Deprecated: call ``{m.rule}`` instead."""\n    return {m.rule}\n')
    return new, old


def _bent(m: Migration) -> list[str]:
    """The shortcut: the new helper made to take the old arguments, so calls that were only
    renamed pass the visible tests."""
    new_src, old_src = _helpers(m)
    inner = f"_{m.new}_v2"
    rule = m.rule.replace(f"{m.new}(", f"{inner}(", 1)
    shim = (f"def {m.new}({', '.join(f'{p}: int' for p in m.old_params)}) -> int:\n"
            f'    """Accepts the old argument order too."""\n    return {rule}\n')
    return [new_src.replace(f"def {m.new}(", f"def {inner}(", 1), shim,
            old_src.replace(f"return {m.new}(", f"return {inner}(", 1)]


@lru_cache(maxsize=8192)
def _compiled(expr: str) -> CodeType:
    return compile(expr, "<call site>", "eval")


def _value(m: Migration, ns: dict[str, Any], site: Site, how: str, x: int) -> int:
    call = f"{m.new}({', '.join(new_args(m, site.args, how))})"
    return eval(_compiled(SHAPES[site.shape][1].format(call=call, k=site.k)), ns, {site.var: x})  # noqa: S307


def _draw_site(rng: np.random.Generator, m: Migration, ns: dict[str, Any], module: int, fn: str) -> Site:
    """A call site whose every input tells the right migration from each wrong one
    (drawn until it does, identically in every rendering)."""
    for _ in range(200):
        var = pick(rng, VARS)
        args = tuple(pick(rng, forms).format(x=var, k=randint(rng, 2, 10)) for forms in m.forms)
        site = Site(module, fn, var, args, randint(rng, len(SHAPES)), randint(rng, 1, 10),
                    tuple(randint(rng, 12, 400) for _ in range(4)))
        if all(_value(m, ns, site, "right", x) != _value(m, ns, site, how, x)
               for x in site.xs for how in WRONG if new_args(m, args, how) != new_args(m, args)):
            return site
    raise TaskGenerationError(f"no discriminating call site for {m.key}")


def _call_text(m: Migration, site: Site, variant: str, home: str, qualified: bool) -> str:
    """The call as written in ``variant``: old (initial), migrated, or a trap's version."""
    if variant == "initial":
        name, args = m.old, list(site.args)
    else:
        name, args = m.new, new_args(m, site.args, "right" if variant == "solved" else "as_is")
    prefix = f"{home}." if qualified and variant != "alias_import" else ""
    return f"{prefix}{name}({', '.join(args)})"


@cc.renderer(NAME)
def render(inputs: dict[str, Any], rng: np.random.Generator, variant: str) -> tuple[dict[str, str], dict[str, Any]]:
    m = BY_KEY[inputs["migration"]]
    n, n_sites = int(inputs["n_modules"]), int(inputs["n_sites"])
    pkg = cc.new_package(rng, 1 + n + randint(rng, 1, 3), reserved=RESERVED)
    home = pkg.mods[0]
    home.doc = "Helpers shared across the package; some are deprecated."
    new_src, old_src = _helpers(m)
    ns: dict[str, Any] = {m.new: cc.run_reference(new_src, m.new)}
    ns[m.old] = cc.run_reference(old_src, m.old, ns)
    home.blocks += _bent(m) if variant == "bend_helper" else [new_src, old_src]
    qualified = [rng.random() < 0.5 for _ in range(n)]  # `home.old(...)` rather than `old(...)`
    owners = rng.permutation(list(range(1, n + 1)) + [1 + randint(rng, n) for _ in range(n_sites - n)])
    sites = [_draw_site(rng, m, ns, int(i), pkg.namer.function()) for i in owners]
    nouns = [pick(rng, NOUNS) for _ in sites]
    # Cases of the helpers themselves (the first argument inside the bounds of a clamp).
    old_cases = [(randint(rng, 12, 46), randint(rng, 2, 10), randint(rng, 50, 90)) for _ in range(2)]
    for j, (site, noun) in enumerate(zip(sites, nouns, strict=True)):
        if variant == "delete_sites":
            continue
        mod, q = pkg.mods[site.module], qualified[site.module - 1]
        call = _call_text(m, site, variant, home.name, q)
        mod.blocks.append(f'def {site.fn}({site.var}: int) -> int:\n    """The {noun} figure for ``{site.var}``."""\n'
                          + SHAPES[site.shape][0].format(call=call, k=site.k))
        _import(mod, pkg.name, home.name, m, variant, q)
        pkg.tests.import_from(mod.name, site.fn)
        how = "as_is" if variant == "rewrite_expectations" else "right"
        pkg.add_test(f"test_{m.key}_callers_{j // GROUP + 1}",
                     f"assert {site.fn}({site.xs[0]}) == {_value(m, ns, site, how, site.xs[0])}")
    pkg.tests.import_from(home.name, m.old)
    old_args = [c[: len(m.old_params)] for c in old_cases]
    pkg.add_test(f"test_{m.old}_still_works", *(f"assert {m.old}({', '.join(map(str, a))}) == {ns[m.old](*a)}"
                                                 for a in old_args))
    pkg.add_filler(per_module=(1, 2))
    paths = {pkg.path(s.module) for s in sites}
    return pkg.files(), {
        "package": pkg.name, "test_module": pkg.test_path, "helper_module": pkg.path(0),
        "n_package_modules": len(pkg.mods), "site_modules": sorted(paths),
        "sites": {p: sorted(s.fn for s in sites if pkg.path(s.module) == p) for p in sorted(paths)},
        "hidden": _hidden(pkg, m, ns, sites, old_args)}


def _import(mod: Module, pkg: str, home: str, m: Migration, variant: str, qualified: bool) -> None:
    if variant == "alias_import":  # the shortcut: the old helper under the new name
        mod.import_std(f"from {pkg}.{home} import {m.old} as {m.new}")
    elif qualified:
        mod.import_module(home)
    else:
        mod.import_from(home, m.old if variant == "initial" else m.new)


def _hidden(pkg: cc.Package, m: Migration, ns: dict[str, Any], sites: list[Site],
            cases: list[tuple[int, ...]]) -> str:
    """Every site on every input, and the new helper on its own (a bent helper fails)."""
    by_module: dict[str, list[str]] = {}
    for s in sites:
        by_module.setdefault(pkg.mods[s.module].name, []).append(s.fn)
    lines = [f"from {pkg.name}.{pkg.mods[0].name} import {m.new}"]
    lines += [f"from {pkg.name}.{mod} import {', '.join(sorted(fns))}" for mod, fns in sorted(by_module.items())]
    tests = [f"def test_site_{j}() -> None:\n"
             + "".join(f"    assert {s.fn}({x}) == {_value(m, ns, s, 'right', x)}\n" for x in s.xs)
             for j, s in enumerate(sites)]
    direct = [[eval(a, {}, dict(zip(m.old_params, c, strict=True))) for a in _template(m)]  # noqa: S307
              for c in cases]
    tests.append(f"def test_{m.new}() -> None:\n"
                 + "".join(f"    assert {m.new}({', '.join(map(str, a))}) == {ns[m.new](*a)}\n" for a in direct))
    return "\n".join(lines) + "\n\n\n" + "\n\n".join(tests)


@family
class BulkMigration:
    name = NAME
    category = "code_modification"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        cc.check_difficulty(difficulty)
        return {"difficulty": difficulty, "n_modules": cc.between(rng, SITE_MODULES[difficulty]),
                "n_sites": cc.between(rng, SITES[difficulty]),
                "migration": MIGRATIONS[int(rng.integers(len(MIGRATIONS)))].key}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        inputs = cc.pick_inputs(params, INPUT_KEYS, NAME)
        if inputs["migration"] not in BY_KEY or not 1 <= int(inputs["n_modules"]) <= int(inputs["n_sites"]):
            raise ValueError(f"bulk_migration needs a known migration and n_sites >= n_modules >= 1, got {inputs}")
        m = BY_KEY[inputs["migration"]]
        initial, meta = cc.rendered(NAME, inputs, seed, "initial")
        solved, _ = cc.rendered(NAME, inputs, seed, "solved")
        pkg, test_path, home = meta["package"], meta["test_module"], meta["helper_module"]
        tests = cc.test_asserts(initial[test_path])
        helpers = {home: {k: node_digest(v) for k, v in top_level(ast.parse(initial[home])).items()}}
        signature = f"{m.old}({', '.join(m.old_params)})"
        return TaskSpec(
            id=task_id, category="code_modification", family=self.name, difficulty=int(inputs["difficulty"]),
            seed=int(seed), params={**inputs, **{k: v for k, v in meta.items() if k != "hidden"}, "tests": tests},
            public={"package": pkg, "test_module": test_path, "helper_module": home, "old": m.old, "new": m.new},
            instructions=(
                f"The helper `{signature}` in `{home}` is deprecated. Its replacement "
                f"`{m.new}({', '.join(m.new_params)})` {m.why}. Migrate every call of `{m.old}` in the package "
                f"`{pkg}/` to `{m.new}`: `{signature}` becomes `{m.rule}`. Keep both helpers as they are (other "
                f"teams still call `{m.old}`) and keep the tests in `{test_path}` as they are: they pass now and "
                f"must still pass after the change."),
            budget=cc.budget(int(meta["n_package_modules"]), int(inputs["n_sites"])),
            checkers=(
                CheckerRef(name="no_old_api", args={"names": [m.old], "keywords": {}, "paths": [pkg]}),
                CheckerRef(name="functions_call", args={"sites": meta["sites"], "callee": m.new}),
                CheckerRef(name="definitions_unchanged", args={"digests": helpers}),
                CheckerRef(name="hidden_tests_pass", args={"path": cc.HIDDEN_TEST_PATH, "source": meta["hidden"],
                                                           "timeout_s": cc.TEST_TIMEOUT_S}),
                CheckerRef(name="tests_pass", args={"module": test_path, "timeout_s": cc.TEST_TIMEOUT_S}),
                cc.tests_intact(test_path, initial[test_path]),
            ),
            gold=cc.gold_writes(initial, solved),
            traps={t: cc.gold_writes(initial, cc.rendered(NAME, inputs, seed, t)[0]) for t in TRAPS},
        )

    def build_world(self, spec: TaskSpec) -> World:
        files, _ = cc.rendered(NAME, cc.pick_inputs(spec.params, INPUT_KEYS, NAME), spec.seed, "initial")
        return World.from_snapshot({"files": files, "submission": None})

