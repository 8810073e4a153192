"""Workloads: a deterministic, stratified list of TaskSpecs built from family quotas.

The workload seed is its own (not the run's root seed): the task set of a workload is
fixed, and runs with different seeds repeat the same tasks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from harness.core.errors import ConfigError
from harness.core.hashing import stable_hash, stable_int
from harness.core.rng import stream
from harness.workload.manifest import read_manifest
from harness.workload.registry import get_family
from harness.workload.spec import TaskSpec

T = TypeVar("T")


class FamilyQuota(BaseModel):
    """``count`` tasks of one family; a ``scenario`` is a family configured for a deployment
    scenario of S12: its own name (used in task ids), difficulties and parameter overrides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str
    count: int = Field(gt=0)
    difficulties: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    scenario: str | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)


class WorkloadConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    seed: int = 0
    limit: int | None = Field(default=None, gt=0)
    families: list[FamilyQuota]
    # A frozen manifest (relative to the project root); when set, tasks come from it and
    # `families` only says how `harness tasks generate` builds it.
    manifest: str | None = None


@dataclass(frozen=True)
class _Slot:
    """A task before it is generated: enough to select a stratified subset cheaply."""

    family: str
    category: str
    index: int
    difficulty: int
    scenario: str | None = None
    overrides: tuple[tuple[str, Any], ...] = ()

    @property
    def task_id(self) -> str:
        return f"{self.scenario or self.family.split('/')[-1]}-{self.index:04d}"


def build_workload(cfg: WorkloadConfig, base_dir: Path | None = None) -> list[TaskSpec]:
    """The workload's tasks, from its frozen manifest when it names one, else from quotas."""
    if cfg.manifest is not None:
        entries, _ = read_manifest((base_dir or Path.cwd()) / cfg.manifest)
        if cfg.limit is not None and cfg.limit < len(entries):
            entries = _stratified_subset(entries, cfg.limit, cfg.seed, ident=lambda e: e.id)
        return sorted((e.generate() for e in entries), key=lambda t: t.id)
    return generate_from_quotas(cfg)


def generate_from_quotas(cfg: WorkloadConfig) -> list[TaskSpec]:
    slots = [
        _Slot(q.family, get_family(q.family).category, i, q.difficulties[i % len(q.difficulties)], q.scenario,
              tuple(sorted(q.overrides.items())))
        for q in cfg.families
        for i in range(q.count)
    ]
    ids = [s.task_id for s in slots]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"workload {cfg.name!r} lists a family twice (task ids would collide)")
    if cfg.limit is not None and cfg.limit < len(slots):
        slots = _stratified_subset(slots, cfg.limit, cfg.seed)
    return sorted((_generate(cfg, s) for s in slots), key=lambda t: t.id)


def _generate(cfg: WorkloadConfig, slot: _Slot) -> TaskSpec:
    fam = get_family(slot.family)
    rng = stream(cfg.seed, f"{cfg.name}/{slot.task_id}", 0, "workload.params")
    # A family drawing from a finite pool (the screened mutants of real packages) is given the
    # slot's index, so two tasks never draw the same item.
    at = getattr(fam, "sample_params_at", None)
    sampled = at(rng, slot.difficulty, slot.index) if at is not None else fam.sample_params(rng, slot.difficulty)
    params = {**sampled, **dict(slot.overrides)}
    spec = fam.generate(slot.task_id, params, stable_int([cfg.name, cfg.seed, slot.task_id], bits=32))
    return spec.model_copy(update={"scenario": slot.scenario}) if slot.scenario else spec


def _stratified_subset(
    slots: list[T], limit: int, seed: int, ident: Callable[[T], str] = lambda s: s.task_id
) -> list[T]:
    """Keep the mix: largest-remainder allocation over strata, then a seeded order within.
    A stratum is the deployment scenario where the workload has them (S12: a 24-task slice
    holds two tasks of every scenario), else the category (W500: the 200/100/100/100 mix)."""
    by_cat: dict[str, list[T]] = defaultdict(list)
    for s in slots:
        by_cat[s.scenario or s.category].append(s)
    total = len(slots)
    exact = {c: limit * len(ts) / total for c, ts in by_cat.items()}
    alloc = {c: int(v) for c, v in exact.items()}
    for c in sorted(exact, key=lambda c: (-(exact[c] - alloc[c]), c))[: limit - sum(alloc.values())]:
        alloc[c] += 1
    chosen = []
    for c, ts in sorted(by_cat.items()):
        order = sorted(ts, key=lambda s: stable_hash([seed, ident(s)]))
        chosen.extend(order[: alloc[c]])
    return chosen


def workload_hash(tasks: list[TaskSpec]) -> str:
    return stable_hash([t.content_hash() for t in tasks])


def check_families(cfg: WorkloadConfig) -> None:
    for quota in cfg.families:
        get_family(quota.family)
    if not cfg.families:
        raise ConfigError(f"workload {cfg.name!r} lists no task families")
