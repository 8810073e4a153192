"""Scripted agents for episode tests: a generator function of (brief, tools) registered
under a name, so a test states exactly what the agent does."""

import contextlib

from harness.agents.registry import AGENTS, build_agent, validate_agent
from harness.agents.scope import EpisodeScope
from harness.core.registry import Entry, NoOptions
from harness.experiment.conditions import Condition, LayerChoice

TYPED = Condition(name="t", layers={"tools": LayerChoice(variant="typed")})
SHELL = Condition(name="s", layers={"tools": LayerChoice(variant="shell")})


class Scripted:
    def __init__(self, script):
        self.script = script

    def run(self, brief, tools, rng):
        yield from self.script(brief, tools)


def agent_entry(name, make):
    """A registry entry for a test agent built by ``make()`` (no options; scope ignored)."""
    return Entry(name, lambda _options, **_context: make(), NoOptions)


_HELD = contextlib.ExitStack()  # test agents registered for the rest of the process (never closed)


def register_agent(name, make):
    """Register a test agent under ``name`` for the rest of the test process, replacing one
    an earlier test registered there (inside one test, prefer
    ``with AGENTS.substituted(agent_entry(name, make)):``)."""
    _HELD.enter_context(AGENTS.substituted(agent_entry(name, make)))


def register(name, script):
    register_agent(name, lambda: Scripted(script))


def make_agent(config, scope=None):
    """An agent built from a raw ``agent`` config the way the driver builds one, with the
    given episode scope (a fresh one when none is given)."""
    return build_agent(validate_agent(config), EpisodeScope() if scope is None else scope)
