"""World operations on the workspace and the submission: what every family's gold
solutions and traps can do to files and to the answer."""

from __future__ import annotations

from typing import Any

from harness.workload.gold import WORLD_OPS
from harness.world import World


@WORLD_OPS.register("write")
def _write(world: World, a: dict[str, Any]) -> None:
    world.workspace.write(a["path"], a["text"])


@WORLD_OPS.register("replace")
def _replace(world: World, a: dict[str, Any]) -> None:
    world.workspace.replace(a["path"], a["old"], a["new"], regex=a.get("regex", False))


@WORLD_OPS.register("delete")
def _delete(world: World, a: dict[str, Any]) -> None:
    world.workspace.delete(a["path"])


@WORLD_OPS.register("submit")
def _submit(world: World, a: dict[str, Any]) -> None:
    world.submit(a.get("answer"))
