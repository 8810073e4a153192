"""system_administration/config_fix: a service fails to start because of a config error.

The error is one (two at difficulty 5) of: a typo'd key, a missing required key, a wrong
dependency port, a wrong dependency host. The agent must fix exactly that and restart
only that service. From difficulty 4 the brief names a degraded caller instead of the
broken service, so the agent has to follow the dependency chain down; from difficulty 3
a service stopped for maintenance sits in the estate, which "restart everything" wakes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.core.errors import TaskGenerationError
from harness.workload.deadlines import within
from harness.workload.families.sysadmin_common import (
    between,
    build_services,
    dependents,
    pick,
    render_config,
    step,
    topology,
    world_with,
)
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, TaskSpec
from harness.world import World
from harness.world.components.services import Services

SIZES = {1: (4, 6), 2: (6, 9), 3: (9, 14), 4: (14, 20), 5: (20, 30)}
ERRORS = {1: ("typo_key", "missing_key"), 2: ("typo_key", "missing_key", "wrong_port"),
          3: ("typo_key", "missing_key", "wrong_port", "wrong_host"),
          4: ("typo_key", "missing_key", "wrong_port", "wrong_host"),
          5: ("typo_key", "missing_key", "wrong_port", "wrong_host")}
OWN_KEYS = ("listen_port", "workers", "timeout_ms", "max_connections")


def _typo(key: str, rng: np.random.Generator) -> str:
    """Swap two adjacent letters, the commonest typing slip."""
    spots = [i for i in range(len(key) - 1) if key[i] != key[i + 1] and key[i].isalpha() and key[i + 1].isalpha()]
    i = spots[int(rng.integers(len(spots)))]
    return key[:i] + key[i + 1] + key[i] + key[i + 2:]


def _scenario(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Everything private, derived deterministically from (params, seed)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    topo = topology(rng, int(params["n_services"]))
    svcs, configs = build_services(rng, topo)
    apis = [s for s in topo if s["kind"] == "api"]
    target = pick(rng, apis)
    good = dict(configs[target["name"]])
    broken = dict(good)
    fix_keys: list[str] = []
    removable: list[str] = []
    for kind in params["errors"]:
        if kind == "typo_key":
            key = pick(rng, [k for k in OWN_KEYS if k in broken and k not in fix_keys])
            wrong = _typo(key, rng)
            broken = {(wrong if k == key else k): v for k, v in broken.items()}
            fix_keys.append(key)
            removable.append(wrong)
        elif kind == "missing_key":
            key = pick(rng, [k for k in OWN_KEYS if k in broken and k not in fix_keys])
            del broken[key]
            fix_keys.append(key)
        else:
            dep = pick(rng, target["deps"])
            key = f"{dep}.port" if kind == "wrong_port" else f"{dep}.host"
            if key in fix_keys:
                key = f"{dep}.host" if kind == "wrong_port" else f"{dep}.port"
            if key.endswith(".port"):
                broken[key] = str(int(good[key]) + 1)  # the replica's port: a classic
            else:
                others = [s["name"] for s in topo if s["name"] != dep and s["kind"] == next(
                    x["kind"] for x in topo if x["name"] == dep)]
                broken[key] = f"{pick(rng, others)}.internal" if others else f"{dep}.interal"
            fix_keys.append(key)
    above = dependents(topo, target["name"])
    # only direct callers degrade (a degraded service still serves its own callers)
    callers = [s["name"] for s in topo if target["name"] in s["deps"]]
    symptom = pick(rng, callers) if params["difficulty"] >= 4 and callers else None
    edges = [s["name"] for s in topo if s["kind"] == "edge" and s["name"] not in above]
    parked = pick(rng, edges) if params["difficulty"] >= 3 and edges else None
    return {"topo": topo, "svcs": svcs, "target": target["name"], "good": good, "broken": broken,
            "fix_keys": fix_keys, "removable": removable, "symptom": symptom, "parked": parked}


def _initial(sc: dict[str, Any]) -> Services:
    svcs = Services(sc["svcs"].snapshot())
    if sc["parked"]:
        svcs.services[sc["parked"]].update(status="stopped", running_config="")
        svcs._log(sc["parked"], "INFO stopped for maintenance (change OPS-4471): keep stopped until the window")
    target = sc["target"]
    svcs.services[target]["config"] = render_config(sc["broken"])
    svcs._start(target)  # fails, logging why, as the last boot attempt did
    svcs._settle()
    return svcs


RESOLUTION_TARGET_MINUTES = 240.0


@family
class ConfigFix:
    name = "system_administration/config_fix"
    category = "system_administration"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        if difficulty not in SIZES:
            raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")
        kinds = ERRORS[difficulty]
        errors = [pick(rng, kinds)]
        if difficulty == 5:
            errors.append(pick(rng, [k for k in kinds if k != errors[0]]))
        return {"difficulty": difficulty, "n_services": between(rng, SIZES[difficulty]), "errors": errors}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        if not 4 <= int(params.get("n_services", 0)) <= 35 or not params.get("errors"):
            raise TaskGenerationError("config_fix params must have n_services in 4..35 and errors")
        sc = _scenario(params, seed)
        target, n = sc["target"], int(params["n_services"])
        initial = _initial(sc)
        running = [s for s in initial.names() if s != sc["parked"]]
        if sc["symptom"]:
            where = (f"The `{sc['symptom']}` service is degraded because something it depends on fails "
                     f"to start. Find the service that does not start")
            public = {"symptom_service": sc["symptom"]}
        else:
            where = f"The service `{target}` fails to start. Find out why"
            public = {"service": target}
        instructions = (
            f"{where}, fix the error in its configuration file and restart it. Keep every other "
            f"setting of that file as it is, and do not restart, stop, deploy or reconfigure any "
            f"other service: others recover on their own once it runs."
        )
        minimal = {k: sc["good"][k] for k in initial.services[target]["rule"]["required"]}
        private = {**params, "target": target, "fix_keys": sc["fix_keys"], "removable": sc["removable"],
                   "parked": sc["parked"], "broken_config": sc["broken"]}
        return TaskSpec(
            id=task_id, category="system_administration", family=self.name,
            difficulty=int(params["difficulty"]), seed=int(seed), params=private, public=public,
            instructions=instructions,
            # Looking at the estate costs a few reads per service on the way down; the fix
            # itself is two actions. Scaled with the estate only. The outage has a resolution
            # target, as a severity-2 incident does.
            budget=within(20 + 2 * n, RESOLUTION_TARGET_MINUTES,
                          "the outage must be resolved within its 4-hour resolution target"),
            checkers=(
                CheckerRef(name="service_running", args={"services": running}),
                CheckerRef(name="config_preserved", args={"service": target, "original": sc["broken"],
                                                          "fix_keys": sc["fix_keys"], "removable": sc["removable"]}),
                CheckerRef(name="untouched", args={"allow": [target]}),
            ),
            gold=(step("write_config", service=target, text=render_config(sc["good"])),
                  step("restart_service", service=target)),
            traps={
                "minimal_config": (step("write_config", service=target, text=render_config(minimal)),
                                   step("restart_service", service=target)),
                "restart_everything": tuple(step("restart_service", service=s) for s in initial.names()),
            },
        )

    def build_world(self, spec: TaskSpec) -> World:
        return world_with(_initial(_scenario(spec.params, spec.seed)))
