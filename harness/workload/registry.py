"""The registry of task families: ``@family`` on a class makes it available by name."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from harness.core.errors import ConfigError
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


FAMILIES: dict[str, TaskFamily] = {}


def family(cls: type) -> type:
    instance = cls()
    if instance.name in FAMILIES:
        raise ValueError(f"task family {instance.name!r} registered twice")
    FAMILIES[instance.name] = instance
    return cls


def get_family(name: str) -> TaskFamily:
    _load_builtin_families()
    try:
        return FAMILIES[name]
    except KeyError:
        known = ", ".join(sorted(FAMILIES)) or "none"
        raise ConfigError(f"unknown task family {name!r}; known: {known}") from None


def _load_builtin_families() -> None:
    import harness.workload.families  # noqa: F401 - registers on import
