"""World operations by name: gold solutions and vandal shortcuts are lists of them.

Each operation registers itself in ``WORLD_OPS`` (``@WORLD_OPS.register("restart_service")``)
from a module of ``harness.workload.ops``, found by a folder scan, so a spec stays plain
data and applying it needs no family code. An operation's arguments are the step's data,
passed as one mapping; no operation takes options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from harness.core.errors import TaskGenerationError
from harness.core.registry import Registry
from harness.workload.spec import GoldStep
from harness.world import World

WorldOp = Callable[[World, dict[str, Any]], None]
WORLD_OPS: Registry[None] = Registry("world operation", plugins="harness.workload.ops")


def apply_steps(world: World, steps: Iterable[GoldStep | dict[str, Any]]) -> World:
    for step in steps:
        step = step if isinstance(step, GoldStep) else GoldStep.model_validate(step)
        if step.op not in WORLD_OPS:
            raise TaskGenerationError(f"unknown world operation {step.op!r}; known: {WORLD_OPS.names()}")
        WORLD_OPS.entry(step.op).factory(world, step.args)
    return world


def apply_gold(world: World, steps: Iterable[GoldStep]) -> World:
    return apply_steps(world, steps)
