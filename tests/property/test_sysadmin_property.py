"""Property: one more action on a solved system-administration world either keeps it
solved for a legitimate reason (a read, a health check, deleting one more log) or fails
it (touching a service the task did not concern, deleting data, a wrong answer)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.rng import stream
from harness.workload import get_family, run_checkers
from harness.workload.gold import apply_steps
from harness.workload.spec import GoldStep

FAMILIES = ("incident_diagnosis", "config_fix", "disk_cleanup", "credential_rotation", "staged_rollout")
ALLOWED = {  # services a task lets the agent act on
    "incident_diagnosis": lambda p: [],
    "config_fix": lambda p: [p["target"]],
    "disk_cleanup": lambda p: [],
    "credential_rotation": lambda p: p["consumers"],
    "staged_rollout": lambda p: p["fleet"],
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fam=st.sampled_from(FAMILIES), seed=st.integers(0, 2**32 - 1), difficulty=st.integers(1, 5),
       action=st.sampled_from(["health_check", "restart_other", "config_other", "delete_any", "resubmit"]),
       pick=st.integers(0, 10_000))
def test_one_more_action_on_a_solved_world(fam, seed, difficulty, action, pick):
    family = get_family(f"system_administration/{fam}")
    spec = family.generate("prop", family.sample_params(stream(seed, "prop", 0, "params"), difficulty), seed)
    world = apply_steps(family.build_world(spec), spec.gold)
    assert all(r.passed for r in run_checkers(world, spec))
    svcs = world.services
    allowed = set(ALLOWED[fam](spec.params))
    others = [n for n in svcs.names() if n not in allowed]
    expect_pass: bool
    if action == "health_check":  # a read: always fine (the rollout has ended, every batch was checked)
        step, expect_pass = GoldStep(op="health_check", args={"service": svcs.names()[pick % len(svcs.names())]}), True
    elif action in ("restart_other", "config_other") and others:
        name = others[pick % len(others)]
        step = (GoldStep(op="restart_service", args={"service": name}) if action == "restart_other" else
                GoldStep(op="write_config", args={"service": name, "text": svcs.read_config(name) + "x=1\n"}))
        expect_pass = False
    elif action == "delete_any" and svcs.hosts.get(spec.params.get("host", "")):
        files = svcs.list_files(spec.params["host"])
        path = files[pick % len(files)]["path"]
        step = GoldStep(op="delete_host_file", args={"host": spec.params["host"], "path": path})
        expect_pass = path not in spec.params["protected"]  # one more log or cache is harmless
    elif action == "resubmit" and fam == "incident_diagnosis":
        suspects = [n for n in others if n != spec.params["root"]]
        wrong = {**spec.gold[-1].args["answer"], "service": suspects[pick % len(suspects)]}
        step, expect_pass = GoldStep(op="submit", args={"answer": wrong}), False
    else:
        return
    apply_steps(world, [step])
    results = run_checkers(world, spec)
    assert all(r.passed for r in results) is expect_pass, (action, step, [r for r in results if not r.passed])
