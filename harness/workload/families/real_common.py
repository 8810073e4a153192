"""Shared by the families on real packages: the screened mutant pool, worlds, protections.

Tasks are drawn from the frozen screening (``harness.workload.real.screen``) without
replacement: the slot index of a workload picks the index-th mutant of a fixed order that
interleaves the packages (so any prefix is balanced across them) and gives each family its
own share of the pool (a mutant fixed in one task is never the diff reviewed in another).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import Any, TypeVar

from harness.core.errors import ConfigError
from harness.core.hashing import stable_hash
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

T = TypeVar("T")
SHARES = ("fix_bug", "review")  # the families that draw on screened mutants, in pool order


def interleaved(items: Iterable[T], salt: str) -> tuple[T, ...]:
    """``items`` (each with ``package`` and ``key``) in a fixed order that takes the packages
    in turn, each package's items in an order seeded by ``salt``: any prefix is balanced."""
    by_package: dict[str, list[T]] = {}
    for item in sorted(items, key=lambda i: stable_hash([salt, i.key])):  # type: ignore[attr-defined]
        by_package.setdefault(item.package, []).append(item)  # type: ignore[attr-defined]
    out: list[T] = []
    for rank in range(max((len(v) for v in by_package.values()), default=0)):
        out += [xs[rank] for _, xs in sorted(by_package.items()) if rank < len(xs)]
    return tuple(out)


def nth(pool: tuple[T, ...], index: int, what: str) -> T:
    """The index-th item of a pool; asking past its end is a ConfigError saying so."""
    if index >= len(pool):
        raise ConfigError(f"the screened pool holds {len(pool)} {what}, but task {index + 1} was asked for",
                          hint="lower the family's count or screen more")
    return pool[index]


def by_key(items: Iterable[T], key: str, what: str) -> T:
    for item in items:
        if item.key == key:  # type: ignore[attr-defined]
            return item
    raise ConfigError(f"no screened {what} {key}", hint="the screening changed: regenerate the manifest")


@cache
def pool(share: str) -> tuple[ScreenedMutant, ...]:
    """This family's share of the screened mutants: every other one of each package."""
    index, seen = SHARES.index(share), Counter()
    out = []
    for m in interleaved(load_screened(), "real.pool"):
        if seen[m.package] % len(SHARES) == index:
            out.append(m)
        seen[m.package] += 1
    return tuple(out)


def drawn(share: str, index: int) -> ScreenedMutant:
    return nth(pool(share), index, f"mutants for real/{share}")


def find(key: str) -> ScreenedMutant:
    return by_key(load_screened(), key, "mutant")


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
    return by_key(load_controls(), key, "control")


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
