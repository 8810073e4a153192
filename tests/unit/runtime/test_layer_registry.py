"""The five layer registries: variants found by discovery, options checked by each variant's
pydantic model with the config key named, and a condition validated without building."""

from pathlib import Path

import pytest

from harness.core.errors import ConfigError
from harness.core.rng import RngStreams
from harness.experiment.conditions import known_conditions, load_condition
from harness.runtime.execution.base import ExecutionLayer
from harness.runtime.execution.ephemeral import EphemeralExecution
from harness.runtime.memory.base import MemoryLayer
from harness.runtime.observability.base import ObservabilityLayer
from harness.runtime.runtime import LAYER_REGISTRIES, LayerSpec, Runtime, validate_layers
from harness.runtime.security.base import SecurityLayer
from harness.runtime.tools.base import ToolLayer
from harness.runtime.tools.typed import TypedToolOptions
from harness.workload import get_family
from harness.workload.workloads import WorkloadConfig, build_workload

CONFIGS = Path(__file__).resolve().parents[3] / "configs"
VARIANTS = {
    "execution": ["durable", "ephemeral"],
    "tools": ["shell", "typed"],
    "memory": ["context", "notes", "tiered"],
    "security": ["ambient", "approval", "capabilities"],
    "observability": ["causal", "textlog"],
}


@pytest.mark.parametrize("layer", sorted(VARIANTS))
def test_every_variant_is_discovered_with_a_strict_frozen_options_model(layer):
    registry = LAYER_REGISTRIES[layer]
    assert registry.names() == VARIANTS[layer]
    for entry in registry.entries():
        config = entry.options.model_config
        assert config.get("frozen") and config.get("extra") == "forbid", entry.name

PROTOCOLS = {"execution": ExecutionLayer, "tools": ToolLayer, "memory": MemoryLayer, "security": SecurityLayer,
             "observability": ObservabilityLayer}


def _members(protocol: type) -> set[str]:
    """What the session and the episode loop may use of a layer: the Protocol's methods and attributes."""
    return {n for n in vars(protocol) if not n.startswith("_")} | set(getattr(protocol, "__annotations__", {}))


@pytest.mark.parametrize("layer", sorted(VARIANTS))
def test_every_variant_has_what_its_protocol_promises(layer):
    registry = LAYER_REGISTRIES[layer]
    for name in registry.names():
        config = {"embedder": "hashing"} if name == "tiered" else {}
        built = registry.build(name, config, **({"rng": RngStreams(0, "t", 0)} if layer == "security" else {}))
        missing = {m for m in _members(PROTOCOLS[layer]) if not hasattr(built, m)}
        assert not missing, f"{layer} variant {name} lacks {sorted(missing)}"
        if layer == "execution":
            built.close()


@pytest.mark.parametrize("config,key", [({"timeout": "abc"}, "timeout"), ({"minutes_per_call": "abc"}, "minutes_per_call"),
                                        ({"test_runner": "docker"}, "test_runner")])
def test_a_bad_tools_option_names_its_key(config, key):
    with pytest.raises(ConfigError, match=rf"layers\.tools\.config\.{key}\b"):
        validate_layers({"tools": {"variant": "typed", "config": config}})


@pytest.mark.parametrize("layers,key", [
    ({"execution": {"variant": "durable", "config": {"checkpoint_every": 0}}}, "execution.config.checkpoint_every"),
    ({"memory": {"variant": "tiered", "config": {"embedder": "bert"}}}, "memory.config.embedder"),
    ({"security": {"variant": "approval", "config": {"availability": 1.5}}}, "security.config.availability"),
    ({"security": {"variant": "capabilities", "config": {"policy": "may dance"}}}, "security.config.policy"),
    ({"observability": {"variant": "textlog", "config": {"tail_lines": "many"}}}, "observability.config.tail_lines"),
])
def test_a_bad_option_of_any_layer_names_its_key(layers, key):
    with pytest.raises(ConfigError, match=rf"layers\.{key}\b"):
        validate_layers({"tools": {"variant": "shell"}, **layers})


def test_an_unknown_variant_names_the_known_ones():
    with pytest.raises(ConfigError, match=r"layers\.tools\.variant: unknown tools variant 'gui'; known: shell, typed"):
        validate_layers({"tools": {"variant": "gui"}})
    with pytest.raises(ConfigError, match=r"layers\.memory\.variant: .*known: context, notes, tiered"):
        validate_layers({"tools": {"variant": "typed"}, "memory": {"variant": "vector_db"}})


def test_layer_names_and_the_tools_choice_are_checked():
    with pytest.raises(ConfigError, match=r"unknown layer\(s\) \['gui'\]"):
        validate_layers({"tools": {"variant": "typed"}, "gui": {"variant": "x"}})
    with pytest.raises(ConfigError, match=r"layers\.tools\.variant"):
        validate_layers({"memory": {"variant": "context"}})
    with pytest.raises(ConfigError, match=r"cond\.tools: unknown key"):
        validate_layers({"tools": {"variant": "typed", "options": {}}}, where="cond")


def test_validation_returns_the_options_models_with_defaults():
    chosen = validate_layers({"tools": {"variant": "typed", "config": {"minutes_per_call": 1.0}}})
    assert chosen == {"tools": LayerSpec("typed", TypedToolOptions(minutes_per_call=1.0))}
    assert chosen["tools"].options.minutes_per_test_run == 2.0 and chosen["tools"].options.max_argument_chars == 100_000


def test_validate_layers_and_runtime_build_nothing(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("a layer was built during validation")

    for registry in LAYER_REGISTRIES.values():
        for entry in registry.entries():
            monkeypatch.setattr(entry.factory, "__init__", boom)
    layers = {name: {"variant": variants[-1]} for name, variants in VARIANTS.items()}
    assert set(validate_layers(layers)) == set(VARIANTS)
    runtime = Runtime(layers)  # no throw-away set of layers any more
    spec = build_workload(WorkloadConfig(name="w", families=[{"family": "code_modification/rename_symbol",
                                                              "count": 1, "difficulties": [1]}]))[0]
    with pytest.raises(AssertionError, match="was built"):
        runtime.deploy(get_family(spec.family).build_world(spec), spec.brief(), RngStreams(0, spec.id, 0))


def test_a_condition_without_execution_runs_ephemeral():
    runtime = Runtime({"tools": {"variant": "typed"}})
    assert runtime.choices["execution"].variant == "ephemeral"
    spec = build_workload(WorkloadConfig(name="w", families=[{"family": "code_modification/rename_symbol",
                                                              "count": 1, "difficulties": [1]}]))[0]
    session = runtime.deploy(get_family(spec.family).build_world(spec), spec.brief(), RngStreams(0, spec.id, 0))
    assert isinstance(session.execution, EphemeralExecution) and session.memory is None


@pytest.mark.parametrize("name", known_conditions(CONFIGS))
def test_every_condition_preset_validates(name):
    cond = load_condition(CONFIGS, name)
    assert set(validate_layers({k: v.model_dump() for k, v in cond.layers.items()})) == set(cond.layers)
