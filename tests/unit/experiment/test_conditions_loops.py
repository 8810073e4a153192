"""Condition presets, deployment loops, the gap factorial and plugged-in agents."""

import sys
import textwrap
from pathlib import Path

import pytest

from harness.agents.scope import EpisodeScope
from harness.core.errors import ConfigError
from harness.core.registry import PluginError
from harness.experiment.conditions import Condition, known_conditions, load_condition
from harness.experiment.config import build_run_config
from harness.experiment.episode import run_episode
from harness.experiment.factorial import FactorialSpec, expand
from harness.experiment.loops import LOOPS, ChainOptions, ChatbotOptions, make_loop, validate_loop
from harness.runtime.port import Observation, ToolError
from harness.runtime.runtime import Runtime
from tests.strategy_support import tasks

CONFIGS = Path(__file__).resolve().parents[3] / "configs"
PRESETS = ["agent_native", "human", "chatbot", "api_chain", "manual_script"]
GAP3 = {"base": "human", "treatment": "agent_native",
        "components": [{"name": "context", "short": "ctx", "layers": ["execution", "memory"]},
                       {"name": "agency", "short": "agy", "layers": ["security", "tools"]},
                       {"name": "observability", "short": "obs", "layers": ["observability"]}]}


@pytest.fixture(scope="module")
def renames():
    return tasks("code_modification/rename_symbol", difficulties=(1, 2), per_difficulty=2)


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_builds_all_five_layers(name):
    cond = load_condition(CONFIGS, name)
    assert set(cond.layers) == {"execution", "tools", "memory", "security", "observability"}
    Runtime({k: v.model_dump() for k, v in cond.layers.items()})
    make_loop(cond.loop, cond.loop_options)
    assert name in known_conditions(CONFIGS)


def test_the_two_ends_differ_in_every_layer():
    native, human = load_condition(CONFIGS, "agent_native"), load_condition(CONFIGS, "human")
    assert all(native.layers[k].variant != human.layers[k].variant for k in native.layers)


def test_factorial_has_eight_cells_whose_corners_are_the_presets():
    cells = expand(FactorialSpec(**GAP3), CONFIGS)
    assert len(cells) == 8 and len({c.name for c in cells}) == 8
    by_name = {c.name: c for c in cells}
    assert by_name["ctx0-agy0-obs0"].behaviour() == load_condition(CONFIGS, "human").behaviour()
    assert by_name["ctx1-agy1-obs1"].behaviour() == load_condition(CONFIGS, "agent_native").behaviour()
    mixed = by_name["ctx1-agy0-obs0"]
    assert mixed.layers["execution"].variant == "durable" and mixed.layers["memory"].variant == "tiered"
    assert mixed.layers["tools"].variant == "shell" and mixed.layers["observability"].variant == "textlog"


def test_factorial_rejects_a_layer_in_two_components():
    bad = {**GAP3, "components": [{"name": "a", "layers": ["tools"]}, {"name": "b", "layers": ["tools", "memory"]}]}
    with pytest.raises(ValueError, match="two components"):
        FactorialSpec(**bad)


def test_table2_experiment_expands_the_factorial():
    cfg = build_run_config(["experiment=table2"])
    assert [c.name for c in cfg.conditions][0] == "ctx0-agy0-obs0" and len(cfg.conditions) == 8
    assert cfg.comparison() == ("ctx1-agy1-obs1", "ctx0-agy0-obs0")
    stored = FactorialSpec.model_validate_json(cfg.factorial.model_dump_json())  # survives storage
    assert list(stored.cells()) == [c.name for c in cfg.conditions]


def test_a_factorial_corner_gives_the_presets_episodes(renames):
    """Invariant 2: the name is a label; the same layers give byte-identical episodes."""
    corner = next(c for c in expand(FactorialSpec(**GAP3), CONFIGS) if c.name == "ctx0-agy0-obs0")
    human = load_condition(CONFIGS, "human")
    faults = {"crash_rate": 0.05, "transient_failure_rate": 0.05}
    for spec in renames:
        a, _ = run_episode("r", spec, corner.model_copy(update={"faults": faults}), {"name": "reference"}, 0, 0,
                           scope=EpisodeScope())
        b, _ = run_episode("r", spec, human.model_copy(update={"faults": faults}), {"name": "reference"}, 0, 0,
                           scope=EpisodeScope())
        strip = {"condition", "wall_seconds"}
        assert a.model_dump(exclude=strip) == b.model_dump(exclude=strip)


def test_chatbot_relay_costs_time_and_flattens_structure():
    loop = make_loop("chatbot", {"relay_minutes": 2.0, "max_lines": 2})
    assert loop.relay_minutes() == 2.0
    out = loop.deliver(Observation(tool="t", ok=True, data={"a": 1}))
    assert out.data is None and '"a": 1' in out.text
    long = loop.deliver(Observation(tool="shell", ok=True, text="1\n2\n3\n4\n5\n"))
    assert long.text == "1\n2\n3\n4\n5\n"  # pasted in full: nothing is lost on the way ...
    assert loop.paste_minutes(long) == 2 * 2.0  # ... in three messages, two more relays
    assert loop.paste_minutes(out) == 0.0


def test_chain_hides_failures_and_caps_steps(renames):
    loop = make_loop("chain", {"steps_per_session": 3})
    out = loop.deliver(Observation(tool="t", ok=False, applied=False, error=ToolError(code="x", message="boom")))
    assert out.ok and out.error is None and "boom" in out.text
    chain = load_condition(CONFIGS, "api_chain").model_copy(update={"loop_options": {"steps_per_session": 2}})
    ep, _ = run_episode("r", renames[0], chain, {"name": "reference"}, 0, 0, scope=EpisodeScope())
    assert ep.actions <= 2 * max(1, len(renames[0].sessions)) and not ep.success


def test_chatbot_episodes_take_longer_in_simulated_time(renames):
    human, chatbot = load_condition(CONFIGS, "human"), load_condition(CONFIGS, "chatbot")
    for spec in renames:
        h, _ = run_episode("r", spec, human, {"name": "reference"}, 0, 0, scope=EpisodeScope())
        c, _ = run_episode("r", spec, chatbot, {"name": "reference"}, 0, 0, scope=EpisodeScope())
        assert c.sim_minutes >= h.sim_minutes + 3.0 * min(c.actions, h.actions) - 1e-9


def test_bad_loop_options_are_config_errors():
    with pytest.raises(ConfigError, match="steps_per_session"):
        make_loop("chain", {"steps_per_session": 0})
    with pytest.raises(ConfigError, match="unknown loop"):
        make_loop("telepathy")


def test_loops_are_a_registry_with_typed_options():
    assert LOOPS.names() == ["autonomous", "chain", "chatbot"]
    assert validate_loop("chatbot", {"max_lines": 10}) == ChatbotOptions(max_lines=10)
    assert validate_loop("chain") == ChainOptions()
    assert type(make_loop("autonomous")).__name__ == "AutonomousLoop"


@pytest.mark.parametrize("loop,options,key", [
    ("telepathy", {}, "loop: unknown loop 'telepathy'; known: autonomous, chain, chatbot"),
    ("chain", {"steps_per_session": 0}, "loop_options.steps_per_session"),
    ("chatbot", {"relay_minute": 1}, "loop_options.relay_minute"),
    ("autonomous", {"relay_minutes": 1}, "loop_options.relay_minutes"),  # it takes no options
])
def test_a_condition_with_a_bad_loop_is_a_config_error_naming_the_key(loop, options, key):
    with pytest.raises(ConfigError) as err:
        Condition(name="c", loop=loop, loop_options=options, layers={})
    assert key in err.value.message
    with pytest.raises(ConfigError, match=key.split(":")[0]):
        validate_loop(loop, options)


def test_a_preset_with_a_bad_loop_names_its_file_and_the_key(tmp_path):
    (tmp_path / "condition").mkdir()
    (tmp_path / "condition" / "odd.yaml").write_text("loop: chain\nloop_options: {steps: 3}\nlayers: {}\n")
    with pytest.raises(ConfigError, match=r"odd\.yaml is invalid: .*loop_options\.steps"):
        load_condition(tmp_path, "odd")


def test_a_loop_name_registered_twice_is_refused():
    with pytest.raises(PluginError, match="registered twice"):
        LOOPS.register("chatbot", options=ChatbotOptions)(type("OtherChatbot", (), {}))
    assert LOOPS.entry("chatbot").factory.__name__ == "ChatbotLoop"


def test_loop_validation_leaves_the_stored_condition_spec_as_written():
    """The condition hash is stored: validating loop_options must not fill in defaults."""
    cond = load_condition(CONFIGS, "chatbot")
    assert cond.behaviour()["loop"] == "chatbot"
    assert cond.behaviour()["loop_options"] == cond.loop_options
    chain = Condition(name="c", loop="chain", layers={})
    assert chain.behaviour() == {"loop": "chain", "loop_options": {}, "layers": {}, "faults": {}}


def test_a_custom_agent_plugs_in_by_import_path(tmp_path, monkeypatch, renames):
    (tmp_path / "outside_agent.py").write_text(textwrap.dedent('''
        from harness.runtime.port import Call, Submit

        class Looker:
            def __init__(self, path):
                self.path = path
            def run(self, brief, tools, rng):
                names = {t.name for t in tools}
                if "read_file" in names:
                    yield Call(tool="read_file", args={"path": self.path})
                else:
                    yield Call(tool="shell", args={"command": "cat " + self.path})
                yield Submit(answer={})
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = renames[0]
    agent = {"name": "custom", "import_path": "outside_agent:Looker", "options": {"path": spec.public["test_module"]}}
    for name in ("agent_native", "human"):
        ep, actions = run_episode("r", spec, load_condition(CONFIGS, name), agent, 0, 0, scope=EpisodeScope())
        assert ep.error is None and ep.termination == "submitted" and [a.tool for a in actions][0] in ("read_file",
                                                                                                    "shell")
        assert not ep.success  # reading is not renaming: the checkers decide
    sys.modules.pop("outside_agent", None)


@pytest.mark.parametrize("path,message", [("nodots", "package.module:Class"), ("no_such_mod:X", "cannot import"),
                                          ("json:NoSuch", "has no")])
def test_bad_import_paths_are_config_errors(path, message):
    from tests.scripted import make_agent

    with pytest.raises(ConfigError, match=message):
        make_agent({"name": "custom", "import_path": path})


@pytest.mark.parametrize("phase,native_layers", [
    ("phase1", {"observability"}),
    ("phase2", {"observability", "execution", "memory"}),
    ("phase3", {"observability", "execution", "memory", "tools", "security"}),
])
def test_phases_switch_exactly_their_layers(phase, native_layers):
    cond, native, human = (load_condition(CONFIGS, n) for n in (phase, "agent_native", "human"))
    for layer, choice in cond.layers.items():
        expected = native if layer in native_layers else human
        assert choice == expected.layers[layer], (phase, layer)
    assert cond.loop == human.loop


def test_the_five_factor_factorial_has_32_cells():
    cfg = build_run_config(["experiment=factorial5"])
    assert len(cfg.conditions) == 32 and len({c.behaviour_hash() for c in cfg.conditions}) == 32
