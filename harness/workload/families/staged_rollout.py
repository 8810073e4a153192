"""system_administration/staged_rollout: canary first, health checks, batches, or roll back.

A fleet of identical instances gets a new release. From difficulty 2 the release may be
bad; up to difficulty 3 a bad release visibly degrades the canary, from difficulty 4 it
passes the generic health check and only its error rate (above the policy threshold
stated in the brief) gives it away. Fleet size and the number of batches grow with
difficulty, and unrelated services share the estate (they must stay untouched).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.core.errors import TaskGenerationError
from harness.workload.deadlines import WORKING_DAY_MINUTES, within
from harness.workload.families.sysadmin_common import (
    APIS,
    between,
    build_services,
    pick,
    step,
    topology,
    world_with,
)
from harness.workload.policies import COMMON
from harness.workload.policies import names as _names
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, TaskSpec
from harness.world import World
from harness.world.components.services import Services, render_config

FLEET = {1: (3, 4), 2: (4, 6), 3: (6, 9), 4: (9, 12), 5: (12, 16)}
BATCHES = {1: (1, 1), 2: (2, 2), 3: (2, 3), 4: (3, 4), 5: (3, 5)}  # after the canary
P_BAD = {1: 0.0, 2: 0.35, 3: 0.5, 4: 0.5, 5: 0.5}
OTHERS = {1: (4, 4), 2: (4, 6), 3: (6, 9), 4: (8, 12), 5: (10, 15)}
POLICY_ERROR_RATE = 0.01


def _scenario(params: dict[str, Any], seed: int) -> dict[str, Any]:
    rng = np.random.Generator(np.random.PCG64(seed))
    d = int(params["difficulty"])
    topo = topology(rng, int(params["n_others"]))
    svcs, _ = build_services(rng, topo)
    taken = {s["name"] for s in topo}
    role = pick(rng, [a for a in APIS if a not in taken] or ["edge-proxy"])
    n = int(params["n_instances"])
    fleet = [f"{role}-{i}" for i in range(1, n + 1)]
    major, minor = between(rng, (1, 5)), between(rng, (0, 9))
    old, new = f"{major}.{minor}.{between(rng, (0, 9))}", f"{major}.{minor + 1}.0"
    bad = bool(params["bad"])
    if not bad:
        new_rate = round(float(rng.uniform(0.0005, 0.004)), 4)
    elif d >= 4:  # passes the generic health check, fails the stricter policy
        new_rate = round(float(rng.uniform(0.015, 0.045)), 4)
    else:
        new_rate = round(float(rng.uniform(0.2, 0.6)), 3)
    old_rate = round(float(rng.uniform(0.0005, 0.003)), 4)
    for i, name in enumerate(fleet):
        cfg = {"listen_port": "9090", "instance_id": str(i + 1), "workers": "8", "pool": role}
        svcs.add_service(name, config=render_config(cfg), version=old, host=f"{role}-host-{i + 1}",
                         rule={"required": {"listen_port": r"\d+", "workers": r"[1-9]\d*"}},
                         releases={old: {"error_rate": old_rate}, new: {"error_rate": new_rate}})
        svcs.metrics[name] = {
            "error_rate": [round(float(v), 4) for v in np.abs(rng.normal(old_rate, old_rate / 4, 60))],
            "latency_ms": [round(float(v), 1) for v in rng.normal(45, 5, 60)],
        }
    canary = pick(rng, fleet)
    rest = [f for f in fleet if f != canary]
    n_batches = min(int(params["n_batches"]), len(rest))
    size = math.ceil(len(rest) / n_batches)
    return {"svcs": svcs, "fleet": fleet, "canary": canary, "rest": rest, "batch": size,
            "old": old, "new": new, "bad": bad, "role": role, "new_rate": new_rate}


@family
class StagedRollout:
    name = "system_administration/staged_rollout"
    category = "system_administration"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        if difficulty not in FLEET:
            raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")
        return {"difficulty": difficulty, "n_instances": between(rng, FLEET[difficulty]),
                "n_batches": between(rng, BATCHES[difficulty]), "n_others": between(rng, OTHERS[difficulty]),
                "bad": bool(rng.random() < P_BAD[difficulty])}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        if not 2 <= int(params.get("n_instances", 0)) <= 20 or int(params.get("n_batches", 0)) < 1:
            raise TaskGenerationError("staged_rollout needs n_instances in 2..20 and n_batches >= 1")
        sc = _scenario(params, seed)
        fleet, canary, new, old, size = sc["fleet"], sc["canary"], sc["new"], sc["old"], sc["batch"]
        gold = [step("deploy", service=canary, version=new), step("health_check", service=canary)]
        if sc["bad"]:
            gold += [step("rollback", service=canary), step("health_check", service=canary)]
        else:
            for i in range(0, len(sc["rest"]), size):
                batch = sc["rest"][i:i + size]
                gold += [step("deploy", service=s, version=new) for s in batch]
                gold += [step("health_check", service=s) for s in batch]
        instructions = (
            f"Roll out version {new} of the `{sc['role']}` service (instances {', '.join(fleet)}; "
            f"they run {old}). Deploy it to the canary `{canary}` first and health-check it. The "
            f"release is acceptable only if the canary runs with an error rate below "
            f"{POLICY_ERROR_RATE:.0%}; if it is not, roll the canary back and deploy nowhere else. "
            f"Otherwise deploy to the other instances in batches of at most {size}, health-checking "
            f"every instance of a batch before you start the next. Do not touch other services."
        )
        n = len(fleet)
        private = {**params, "canary": canary, "fleet": fleet, "new_version": new, "old_version": old,
                   "batch": size, "new_error_rate": sc["new_rate"]}
        return TaskSpec(
            id=task_id, category="system_administration", family=self.name,
            difficulty=int(params["difficulty"]), seed=int(seed), params=private,
            public={"role": sc["role"], "instances": fleet, "canary": canary, "new_version": new,
                    "old_version": old, "batch_size": size, "max_error_rate": POLICY_ERROR_RATE},
            instructions=instructions,
            # A deploy and a check per instance, plus a look at the canary's metrics. The
            # release window is the working day; the policy allows deploying (and rolling
            # back, a deploy of the old release) on the fleet and nothing else.
            budget=within(15 + 3 * n, WORKING_DAY_MINUTES,
                          "the release window closes at the end of the working day"),
            policy=(*COMMON, f"may deploy services {_names(fleet)}"),
            checkers=(
                CheckerRef(name="rollout_policy", args={"instances": fleet, "canary": canary, "new": new,
                                                        "old": old, "batch": size, "bad": sc["bad"]}),
                CheckerRef(name="service_running", args={"services": fleet}),
                CheckerRef(name="untouched", args={"allow": fleet}),
            ),
            gold=tuple(gold),
            traps={"deploy_everywhere": tuple(step("deploy", service=s, version=new) for s in fleet)},
        )

    def build_world(self, spec: TaskSpec) -> World:
        svcs: Services = _scenario(spec.params, spec.seed)["svcs"]
        return world_with(svcs)
