"""The registry of task families: ``@family`` on a class makes it available by its full name.

``FAMILIES`` finds the families by importing every module of ``harness.workload.families``
on first lookup (a folder scan), so no module imports a family to register it. A family
module is named after the family (``data_analysis/join_pitfalls`` lives in
``join_pitfalls.py``); the package's shared modules (``*_common``, ``rename_*``) register
nothing. Families take no options.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

import numpy as np

from harness.core.registry import NoOptions, Registry
from harness.workload.spec import TaskSpec
from harness.world import World


class TaskFamily(Protocol):
    name: str  # "<category>/<family>", e.g. "code_modification/rename_symbol"
    category: str

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        """Parameters for one task of the given difficulty (1..5)."""

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        """The full spec; deterministic in (params, seed)."""

    def build_world(self, spec: TaskSpec) -> World:
        """The initial world; deterministic in the spec."""


FAMILIES: Registry[TaskFamily] = Registry("task family", plugins="harness.workload.families")

F = TypeVar("F", bound=type)


def family(cls: F) -> F:
    """Register ``cls`` under its ``name``. Families are stateless, so one instance,
    made here, serves every task; a second class with the same name is refused."""
    instance = cls()

    def the_family(options: NoOptions) -> TaskFamily:
        return instance

    the_family.__module__, the_family.__qualname__ = cls.__module__, cls.__qualname__  # named in errors
    FAMILIES.register(instance.name)(the_family)
    return cls


def get_family(name: str, *, where: str = "") -> TaskFamily:
    """The family registered as ``name``; an unknown name is a ConfigError listing the known ones."""
    return FAMILIES.build(name, where=where)
