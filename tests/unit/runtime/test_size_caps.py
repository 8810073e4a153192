"""Size limits an agent cannot abuse: a shell command, a typed call's arguments and a
remembered item over their limit come back as an error observation; nothing runs, nothing
is kept, nothing raises."""

from __future__ import annotations

import json

import pytest

from harness.core.errors import ConfigError
from harness.core.models import Brief
from harness.runtime.memory import MEMORY_LAYERS
from harness.runtime.port import Remember
from harness.runtime.session import Session
from harness.runtime.tools import TOOL_LAYERS
from harness.world import Workspace, World

BRIEF = Brief(task_id="t-0001", category="code_modification", family="demo", instructions="do it")


def _world() -> World:
    return World(Workspace({"a.txt": "hello\n"}))


# -- shell ---------------------------------------------------------------------------------
def test_the_shell_limit_defaults_to_100k_characters():
    assert TOOL_LAYERS.build("shell").limits.max_command_chars == 100_000


def test_a_command_just_under_the_limit_runs_and_one_just_over_is_refused():
    shell = TOOL_LAYERS.build("shell", {"max_command_chars": 1_000})
    world = _world()
    under = "echo " + "x" * (1_000 - len("echo  > b.txt")) + " > b.txt"
    assert len(under) == 1_000
    obs = shell.call(world, "shell", {"command": under})
    assert obs.ok and obs.applied and world.workspace.exists("b.txt")

    over = "echo " + "y" * (1_001 - len("echo  > c.txt")) + " > c.txt"
    obs = shell.call(world, "shell", {"command": over})
    assert not obs.ok and not obs.applied and obs.minutes == shell.minutes_per_call
    assert obs.text == "bash: command refused: 1,001 characters, the limit is 1,000\n"
    assert not world.workspace.exists("c.txt")


def test_a_five_megabyte_command_is_refused_before_it_is_parsed():
    world = _world()
    before = world.digest()
    obs = TOOL_LAYERS.build("shell").call(world, "shell", {"command": "rm a.txt '" + "x" * 5_000_000})
    assert not obs.applied and "command refused: 5,000,010 characters, the limit is 100,000" in obs.text
    assert world.digest() == before


def test_a_bad_shell_limit_is_a_config_error():
    with pytest.raises(ConfigError, match="layers.tools.config.max_command_chars"):
        TOOL_LAYERS.build("shell", {"max_command_chars": 0}, where="layers.tools.config")


# -- typed ---------------------------------------------------------------------------------
def _write_args(size: int) -> dict:
    """write_file arguments whose compact JSON is exactly ``size`` characters."""
    shell = {"path": "b.txt", "text": ""}
    overhead = len(json.dumps(shell, separators=(",", ":")))
    return {"path": "b.txt", "text": "z" * (size - overhead)}


def test_the_typed_limit_defaults_to_100k_characters():
    assert TOOL_LAYERS.build("typed").budgets.max_argument_chars == 100_000


def test_arguments_just_under_the_limit_run_and_just_over_are_refused_as_too_large():
    typed = TOOL_LAYERS.build("typed", {"max_argument_chars": 500})
    world = _world()
    obs = typed.call(world, "write_file", _write_args(500))
    assert obs.ok and obs.applied and world.workspace.exists("b.txt")

    world = _world()
    obs = typed.call(world, "write_file", _write_args(501))
    assert not obs.ok and not obs.applied and obs.minutes == typed.minutes_per_call
    assert obs.error.code == "too_large"
    assert obs.error.message == "arguments refused: 501 characters, the limit is 500"
    assert not world.workspace.exists("b.txt")
    assert typed.calls == {"write_file": 1}  # the refused call used no budget


def test_oversized_arguments_are_refused_whatever_their_shape():
    typed = TOOL_LAYERS.build("typed")
    nested = {"answer": {"rows": [["x" * 1_000] * 60] * 2}}
    obs = typed.call(_world(), "submit", nested)
    assert obs.error.code == "too_large" and not obs.applied
    circular: dict = {}
    circular["self"] = circular
    obs = typed.call(_world(), "submit", {"answer": circular})
    assert obs.error.code == "invalid_arguments" and not obs.applied


# -- memory --------------------------------------------------------------------------------
VARIANTS = [("context", {}), ("notes", {}), ("tiered", {"embedder": "hashing"})]


def _session(variant: str, config: dict) -> Session:
    return Session(world=_world(), brief=BRIEF, tools=TOOL_LAYERS.build("shell"),
                   memory=MEMORY_LAYERS.build(variant, config))


@pytest.mark.parametrize(("variant", "config"), VARIANTS)
def test_the_memory_limit_defaults_to_64k_characters(variant, config):
    assert MEMORY_LAYERS.build(variant, config).max_item_chars == 64_000


@pytest.mark.parametrize(("variant", "config"), VARIANTS)
def test_an_item_just_under_the_limit_is_kept_and_one_just_over_is_refused(variant, config):
    session = _session(variant, {**config, "max_item_chars": 2_000})
    key = "convention"
    kept = "kept " + "a" * (2_000 - len(key) - 5)
    obs = session.remember(Remember(key=key, text=kept))
    assert obs.ok and obs.applied
    assert any(kept in r.text for r in session.memory.recall("kept", 5))

    obs = session.remember(Remember(key="other", text="lost " + "b" * (2_001 - len("other") - 5)))
    assert not obs.ok and not obs.applied and obs.minutes == session.tools.minutes_per_call
    assert obs.text == "remember refused: 2,001 characters (key, text and meta), the limit is 2,000\n"
    assert not any("lost" in r.text for r in session.memory.recall("lost", 5))
    assert session.log[-1].tool == "remember" and not session.log[-1].ok


@pytest.mark.parametrize(("variant", "config"), VARIANTS)
def test_metadata_counts_toward_the_limit(variant, config):
    session = _session(variant, {**config, "max_item_chars": 100})
    obs = session.remember(Remember(key="k", text="short", meta={"blob": "m" * 200}))
    assert not obs.applied and "characters (key, text and meta), the limit is 100" in obs.text


@pytest.mark.parametrize(("variant", "config"), VARIANTS)
def test_ten_megabytes_are_refused_without_raising(variant, config):
    session = _session(variant, config)
    obs = session.remember(Remember(key="k", text="x" * 10_000_000))
    assert not obs.ok and not obs.applied and "10,000,001 characters" in obs.text


@pytest.mark.parametrize("variant", ["context", "notes", "tiered"])
def test_a_bad_memory_limit_is_a_config_error(variant):
    with pytest.raises(ConfigError, match="max_item_chars"):
        MEMORY_LAYERS.build(variant, {"max_item_chars": 0})


def test_a_briefing_is_the_tasks_text_and_is_kept_whatever_its_size():
    memory = MEMORY_LAYERS.build("tiered", {"embedder": "hashing", "max_item_chars": 100})
    memory.observe("briefing of session 2", "the release branch is named stable-blue. " * 10)
    assert memory.recall("release branch", 1)[0].key == "briefing of session 2"
