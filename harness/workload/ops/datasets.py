"""World operations on the datasets component: what gold solutions and traps of the
data-analysis families do to the tables."""

from __future__ import annotations

from typing import Any

from harness.workload.gold import WORLD_OPS
from harness.world import World


@WORLD_OPS.register("sql_write")
def _sql_write(world: World, a: dict[str, Any]) -> None:
    world.datasets.sql_write(a["statement"])
