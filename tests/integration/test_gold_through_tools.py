"""Every W500 family is solvable through both tool layers.

For the first tasks of every family of W500 (the same ids, params and seeds as the
workload, one per difficulty), each gold step is translated into (a) typed tool calls
and (b) shell commands, run through ``TOOL_LAYERS.build`` on the initial world, and the
answer is submitted through the layer's own submit. Then every checker must pass, and
the final world must be byte-identical to the one the gold steps produce directly: the
layers differ in interface, never in what the world does.

The translators read gold: that is test code, allowed here and never in agents.
"""

from __future__ import annotations

import json
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.runtime.tools import TOOL_LAYERS
from harness.workload.checks import run_checkers
from harness.workload.gold import apply_gold
from harness.workload.registry import get_family
from harness.workload.spec import TaskSpec
from harness.workload.workloads import FamilyQuota, WorkloadConfig, generate_from_quotas
from harness.world import Workspace, World

ROOT = Path(__file__).resolve().parents[2]
W500 = yaml.safe_load((ROOT / "configs/workload/w500.yaml").read_text())
FAMILIES = [q["family"] for q in W500["families"]]


# -- gold step -> typed call ---------------------------------------------------------------
def _replaced_text(world: World, a: dict[str, Any]) -> str:
    """The file after a gold ``replace``, computed on a scratch copy with the world's own
    replace, so a translation never re-implements its matching rules."""
    scratch = Workspace({a["path"]: world.workspace.read(a["path"])})
    scratch.replace(a["path"], a["old"], a["new"], regex=a.get("regex", False))
    return scratch.read(a["path"])


TYPED = {
    "write": lambda w, a: [("write_file", {"path": a["path"], "text": a["text"]})],
    "replace": lambda w, a: [("replace_in_file", {"path": a["path"], "old": a["old"], "new": a["new"],
                                                  "regex": a.get("regex", False)})],
    "submit": lambda w, a: [("submit", {"answer": a.get("answer") or {}})],
    "restart_service": lambda w, a: [("restart_service", {"service": a["service"]})],
    "stop_service": lambda w, a: [("stop_service", {"service": a["service"]})],
    "write_config": lambda w, a: [("write_config", {"service": a["service"], "text": a["text"]})],
    "deploy": lambda w, a: [("deploy", {"service": a["service"], "version": a["version"]})],
    "rollback": lambda w, a: [("rollback", {"service": a["service"]})],
    "health_check": lambda w, a: [("health_check", {"service": a["service"]})],
    "delete_host_file": lambda w, a: [("delete_host_file", {"host": a["host"], "path": a["path"]})],
    "issue_credential": lambda w, a: [("issue_credential", {"producer": a["producer"], "secret": a["secret"]})],
    "revoke_credential": lambda w, a: [("revoke_credential", {"producer": a["producer"], "secret": a["secret"]})],
    "sql_write": lambda w, a: [("sql_execute", {"sql": a["statement"]})],
}


# -- gold step -> shell command ----------------------------------------------------------------
def _write_file(path: str, text: str) -> str:
    if text.endswith("\n"):
        delim = "EOF"
        while delim in text.splitlines():
            delim += "_"
        return f"cat > {shlex.quote(path)} <<'{delim}'\n{text}{delim}"
    return f"echo -n {shlex.quote(text)} > {shlex.quote(path)}"


def _q(*words: str) -> str:
    return " ".join(shlex.quote(w) for w in words)


SHELL = {
    "write": lambda w, a: [_write_file(a["path"], a["text"])],
    "replace": lambda w, a: [_write_file(a["path"], _replaced_text(w, a))],
    "delete": lambda w, a: [_q("rm", a["path"])],
    "submit": lambda w, a: [_q("submit", json.dumps(a.get("answer") or {}))],
    "restart_service": lambda w, a: [_q("systemctl", "restart", a["service"])],
    "stop_service": lambda w, a: [_q("systemctl", "stop", a["service"])],
    "write_config": lambda w, a: [_write_file(f"/etc/{a['service']}/{a['service']}.conf", a["text"])],
    "deploy": lambda w, a: [_q("deploy", a["service"], a["version"])],
    "rollback": lambda w, a: [_q("rollback", a["service"])],
    "health_check": lambda w, a: [_q("curl", "-s", f"http://{a['service']}/health")],
    "delete_host_file": lambda w, a: [_q("ssh", a["host"], "rm", a["path"])],
    "issue_credential": lambda w, a: [_q("vault", "write", f"creds/{a['producer']}", f"secret={a['secret']}")],
    "revoke_credential": lambda w, a: [_q("vault", "revoke", f"creds/{a['producer']}", f"secret={a['secret']}")],
    "sql_write": lambda w, a: [_q("psql", "-c", a["statement"])],
}


@cache
def _w500() -> dict[str, list[TaskSpec]]:
    """Every W500 task by family, generated from the workload's own quotas and seed."""
    cfg = WorkloadConfig(name=W500["name"], seed=W500["seed"],
                         families=[FamilyQuota(**q) for q in W500["families"]])
    by_family: dict[str, list[TaskSpec]] = {}
    for spec in generate_from_quotas(cfg):
        by_family.setdefault(spec.family, []).append(spec)
    return by_family


def _tasks(family: str) -> list[TaskSpec]:
    """One task per difficulty, plus the first task using each gold operation those miss
    (a rollback, say, only happens in some rollouts)."""
    tasks = _w500()[family]
    chosen = [next(t for t in tasks if t.difficulty == d) for d in sorted({t.difficulty for t in tasks})]
    for op in sorted({s.op for t in tasks for s in t.gold} - {s.op for t in chosen for s in t.gold}):
        chosen.append(next(t for t in tasks if any(s.op == op for s in t.gold)))
    return chosen


def _solve(spec: TaskSpec, variant: str) -> World:
    world = get_family(spec.family).build_world(spec)
    layer = TOOL_LAYERS.build(variant)
    table = TYPED if variant == "typed" else SHELL
    steps = list(spec.gold)
    if not any(s.op == "submit" for s in steps):
        steps.append(type(steps[0])(op="submit", args={"answer": {}}))
    for step in steps:
        for call in table[step.op](world, step.args):
            tool, args = call if variant == "typed" else ("shell", {"command": call})
            obs = layer.call(world, tool, args)
            assert obs.ok, f"{spec.id} {step.op} via {variant}: {obs.error or obs.text}"
    return world


@pytest.mark.parametrize("family", FAMILIES)
def test_every_task_solvable_through_both_layers(family):
    tasks = _tasks(family)
    assert len({t.difficulty for t in tasks}) == 5
    for spec in tasks:
        gold_world = get_family(spec.family).build_world(spec)
        apply_gold(gold_world, spec.gold)
        for variant in ("typed", "shell"):
            world = _solve(spec, variant)
            failed = [r for r in run_checkers(world, spec) if not r.passed]
            assert not failed, f"{spec.id} via {variant}: {failed}"
            if any(s.op == "submit" for s in spec.gold):
                # Same primitives, same order: the same world, down to the services' event log.
                assert world.digest() == gold_world.digest(), f"{spec.id} via {variant}: world differs from gold"


def test_translators_cover_every_gold_operation_of_w500():
    ops = {s.op for tasks in _w500().values() for spec in tasks for s in spec.gold}
    assert len(_w500()) == len(FAMILIES) and sum(map(len, _w500().values())) == 500
    assert {"sql_write", "rollback", "revoke_credential", "delete_host_file"} <= ops
    assert ops <= set(TYPED) and ops <= set(SHELL)
