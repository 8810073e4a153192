"""Scripted agents for episode tests: a generator function of (brief, tools) registered
under a name, so a test states exactly what the agent does."""

from harness.agents.registry import AGENTS
from harness.experiment.conditions import Condition, LayerChoice

TYPED = Condition(name="t", layers={"tools": LayerChoice(variant="typed")})
SHELL = Condition(name="s", layers={"tools": LayerChoice(variant="shell")})


class Scripted:
    def __init__(self, script):
        self.script = script

    def run(self, brief, tools, rng):
        yield from self.script(brief, tools)


def register(name, script):
    AGENTS[name] = lambda cfg: Scripted(script)
