"""Both test backends give identical reports, and the tool layers route through either."""

from __future__ import annotations

import pytest

from harness.core.errors import ConfigError
from harness.core.rng import stream
from harness.runtime.tools import TOOL_LAYERS
from harness.workload.gold import apply_steps
from harness.workload.registry import FAMILIES, get_family
from harness.world import World
from harness.world.test_backends import bench_test_backends, run_tests

CATEGORIES = ("code_modification/", "code_review/")
SEEDS = (0, 1, 2)
MAX_MODULES = 3  # per world: review worlds import every module, ~0.2 s each when sandboxed


def _family_names() -> list[str]:
    # The families on real packages run their own pytest suite, always in the sandbox: the
    # backend setting does not apply to them.
    return [n for n in FAMILIES.names() if n.startswith(CATEGORIES) and "/real_" not in n]


def _worlds(name: str, seed: int) -> dict[str, World]:
    family = get_family(name)
    task_id = f"{name.split('/')[1]}-{seed}"
    difficulty = 1 + (2 * seed) % 5
    params = family.sample_params(stream(seed, task_id, 0, "params"), difficulty)
    spec = family.generate(task_id, params, 1000 * seed + difficulty)
    return {"initial": family.build_world(spec), "gold": apply_steps(family.build_world(spec), spec.gold)}


def _test_modules(world: World) -> list[str]:
    """Its test modules; a world without any (code review) has every module imported, as
    ``python FILE`` does through the same runner."""
    python = [p for p in world.workspace.list() if p.endswith(".py")]
    return [p for p in python if p.rsplit("/", 1)[-1].startswith("test_")] or python


def test_the_families_under_test_exist():
    names = _family_names()
    assert any(n.startswith("code_modification/") for n in names)
    assert any(n.startswith("code_review/") for n in names)


@pytest.mark.parametrize("name", _family_names())
@pytest.mark.parametrize("seed", SEEDS)
def test_both_backends_give_identical_reports(name, seed):
    compared = 0
    for which, world in _worlds(name, seed).items():
        digest = world.workspace.digest()
        for module in _test_modules(world)[:MAX_MODULES]:
            inproc = run_tests(world, module, 10.0, "inprocess").to_dict()
            boxed = run_tests(world, module, 10.0, "sandbox").to_dict()
            assert boxed == inproc, (which, module)
            compared += 1
        assert world.workspace.digest() == digest  # a test run never changes the world
    assert compared > 0, f"{name} has no test modules to compare"


def _a_world() -> tuple[World, str]:
    world = _worlds("code_modification/fix_bug", 0)["initial"]
    return world, _test_modules(world)[0]


def test_typed_run_tests_is_the_same_through_either_backend():
    world, module = _a_world()
    observations = [
        TOOL_LAYERS.build("typed", {"test_runner": runner}).call(world, "run_tests", {"path": module})
        for runner in ("inprocess", "sandbox")
    ]
    assert observations[0].data == observations[1].data
    assert observations[0].ok and observations[0].data["collected"] > 0


@pytest.mark.parametrize("command", ["python -m pytest {m}", "pytest", "python {m}"])
def test_shell_test_commands_are_the_same_through_either_backend(command):
    world, module = _a_world()
    line = command.format(m=module)
    texts = [
        TOOL_LAYERS.build("shell", {"test_runner": runner}).call(world, "shell", {"command": line}).text
        for runner in ("inprocess", "sandbox")
    ]
    assert texts[0] == texts[1]
    assert "passed" in texts[0] or "failed" in texts[0]


def test_an_unknown_test_runner_is_a_config_error():
    with pytest.raises(ConfigError):
        TOOL_LAYERS.build("typed", {"test_runner": "docker"})


def test_the_overhead_benchmark_reports_both_backends():
    out = bench_test_backends(n=3, modules=2)
    assert set(out) == {"inprocess_median_ms", "sandbox_median_ms", "sandbox_overhead_ratio"}
    assert all(v > 0 for v in out.values())
