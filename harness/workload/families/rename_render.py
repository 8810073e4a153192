"""The generated package of one rename_symbol task, rendered from (inputs, seed).

Layout: module 0 defines the old symbol; every other module may import only from
modules before it, so imports never form cycles. Near-miss names (longer names that
contain the old one) are defined and used around the package; stdlib helpers import
standard-library names that contain the old one. The test module exercises all of it and
passes on the initial workspace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.core.hashing import canonical_json, stable_int
from harness.workload.codegen import (
    FUNCTION_STEMS,
    GENERIC_FUNCTION_BODIES,
    filler_class,
    filler_function,
    module_docstring,
    render_helper,
    stems_for,
    uses_for,
)
from harness.workload.families import rename_parts as parts
from harness.workload.families.rename_parts import Module
from harness.workload.families.rename_users import use_symbol
from harness.workload.names import (
    CLASS_TARGETS,
    CLASS_WORDS,
    NOUNS,
    TARGET_VERBS,
    VERBS,
    Namer,
    camel,
    pick,
    plural,
    randint,
)

# How many near-miss names of each kind exist at most (the templates in rename_parts).
MAX_NEAR_MISSES = {"class": len(parts.CLASS_NEAR_MISSES), "function": len(parts.FUNCTION_NEAR_MISSES)}


@dataclass
class Rendered:
    files: dict[str, str]
    meta: dict[str, Any]


def generator_for(inputs: dict[str, Any], seed: int) -> np.random.Generator:
    """Draws depend on the seed and on every input, never on the task id or the process."""
    entropy = [int(seed) & 0xFFFFFFFFFFFFFFFF, stable_int(canonical_json(inputs))]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def _choose_names(rng: np.random.Generator, kind: str, n_stdlib: int) -> tuple[str, str, list, str]:
    """(old, new, stdlib uses, old-function body) for this task."""
    if n_stdlib > 0:
        old = pick(rng, stems_for(kind))
        candidates = uses_for(kind, old)
        uses = [candidates[randint(rng, len(candidates))] for _ in range(n_stdlib)]
        if kind == "class":
            return old, pick(rng, CLASS_TARGETS), uses, ""
        body, targets = FUNCTION_STEMS[old]
        return old, pick(rng, targets), uses, body
    if kind == "class":
        old, new = pick(rng, CLASS_WORDS), pick(rng, CLASS_TARGETS)
        if rng.random() < 0.3:
            prefix = camel(pick(rng, [w for w in NOUNS if w != old.lower()]))
            old, new = prefix + old, prefix + new
        return old, new, [], ""
    noun = plural(pick(rng, NOUNS))
    old, new = f"{pick(rng, VERBS)}_{noun}", f"{pick(rng, TARGET_VERBS)}_{noun}"
    return old, new, [], pick(rng, GENERIC_FUNCTION_BODIES)


def render(inputs: dict[str, Any], seed: int) -> Rendered:
    rng = generator_for(inputs, seed)
    kind, n = inputs["kind"], int(inputs["n_modules"])
    old, new, uses, body = _choose_names(rng, kind, int(inputs["n_stdlib_uses"]))
    namer = Namer(rng, reserved=(old, new))
    pkg = namer.package()
    names = [namer.module() for _ in range(n)]
    mods = [Module(name, module_docstring(rng, name)) for name in names]
    mods[0].doc = f"Home of {old}, and of the helpers closest to it."
    tests = Module(f"test_{pkg}", f"Tests of the {pkg} package.")
    ctx = parts.Context(pkg=pkg, kind=kind, old=old, defining=names[0], rng=rng, namer=namer,
                        tests=tests, body=body)

    # Near-misses: forbid names the stdlib helpers already use (and builtins).
    taken = {w for u in uses for line in (*u.imports, *u.body) for w in _words(line)}
    templates = parts.CLASS_NEAR_MISSES if kind == "class" else parts.FUNCTION_NEAR_MISSES
    usable = [t for t in templates if namer.acceptable_near_miss(t.pattern.format(old=old), old, taken)]
    chosen = [usable[i] for i in sorted(rng.permutation(len(usable))[: int(inputs["n_near_misses"])])]
    present = {t.key for t in chosen}
    for t in chosen:
        namer.claim(t.pattern.format(old=old))

    # The symbol itself, then the near-miss definitions (module 0 or a later module) and
    # their consumers, always importing from an earlier module.
    parts.define_symbol(ctx, mods[0], present)
    homes: dict[str, int] = {}
    for t in chosen:
        home = 0 if t.in_defining_module or n < 3 else randint(rng, 1, n - 1)
        homes[t.key] = home
        t.define(ctx, mods[home], names[home])
        for j in sorted({randint(rng, home + 1, n) for _ in range(randint(rng, 1, 3))}):
            t.consume(ctx, mods[j], names[home])
        t.test(ctx, names[home])

    n_users = max(1, round(float(inputs["use_fraction"]) * (n - 1)))
    users = sorted(int(i) + 1 for i in rng.permutation(n - 1)[:n_users])
    tested = set(int(i) for i in rng.permutation(len(users))[: 2 + int(inputs["difficulty"]) // 2])
    for rank, i in enumerate(users):
        use_symbol(ctx, mods[i], names[i], with_test=rank in tested)
        if rng.random() < 0.3:
            mods[i].blocks.append(f"# {old} is imported, never copied, so one fix reaches every caller.\n")

    for u in uses:
        i = randint(rng, n)
        helper = namer.draw(lambda r, verb=u.verb: f"{verb}_{pick(r, NOUNS)}", "helper name")
        for line in u.imports:
            mods[i].import_std(line)
        mods[i].blocks.append(render_helper(helper, u))
        tests.import_from(names[i], helper)
        ctx.add_test("stdlib", f"assert {helper}({u.arg}) == {u.expected}")

    _add_filler(rng, namer, mods, names)
    parts.finish_tests(ctx, names)
    files = {f"{pkg}/__init__.py": f'"""The {pkg} package."""\n\n__version__ = "1.{randint(rng, 20)}.0"\n'}
    files.update({f"{pkg}/{m.name}.py": m.render(pkg) for m in mods})
    test_path = f"tests/test_{pkg}.py"
    files[test_path] = tests.render(pkg)
    meta = {"package": pkg, "old_name": old, "new_name": new, "kind": kind,
            "defining_module": f"{pkg}/{names[0]}.py", "test_module": test_path,
            "modules": names, "user_modules": [names[i] for i in users],
            "near_miss_homes": {t.pattern.format(old=old): f"{pkg}/{names[homes[t.key]]}.py" for t in chosen},
            "stdlib_near_misses": sorted(w for w in taken if old in w and w != old)}
    return Rendered(files, meta)


def _words(line: str) -> set[str]:
    return set(re.findall(r"\w+", line))


def _add_filler(rng: np.random.Generator, namer: Namer, mods: list[Module], names: list[str]) -> None:
    """Bulk code; later modules sometimes build on earlier ones, as real packages do."""
    providers: list[tuple[int, str]] = []  # (module index, int-from-list function)
    for i, mod in enumerate(mods):
        for _ in range(randint(rng, 1, 4)):
            dep = None
            if providers and rng.random() < 0.35:
                j, dep = providers[randint(rng, len(providers))]
                if j == i:
                    pass
                elif rng.random() < 0.5:
                    mod.import_from(names[j], dep)
                else:
                    mod.import_module(names[j])
                    dep = f"{names[j]}.{dep}"
            filler = filler_function(namer, rng, dep)
            mod.blocks.append(filler.source)
            if filler.int_from_list:
                providers.append((i, filler.name))
        if rng.random() < 0.3:
            mod.blocks.append(filler_class(namer, rng).source)
