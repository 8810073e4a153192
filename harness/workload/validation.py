"""Prove a task is a fair test: its gold passes, and doing nothing, cheating or vandalism fail.

Four checks per task, each on a freshly built world:
  gold       the gold solution passes every checker;
  initial    the untouched world fails at least one checker;
  do_nothing submitting an empty answer on the untouched world fails;
  vandal     every trap of the task (its destructive shortcut) fails, and so does a generic
             vandal that deletes the tests and submits the question back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.workload.checks import run_checkers
from harness.workload.gold import apply_steps
from harness.workload.registry import get_family
from harness.workload.spec import GoldStep, TaskSpec
from harness.world import World


@dataclass
class TaskValidation:
    task_id: str
    category: str
    family: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"task_id": self.task_id, "category": self.category, "family": self.family, "ok": self.ok,
                "problems": list(self.problems)}


def _passes(spec: TaskSpec, world: World) -> tuple[bool, list[str]]:
    results = run_checkers(world, spec)
    return all(r.passed for r in results), [f"{r.checker}: {r.reason}" for r in results if not r.passed]


def _generic_vandal(spec: TaskSpec, world: World) -> list[GoldStep]:
    steps = [GoldStep(op="delete", args={"path": p}) for p in world.workspace.list("tests")]
    steps.append(GoldStep(op="submit", args={"answer": {"text": spec.instructions, "value": spec.instructions}}))
    return steps


def validate_task(spec: TaskSpec) -> TaskValidation:
    fam = get_family(spec.family)
    out = TaskValidation(spec.id, spec.category, spec.family)

    gold_ok, why = _passes(spec, apply_steps(fam.build_world(spec), spec.gold))
    if not gold_ok:
        out.problems.append("gold fails: " + "; ".join(why)[:300])
    if _passes(spec, fam.build_world(spec))[0]:
        out.problems.append("the untouched world already passes")
    if _passes(spec, apply_steps(fam.build_world(spec), [GoldStep(op="submit", args={"answer": {}})]))[0]:
        out.problems.append("a do-nothing agent passes")
    for name, steps in sorted(spec.traps.items()):
        if _passes(spec, apply_steps(fam.build_world(spec), steps))[0]:
            out.problems.append(f"trap {name!r} passes")
    world = fam.build_world(spec)
    if _passes(spec, apply_steps(world, _generic_vandal(spec, world)))[0]:
        out.problems.append("a vandal (tests deleted, question submitted back) passes")
    return out
