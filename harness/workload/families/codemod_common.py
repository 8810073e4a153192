"""Shared machinery of the code_modification families beyond rename_symbol.

Each family renders its package twice from the same draws: once as the agent finds it
and once solved. Because both renderings consume the random stream identically, they
differ only where the task is about, and the gold solution is simply "write the solved
text of every file that differs".
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from harness.core.errors import TaskGenerationError
from harness.core.hashing import canonical_json
from harness.workload.codegen import filler_class, filler_function, module_docstring
from harness.workload.deadlines import end_of_day
from harness.workload.families.rename_parts import Module
from harness.workload.families.rename_render import generator_for
from harness.workload.names import Namer, randint
from harness.workload.spec import Budget, CheckerRef, GoldStep
from harness.workload.test_fingerprint import fingerprint_tests
from harness.workload.test_normalise import count_asserts

# Package sizes (modules) by difficulty: smaller than rename_symbol's, because the work
# here is per site, not per file, and a task must build in well under 50 ms.
MODULES = {1: (3, 5), 2: (5, 8), 3: (8, 14), 4: (14, 22), 5: (22, 32)}
TEST_TIMEOUT_S = 10.0
HIDDEN_TEST_PATH = "tests/_hidden_acceptance.py"


def between(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def check_difficulty(difficulty: int) -> None:
    if difficulty not in MODULES:
        raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")


def budget(n_modules: int, n_sites: int) -> Budget:
    """A careful agent surveys the package, edits each site about once and reruns the
    tests a few times: the actions grow with modules and sites, never with a condition;
    the change is due by the end of the working day."""
    return end_of_day(30 + n_modules + 4 * n_sites, "the change")


@dataclass
class Package:
    """A generated package under construction: modules, filler and a test module."""

    rng: np.random.Generator
    namer: Namer
    name: str
    mods: list[Module]
    tests: Module
    groups: dict[str, list[str]] = field(default_factory=dict)
    extra_files: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.mods]

    def path(self, i: int) -> str:
        return f"{self.name}/{self.mods[i].name}.py"

    @property
    def test_path(self) -> str:
        return f"tests/test_{self.name}.py"

    def add_test(self, name: str, *lines: str) -> None:
        self.groups.setdefault(name, []).extend(lines)

    def add_filler(self, per_module: tuple[int, int] = (1, 3)) -> None:
        """Bulk code, drawn identically in both renderings."""
        for mod in self.mods:
            for _ in range(randint(self.rng, per_module[0], per_module[1] + 1)):
                mod.blocks.append(filler_function(self.namer, self.rng).source)
            if self.rng.random() < 0.3:
                mod.blocks.append(filler_class(self.namer, self.rng).source)

    def files(self) -> dict[str, str]:
        for test, lines in self.groups.items():
            self.tests.blocks.append(f"def {test}() -> None:\n" + indent("\n".join(lines)) + "\n")
        self.groups = {}
        files = {f"{self.name}/__init__.py": f'"""The {self.name} package."""\n'}
        files.update({self.path(i): m.render(self.name) for i, m in enumerate(self.mods)})
        files[self.test_path] = self.tests.render(self.name)
        files.update(self.extra_files)
        return files


def new_package(rng: np.random.Generator, n_modules: int, reserved: tuple[str, ...] = ()) -> Package:
    namer = Namer(rng, reserved=reserved)
    pkg = namer.package()
    mods = [Module(name, "") for name in (namer.module() for _ in range(n_modules))]
    for m in mods:
        m.doc = module_docstring(rng, m.name)
    return Package(rng, namer, pkg, mods, Module(f"test_{pkg}", f"Tests of the {pkg} package."))


def indent(text: str, n: int = 4) -> str:
    return "\n".join((" " * n + line) if line else line for line in text.split("\n"))


def run_reference(source: str, name: str, namespace: dict[str, Any] | None = None) -> Callable[..., Any]:
    """Execute a generated function's own source, so expected values can never drift."""
    ns: dict[str, Any] = dict(namespace or {})
    exec(compile(source, "<codemod reference>", "exec"), ns)
    return ns[name]


# -- the two renderings and the gold between them ---------------------------------------
# A renderer gets its inputs, a generator and a variant ("initial", "solved", or a
# family's trap variant) and must draw identically for every variant.
Renderer = Callable[[dict[str, Any], np.random.Generator, str], tuple[dict[str, str], dict[str, Any]]]
_RENDERERS: dict[str, Renderer] = {}


def renderer(family_name: str) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        _RENDERERS[family_name] = fn
        return fn

    return register


@lru_cache(maxsize=128)
def _render(family_name: str, inputs_json: str, seed: int, variant: str) -> tuple[dict[str, str], dict[str, Any]]:
    inputs = json.loads(inputs_json)
    return _RENDERERS[family_name](inputs, generator_for(inputs, seed), variant)


def rendered(family_name: str, inputs: dict[str, Any], seed: int, variant: str) -> tuple[dict[str, str], dict[str, Any]]:
    """(files, meta), cached: callers must copy before mutating."""
    return _render(family_name, canonical_json(inputs), int(seed), variant)


def gold_writes(initial: dict[str, str], solved: dict[str, str]) -> tuple[GoldStep, ...]:
    steps = [GoldStep(op="write", args={"path": p, "text": t})
             for p, t in sorted(solved.items()) if initial.get(p) != t]
    steps += [GoldStep(op="delete", args={"path": p}) for p in sorted(initial) if p not in solved]
    return tuple(steps)


def test_asserts(source: str) -> dict[str, int]:
    tree = ast.parse(source)
    return {n.name: count_asserts(n) for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def tests_intact(test_path: str, source: str, normalise: dict[str, Any] | None = None) -> CheckerRef:
    """The ``tests_intact`` checker of a task whose original test module is ``source``:
    each original test must still be what it was, up to the edits ``normalise`` forgives
    (see ``tests_intact`` for what each family forgives and why)."""
    args: dict[str, Any] = {"module": test_path, "expected": fingerprint_tests(source, normalise)}
    if normalise:
        args["normalise"] = normalise
    return CheckerRef(name="tests_intact", args=args)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def pick_inputs(params: dict[str, Any], keys: tuple[str, ...], family_name: str) -> dict[str, Any]:
    try:
        inputs = {k: params[k] for k in keys}
    except KeyError as exc:
        raise TaskGenerationError(f"{family_name} params lack {exc.args[0]!r}", "build params with sample_params") from None
    check_difficulty(int(inputs["difficulty"]))
    return inputs
