"""World operations by name: gold solutions and vandal shortcuts are lists of them.

Each world component registers its primitive operations here (``@world_op("restart")``),
so a spec stays plain data and applying it needs no family code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from harness.core.errors import TaskGenerationError
from harness.workload.spec import GoldStep
from harness.world import World

WorldOp = Callable[[World, dict[str, Any]], None]
WORLD_OPS: dict[str, WorldOp] = {}


def world_op(name: str) -> Callable[[WorldOp], WorldOp]:
    def register(fn: WorldOp) -> WorldOp:
        if name in WORLD_OPS:
            raise ValueError(f"world operation {name!r} registered twice")
        WORLD_OPS[name] = fn
        return fn

    return register


def apply_steps(world: World, steps: Iterable[GoldStep | dict[str, Any]]) -> World:
    for step in steps:
        step = step if isinstance(step, GoldStep) else GoldStep.model_validate(step)
        try:
            op = WORLD_OPS[step.op]
        except KeyError:
            raise TaskGenerationError(f"unknown world operation {step.op!r}; known: {sorted(WORLD_OPS)}") from None
        op(world, step.args)
    return world


def apply_gold(world: World, steps: Iterable[GoldStep]) -> World:
    return apply_steps(world, steps)


@world_op("write")
def _write(world: World, a: dict[str, Any]) -> None:
    world.workspace.write(a["path"], a["text"])


@world_op("replace")
def _replace(world: World, a: dict[str, Any]) -> None:
    world.workspace.replace(a["path"], a["old"], a["new"], regex=a.get("regex", False))


@world_op("delete")
def _delete(world: World, a: dict[str, Any]) -> None:
    world.workspace.delete(a["path"])


@world_op("submit")
def _submit(world: World, a: dict[str, Any]) -> None:
    world.submit(a.get("answer"))
