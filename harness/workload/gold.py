"""Apply a gold solution (a list of primitive world operations) to a world."""

from __future__ import annotations

from harness.workload.spec import GoldStep
from harness.world import World


def apply_gold(world: World, steps: tuple[GoldStep, ...] | list[GoldStep]) -> World:
    ws = world.workspace
    for step in steps:
        a = step.args
        if step.op == "write":
            ws.write(a["path"], a["text"])
        elif step.op == "replace":
            ws.replace(a["path"], a["old"], a["new"], regex=a.get("regex", False))
        elif step.op == "delete":
            ws.delete(a["path"])
        elif step.op == "submit":
            world.submit(a.get("answer"))
    return world
