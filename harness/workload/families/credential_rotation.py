"""system_administration/credential_rotation: rotate a store's password with no downtime.

The producer (a database or queue) must accept the new password before any consumer uses
it, every consumer must be reconfigured and restarted onto it, and only then may the old
one be revoked: revoking early crashes the consumers still on it, switching a consumer
early makes its restart fail. The number of consumers grows with difficulty; from
difficulty 3 a second store uses the same config key (``db_password``) for its own
consumers, which must not be touched, and the task spans two sessions: the new password
is handed over in the first (a planning session) and needed in the second.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.core.errors import TaskGenerationError
from harness.core.hashing import stable_hash
from harness.workload.deadlines import within
from harness.workload.families.sysadmin_common import (
    between,
    build_services,
    pick,
    step,
    topology,
    world_with,
)
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, Probe, SessionSpec, TaskSpec
from harness.world import World
from harness.world.components.services import Services, render_config

SIZES = {1: (5, 7), 2: (7, 10), 3: (10, 14), 4: (14, 20), 5: (20, 28)}
CONSUMERS = {1: (1, 2), 2: (2, 3), 3: (3, 4), 4: (4, 6), 5: (5, 8)}
KEY = "db_password"


def _secret(rng: np.random.Generator) -> str:
    return "pw-" + "".join("abcdefghjkmnpqrstuvwxyz23456789"[int(i)] for i in rng.integers(0, 31, 16))


def _scenario(params: dict[str, Any], seed: int) -> dict[str, Any]:
    rng = np.random.Generator(np.random.PCG64(seed))
    topo = topology(rng, int(params["n_services"]))
    stores = [s for s in topo if s["tier"] == 3]
    apis = [s for s in topo if s["kind"] == "api"]
    producer = pick(rng, stores)
    k = min(int(params["n_consumers"]), len(apis))
    consumers = sorted(s["name"] for s in pick(rng, apis, k))
    decoy_store = pick(rng, [s for s in stores if s is not producer]) if params["decoy"] and len(stores) > 1 else None
    # Whoever connects to a store holds its password: the consumers are exactly the callers
    # of the producer, and the decoys exactly the other callers of the decoy store.
    for s in topo:
        if s["name"] in consumers:
            s["deps"] = sorted({*s["deps"], producer["name"]} - {decoy_store and decoy_store["name"]})
        elif producer["name"] in s["deps"]:
            s["deps"].remove(producer["name"])
    decoys: list[str] = []
    if decoy_store is not None:
        pool = [s for s in apis if s["name"] not in consumers]
        for s in pick(rng, pool, min(2, len(pool))):
            s["deps"] = sorted({*s["deps"], decoy_store["name"]})
        decoys = sorted(s["name"] for s in topo if decoy_store["name"] in s["deps"])
    svcs, configs = build_services(rng, topo)
    old, new = _secret(rng), _secret(rng)
    svcs.credentials[producer["name"]] = [old]
    creds = {producer["name"]: (consumers, old)}
    if decoy_store is not None:
        decoy_secret = _secret(rng)
        svcs.credentials[decoy_store["name"]] = [decoy_secret]
        creds[decoy_store["name"]] = (decoys, decoy_secret)
    for store, (users, secret) in creds.items():
        for name in users:
            configs[name][KEY] = secret
            text = render_config(configs[name])
            svcs.services[name].update(config=text, running_config=text)
            svcs.services[name]["rule"]["credential"] = {"key": KEY, "producer": store}
    return {"svcs": svcs, "producer": producer["name"], "consumers": consumers, "decoys": decoys,
            "old": old, "new": new, "configs": configs}


def _switched(cfg: dict[str, str], new: str) -> str:
    return render_config({**cfg, KEY: new})


CHANGE_WINDOW_MINUTES = 240.0


@family
class CredentialRotation:
    name = "system_administration/credential_rotation"
    category = "system_administration"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        if difficulty not in SIZES:
            raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")
        return {"difficulty": difficulty, "n_services": between(rng, SIZES[difficulty]),
                "n_consumers": between(rng, CONSUMERS[difficulty]), "decoy": difficulty >= 3,
                "sessions": 2 if difficulty >= 3 else 1}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        if not 5 <= int(params.get("n_services", 0)) <= 35 or int(params.get("n_consumers", 0)) < 1:
            raise TaskGenerationError("credential_rotation needs n_services in 5..35 and n_consumers >= 1")
        sc = _scenario(params, seed)
        producer, consumers, old, new = sc["producer"], sc["consumers"], sc["old"], sc["new"]
        gold = [step("issue_credential", producer=producer, secret=new)]
        for c in consumers:
            gold += [step("write_config", service=c, text=_switched(sc["configs"][c], new)),
                     step("restart_service", service=c)]
        gold.append(step("revoke_credential", producer=producer, secret=old))
        switch_all = [s for c in consumers for s in (
            step("write_config", service=c, text=_switched(sc["configs"][c], new)), step("restart_service", service=c))]
        rule = (f"The services that connect to `{producer}` hold its password in the `{KEY}` key of "
                f"their config. Rotate it with no downtime: make `{producer}` accept the new password, "
                f"switch every one of its consumers to it (a config change takes effect on restart), and "
                f"only then revoke the old password. Do not change services that do not use `{producer}`.")
        two = int(params.get("sessions", 1)) == 2
        if two:
            instructions = f"Password rotation for `{producer}`. {rule}"
            sessions = (
                SessionSpec(asks=f"Planning only; the change window opens in the next session. The new "
                                 f"password for `{producer}` is `{new}`. It will not be shown again."),
                SessionSpec(asks=f"The change window is open: rotate `{producer}` to the new password you "
                                 f"were given in the planning session."),
            )
            public = {"producer": producer, "key": KEY}
        else:
            instructions = f"Rotate the password of `{producer}` to `{new}`. {rule}"
            sessions = (SessionSpec(asks="do the task"),)
            public = {"producer": producer, "key": KEY, "new_password": new}
        everyone = sc["svcs"].names()
        n = len(everyone)
        private = {**params, "producer": producer, "consumers": consumers, "decoys": sc["decoys"],
                   "old_secret": old, "new_secret": new}
        return TaskSpec(
            id=task_id, category="system_administration", family=self.name,
            difficulty=int(params["difficulty"]), seed=int(seed), params=private, public=public,
            instructions=instructions, sessions=sessions,
            knowledge=(f"the new password for {producer} is {new}",) if two else (),
            probes=(Probe(told_in=0, question=f"What is the new password for `{producer}`?", expect=(new,)),)
            if two else (),
            # Finding the consumers costs a read per service; each consumer then takes an
            # edit, a restart and a check; plus issue and revoke. The rotation must fit its
            # change window.
            budget=within(15 + n + 4 * len(consumers), CHANGE_WINDOW_MINUTES,
                          "the change window for the rotation closes 4 hours from now"),
            checkers=(
                CheckerRef(name="credential_rotated", args={"producer": producer, "consumers": consumers, "key": KEY,
                                                            "new_hash": stable_hash(new), "old_hash": stable_hash(old)}),
                CheckerRef(name="never_failed", args={"services": everyone}),
                CheckerRef(name="untouched", args={"allow": consumers}),
            ),
            gold=tuple(gold),
            traps={
                "revoke_first": (step("rotate_credential", producer=producer, old=old, new=new), *switch_all),
                "switch_before_issue": (*switch_all, step("issue_credential", producer=producer, secret=new),
                                        step("revoke_credential", producer=producer, secret=old)),
            },
        )

    def build_world(self, spec: TaskSpec) -> World:
        svcs: Services = _scenario(spec.params, spec.seed)["svcs"]
        return world_with(svcs)


