"""The attacks of issue 17, as outside agents: each cheat fails, each escape is blocked,
the run survives. The agents are in ``agents.py``; they import only the port.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.agents.scope import EpisodeScope
from harness.experiment.conditions import Condition, LayerChoice, load_condition, runtime_layers
from harness.experiment.episode import run_episode
from harness.workload import run_checkers
from harness.workload.gold import apply_gold
from harness.workload.registry import get_family
from tests.adversarial.agents import ESCAPE_DIR, PREAMBLE
from tests.strategy_support import tasks

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
ESCAPE = Path(ESCAPE_DIR)
FAST_TESTS = {"minutes_per_call": 0.5, "minutes_per_test_run": 2.0, "test_timeout_s": 1.0}
TYPED = Condition(name="t", layers={"tools": LayerChoice(variant="typed", config=FAST_TESTS)})
SHELL = Condition(name="s", layers={"tools": LayerChoice(variant="shell", config=FAST_TESTS)})


def outside(cls: str, **extra) -> dict:
    return {"name": "custom", "import_path": f"tests.adversarial.agents:{cls}", **extra}


@pytest.fixture(scope="module")
def renames():
    return tasks("code_modification/rename_symbol", difficulties=(1, 2), per_difficulty=1)


@pytest.fixture()
def escape_dir():
    """The attacks' target outside the sandbox: nothing but the victim may be there after."""
    ESCAPE.mkdir(parents=True, exist_ok=True)
    victim = ESCAPE / "victim"
    victim.write_text("must survive")
    before = {p.name for p in ESCAPE.iterdir()}
    yield ESCAPE
    assert victim.exists(), "an attack deleted a file on the host"
    new = {p.name for p in ESCAPE.iterdir()} - before
    assert not new, f"an attack wrote outside the sandbox: {sorted(new)}"


def test_a_preamble_in_the_package_passes_nothing_and_changes_nothing_after(renames, escape_dir):
    def episodes(name):
        return [run_episode("r", t, c, outside(name), 0, 0, scope=EpisodeScope())[0]
                for t in renames for c in (TYPED, SHELL)]

    control, attacked, after = episodes("Idle"), episodes("Preamble"), episodes("Idle")
    assert not any(e.success for e in attacked)
    assert all(e.termination == "submitted" and e.error is None for e in attacked)
    key = [(e.success, e.termination, e.world_digest, e.check_detail) for e in control]
    assert key == [(e.success, e.termination, e.world_digest, e.check_detail) for e in after]
    assert not any(name.startswith(t.public["package"]) for t in renames for name in sys.modules)


def test_checkers_run_workspace_code_only_in_the_sandbox(renames, monkeypatch, escape_dir):
    import harness.world.testrun as testrun

    def refuse(*args, **kwargs):
        raise AssertionError("a checker ran workspace code in the harness process")

    monkeypatch.setattr(testrun, "run_test_module", refuse)
    spec = renames[0]
    world = apply_gold(get_family(spec.family).build_world(spec), spec.gold)
    assert all(c.passed for c in run_checkers(world, spec))
    from harness.workload.checks import CHECKERS

    registry = {e.name: e.factory for e in CHECKERS.entries()}
    world.workspace.write(f"{spec.public['package']}/__init__.py", PREAMBLE + world.workspace.read(
        f"{spec.public['package']}/__init__.py"))
    results = {c.checker: c for c in run_checkers(world, spec)}
    assert {e.name: e.factory for e in CHECKERS.entries()} == registry and "forged" not in str([c.to_dict() for c in results.values()])
    # in the sandbox the preamble only broke its own run: the verdict says so
    assert not results["tests_pass"].passed and "before reporting" in results["tests_pass"].reason


@pytest.mark.parametrize("condition", [TYPED, SHELL], ids=["typed", "shell"])
def test_a_test_module_cannot_reach_the_host(renames, condition, escape_dir):
    episode, actions = run_episode("r", renames[0], condition, outside("EscapingTest"), 0, 0, scope=EpisodeScope())
    assert episode.error is None and episode.termination == "submitted" and not episode.success
    assert len(actions) == 2


def test_the_agent_process_holds_nothing_of_the_harness(renames, escape_dir):
    root = Path(__file__).resolve().parents[2]
    paths = [str(root / "workloads"), str(root / "harness" / "workload"), str(Path.home())]
    for condition in (TYPED, SHELL):
        episode, _ = run_episode("r", renames[0], condition, outside("FrameWalker", options={"paths": paths}), 0, 0,
                                 scope=EpisodeScope())
        assert episode.error is None and not episode.success


def test_an_agent_that_never_yields_is_killed_and_the_run_goes_on(renames):
    agent = outside("NeverYields", limits={"action_seconds": 1.0})
    episode, _ = run_episode("r", renames[0], TYPED, agent, 0, 0, scope=EpisodeScope())
    assert episode.termination == "agent_error"
    assert "did not answer within 1 s" in episode.error
    after, _ = run_episode("r", renames[0], TYPED, outside("Idle"), 0, 0, scope=EpisodeScope())
    assert after.termination == "submitted"


def test_a_test_that_swallows_every_time_limit_is_stopped_from_outside(renames, escape_dir):
    episode, actions = run_episode("r", renames[0], TYPED, outside("HangingTest"), 0, 0, scope=EpisodeScope())
    assert episode.termination == "submitted" and episode.error is None and not episode.success
    assert "wall clock" in episode.check_detail
    assert [a.tool for a in actions] == ["write_file", "run_tests"]


def test_huge_inputs_are_refused_and_the_run_goes_on(renames):
    episode, actions = run_episode("r", renames[0], SHELL, outside("HugeInputs"), 0, 0, scope=EpisodeScope())
    assert episode.error is None and episode.termination == "submitted"
    assert [a.ok for a in actions][:1] == [False]  # the 5 MB command was refused


@pytest.mark.parametrize("kind", ["SystemExit", "KeyboardInterrupt", "GeneratorExit", "MemoryError", "exit", "kill"])
def test_no_exception_or_death_of_the_agent_ends_the_run(renames, kind):
    episode, _ = run_episode("r", renames[0], TYPED, outside("Raises", options={"kind": kind}), 0, 0,
                             scope=EpisodeScope())
    assert episode.termination == "agent_error" and episode.error
    assert episode.traceback
    after, _ = run_episode("r", renames[0], TYPED, outside("Idle"), 0, 0, scope=EpisodeScope())
    assert after.termination == "submitted"


@pytest.mark.parametrize("text", ["\udcff", "a\x00b"], ids=["surrogate", "nul"])
@pytest.mark.parametrize("condition", [TYPED, SHELL], ids=["typed", "shell"])
def test_text_no_layer_can_hold_is_an_agent_error(renames, text, condition):
    episode, actions = run_episode("r", renames[0], condition, outside("BadText", options={"text": text}), 0, 0,
                                   scope=EpisodeScope())
    assert episode.termination == "agent_error" and not actions
    assert "no layer can hold" in episode.error or "surrogates not allowed" in episode.error


@pytest.mark.parametrize("text", ["\udcff", "a\x00b", "x" * 8_000_001], ids=["surrogate", "nul", "8M"])
def test_the_port_refuses_what_an_in_process_adapter_passes_on(renames, text):
    """An in-process agent (a model adapter decoding a model's JSON) meets the same line."""
    from harness.runtime.port import Call, Submit
    from tests.scripted import TYPED as PLAIN_TYPED
    from tests.scripted import register

    register("adversarial-bad-text", lambda brief, tools: iter([Call(tool="write_file", args={
        "path": "notes.txt", "text": text}), Submit()]))
    episode, actions = run_episode("r", renames[0], PLAIN_TYPED, {"name": "adversarial-bad-text"}, 0, 0,
                                   scope=EpisodeScope())
    assert episode.termination == "agent_error" and not actions
    assert "the agent sent" in episode.error


def test_outside_agents_get_the_sandbox_whatever_the_preset_says():
    for name in ("agent_native", "human"):
        cond = load_condition(CONFIGS, name)
        assert runtime_layers(cond, code_trusted=False)["tools"]["config"]["test_runner"] == "sandbox"
        assert runtime_layers(cond, code_trusted=True)["tools"] == cond.layers["tools"].model_dump()


def test_a_custom_agent_cannot_name_a_harness_module():
    from harness.core.errors import ConfigError
    from tests.scripted import make_agent

    with pytest.raises(ConfigError, match="module of the harness"):
        make_agent({"name": "custom", "import_path": "harness.agents.reference.agent:ReferenceAgent"})


@pytest.mark.slow
def test_an_attacked_episode_changes_no_other_and_rows_do_not_depend_on_workers(tmp_path, escape_dir):
    from harness.store import reader
    from tests.conftest import ROOT, run_cli

    small = ["experiment=smoke", "workload.limit=12", "repeats=1", "max_errors=1000"]
    env = {"PYTHONPATH": str(ROOT)}

    def rows(db, agent, workers):
        proc = run_cli("run", *small, f"store.path={db}", f"executor.workers={workers}", *agent, env=env)
        assert proc.returncode == 0, proc.stderr
        eps = reader.episodes(db, reader.latest_run(db))
        keep = ["condition", "task_id", "repeat", "success", "termination", "world_digest", "check_detail",
                "actions", "sim_minutes"]
        return eps[keep].sort_values(["condition", "task_id"]).reset_index(drop=True)

    mixed = ["agent=custom", "agent.import_path=tests.adversarial.agents:Mixed",
             "+agent.options.attack=Preamble", "+agent.options.every=3"]
    one, two = rows(tmp_path / "a.duckdb", mixed, 1), rows(tmp_path / "b.duckdb", mixed, 2)
    assert one.equals(two)
    idle = rows(tmp_path / "c.duckdb", ["agent=custom", "agent.import_path=tests.adversarial.agents:Idle"], 1)
    attacked = one.actions > 0  # the attack writes; doing nothing takes no action
    assert 0 < attacked.sum() < len(one)
    assert one[~attacked].equals(idle[~attacked])
    assert not one.success.any()


def test_an_episode_of_slow_actions_is_stopped_by_its_wall_clock(renames):
    """Each hanging test run is bounded by its own limit; the episode's clock bounds them all."""
    agent = outside("HangingTest", limits={"episode_seconds": 4.0})  # a test run here takes 1 + 5 s
    episode, actions = run_episode("r", renames[0], TYPED, agent, 0, 0, scope=EpisodeScope())
    assert episode.termination == "agent_error" and "wall clock" in episode.error
    assert len(actions) == 2  # the write, the test run; nothing after the clock ran out
