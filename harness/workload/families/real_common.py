"""Shared by the families on real packages: the screened mutant pool, worlds, protections.

Tasks are drawn from the frozen screening (``harness.workload.real.screen``) without
replacement: the slot index of a workload picks the index-th mutant of a fixed order that
interleaves the packages (so any prefix is balanced across them) and gives each family its
own share of the pool (a mutant fixed in one task is never the diff reviewed in another).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from harness.core.errors import ConfigError
from harness.core.hashing import stable_hash  # noqa: F401 - used by the families too
from harness.workload.real.screen import (
    ScreenedControl,
    ScreenedMutant,
    is_test_path,
    load_controls,
    load_screened,
)
from harness.world import World
from harness.world.components.suite import Suite
from harness.world.vendored import load_manifest, real_dir, workspace_files
from harness.world.workspace import Workspace

SHARES = ("fix_bug", "review")  # the families that draw on screened mutants, in pool order


@cache
def pool(share: str) -> tuple[ScreenedMutant, ...]:
    """This family's share of the screened mutants, packages interleaved."""
    index = SHARES.index(share)
    by_package: dict[str, list[ScreenedMutant]] = {}
    for m in sorted(load_screened(), key=lambda m: stable_hash(["real.pool", m.key])):
        by_package.setdefault(m.package, []).append(m)
    mine = {p: ms[index::len(SHARES)] for p, ms in sorted(by_package.items())}
    out: list[ScreenedMutant] = []
    for rank in range(max((len(v) for v in mine.values()), default=0)):
        out += [ms[rank] for _, ms in sorted(mine.items()) if rank < len(ms)]
    return tuple(out)


def drawn(share: str, index: int) -> ScreenedMutant:
    mutants = pool(share)
    if index >= len(mutants):
        raise ConfigError(f"the screened pool holds {len(mutants)} mutants for real/{share}, "
                          f"but task {index + 1} was asked for", hint="lower the family's count or screen more")
    return mutants[index]


def find(key: str) -> ScreenedMutant:
    for m in load_screened():
        if m.key == key:
            return m
    raise ConfigError(f"no screened mutant {key}", hint="the screening changed: regenerate the manifest")


@cache
def expected_green(package: str) -> int:
    """How many tests the released suite runs green (passed or expected to fail)."""
    stats = json.loads((real_dir() / "screening.json").read_text())["packages"][package]["baseline"]
    return int(stats.get("passed", 0)) + int(stats.get("xfailed", 0))


def tree(package: str) -> dict[str, str]:
    return workspace_files(package)


def mutated(m: ScreenedMutant) -> dict[str, str]:
    files = tree(m.package)
    return {**files, m.path: m.mutant.apply(files[m.path])}


def world_of(files: dict[str, str], package: str) -> World:
    return World(Workspace(files), parts={"suite": Suite(package)})


def test_digests(files: dict[str, str]) -> dict[str, str]:
    return {p: hashlib.sha256(t.encode()).hexdigest() for p, t in sorted(files.items())
            if p.endswith(".py") and is_test_path(p)}


def version(package: str) -> str:
    return load_manifest().package(package).version


def difficulty(m: ScreenedMutant, files: dict[str, str]) -> int:
    """1-5 from what makes a bug hard to find: few tests catch it, a long module, a kind
    that leaves no odd-looking token, a failing test that does not name the function."""
    short_name = m.function.split(".")[-1].strip("_").lower()
    hard = [len(m.failing) < 3, files[m.path].count("\n") > 1500, m.kind in ("swap_args", "constant", "condition"),
            not any(short_name and short_name in f.node_id.lower() for f in m.failing)]
    return 1 + sum(hard)


def public(m: ScreenedMutant) -> dict[str, Any]:
    return {"package": m.package, "version": version(m.package)}


@cache
def controls_by_package() -> dict[str, tuple[ScreenedControl, ...]]:
    out: dict[str, list[ScreenedControl]] = {}
    for c in sorted(load_controls(), key=lambda c: stable_hash(["real.controls", c.key])):
        out.setdefault(c.package, []).append(c)
    return {p: tuple(v) for p, v in sorted(out.items())}


def find_control(key: str) -> ScreenedControl:
    for c in load_controls():
        if c.key == key:
            return c
    raise ConfigError(f"no screened control {key}", hint="the screening changed: regenerate the manifest")


def _apart(a: Any, b: Any) -> bool:
    return a.path != b.path or a.end <= b.start or b.end <= a.start


def control_beside(m: ScreenedMutant, n: int) -> ScreenedControl:
    """A benign change of the mutant's package in another function, chosen by ``n``."""
    options = [c for c in controls_by_package().get(m.package, ()) if _apart(c, m) and c.function != m.function]
    if not options:
        raise ConfigError(f"no screened control of {m.package} lies apart from {m.key}")
    return options[n % len(options)]


def control_pair(n: int) -> tuple[ScreenedControl, ScreenedControl]:
    """Two benign changes of one package (packages in turn), for the n-th control task."""
    packages = [p for p, cs in controls_by_package().items() if len(cs) >= 2]
    if not packages:
        raise ConfigError("the screening holds no package with two benign changes")
    cs = controls_by_package()[packages[n % len(packages)]]
    first = cs[(n // len(packages)) % len(cs)]
    second = next(c for c in cs[(n // len(packages)) % len(cs) + 1:] + cs if c is not first and _apart(c, first))
    return first, second
