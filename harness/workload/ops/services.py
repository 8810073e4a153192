"""World operations on the services component: what gold solutions and traps of the
system-administration families do to the estate."""

from __future__ import annotations

from typing import Any

from harness.workload.gold import WORLD_OPS
from harness.world import World
from harness.world.components.services import Services


def _svcs(world: World) -> Services:
    svcs = world.services
    if svcs is None:
        raise ValueError("this world has no services component")
    return svcs


@WORLD_OPS.register("restart_service")
def _restart(world: World, a: dict[str, Any]) -> None:
    _svcs(world).restart(a["service"])


@WORLD_OPS.register("stop_service")
def _stop(world: World, a: dict[str, Any]) -> None:
    _svcs(world).stop(a["service"])


@WORLD_OPS.register("write_config")
def _write_config(world: World, a: dict[str, Any]) -> None:
    _svcs(world).write_config(a["service"], a["text"])


@WORLD_OPS.register("deploy")
def _deploy(world: World, a: dict[str, Any]) -> None:
    _svcs(world).deploy(a["service"], a["version"])


@WORLD_OPS.register("rollback")
def _rollback(world: World, a: dict[str, Any]) -> None:
    _svcs(world).rollback(a["service"])


@WORLD_OPS.register("health_check")
def _health(world: World, a: dict[str, Any]) -> None:
    _svcs(world).health_check(a["service"])


@WORLD_OPS.register("delete_host_file")
def _delete_file(world: World, a: dict[str, Any]) -> None:
    _svcs(world).delete_file(a["host"], a["path"])


@WORLD_OPS.register("issue_credential")
def _issue(world: World, a: dict[str, Any]) -> None:
    _svcs(world).issue_credential(a["producer"], a["secret"])


@WORLD_OPS.register("revoke_credential")
def _revoke(world: World, a: dict[str, Any]) -> None:
    _svcs(world).revoke_credential(a["producer"], a["secret"])


@WORLD_OPS.register("rotate_credential")
def _rotate(world: World, a: dict[str, Any]) -> None:
    """Issue the new credential and revoke the old one at once: the one-click rotation a
    console offers, which is only safe when nothing still uses the old one."""
    _svcs(world).issue_credential(a["producer"], a["new"])
    _svcs(world).revoke_credential(a["producer"], a["old"])
