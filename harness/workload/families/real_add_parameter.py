"""code_modification/real_add_parameter: a new keyword-only parameter on a real function.

The function is a public function of a released package (six, toolz, tabulate, boltons,
inflect) from the frozen screening. The brief specifies the behaviour exactly: a
keyword-only parameter, default ``None``, that when given a callable is applied to what
the function returns. Checked by the package's own suite plus a generated test of the new
behaviour (inputs taken from the suite's own calls of the function), run in the sandbox;
the generated test never enters the workspace.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from harness.workload.deadlines import end_of_day
from harness.workload.families import real_common as rc
from harness.workload.real.new_parameter import hidden_test, with_parameter
from harness.workload.real.screen import ScreenedParameter, is_test_path, load_parameters
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, GoldStep, TaskSpec
from harness.world import World
from harness.world.pycode import add_keyword_parameter

NAME = "code_modification/real_add_parameter"


def _pool() -> tuple[ScreenedParameter, ...]:
    return rc.interleaved(load_parameters(), "real.parameters")


def _test_module(files: dict[str, str], function: str) -> str:
    uses = Counter({p: t.count(function) for p, t in files.items() if p.endswith(".py") and is_test_path(p)})
    return max(sorted(uses), key=lambda p: uses[p])


@family
class RealAddParameter:
    name = NAME
    category = "code_modification"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        return self.sample_params_at(rng, difficulty, int(rng.integers(len(_pool()))))

    def sample_params_at(self, rng: np.random.Generator, difficulty: int, index: int) -> dict[str, Any]:
        return {"target": rc.nth(_pool(), index, "new-parameter tasks").key}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        t = rc.by_key(load_parameters(), params["target"], "new-parameter task")
        initial = rc.tree(t.package)
        solved = with_parameter(initial[t.path], t.function, t.parameter)
        hidden_path, hidden = hidden_test(t.candidate)
        returns = solved.count(f" if {t.parameter} is None else ")
        p = t.parameter
        return TaskSpec(
            id=task_id, category=self.category, family=self.name,
            difficulty=min(5, 1 + returns + (initial[t.path].count("\n") > 1500)), seed=int(seed),
            params={**params, "package": t.package, "path": t.path, "function": t.function, "returns": returns},
            public={"function": t.function, "path": t.path, "parameter": p, "package": t.package,
                    "test_module": _test_module(initial, t.function), "version": rc.version(t.package)},
            instructions=(
                f"In {t.package} {rc.version(t.package)} (its source is checked out in the workspace), give the "
                f"function `{t.function}` in `{t.path}` a new keyword-only parameter `{p}` with default `None`. "
                f"When `{p}` is a callable, `{t.function}` returns `{p}(result)`, where `result` is what it "
                f"returns today; when `{p}` is `None`, nothing changes. Every existing caller must keep working: "
                f"the package's own test suite must pass, and the new behaviour will be tested."),
            budget=end_of_day(40, "the change"),
            checkers=(
                CheckerRef(name="suite_passes", args={"expected": rc.expected_green(t.package) + 1,
                                                      "hidden": {hidden_path: hidden}}),
                CheckerRef(name="files_unchanged", args={"digests": rc.test_digests(initial)}),
            ),
            gold=(GoldStep(op="write", args={"path": t.path, "text": solved}),),
            traps={"signature_only": (GoldStep(op="write", args={
                "path": t.path, "text": add_keyword_parameter(initial[t.path], t.function, f"{p}=None")}),)},
        )

    def build_world(self, spec: TaskSpec) -> World:
        package = spec.params["package"]
        return rc.world_of(rc.tree(package), package)
