"""Plugging in an agent from outside the project: ``agent=custom agent.import_path=pkg.mod:Class``.

The class is imported by path, in its own sandboxed process (``harness.agents.outside``),
and built there with ``agent.options`` as keyword arguments; it must have
``run(brief, tools, rng)`` returning a generator of port actions (the
``harness.runtime.port.Agent`` protocol), and may have ``answer_probe``. It sees exactly
what the reference agent sees, the brief, the tool list, its own random streams and the
observations, and nothing of the harness but ``harness.runtime.port``: never a condition,
how a task is judged or solved, or the process that judges it. The code it writes runs only in
the sandbox (DESIGN §5, invariant 10).
"""

from __future__ import annotations

from harness.agents.outside.host import OutOfProcessAgent, OutsideSettings
from harness.agents.registry import AGENTS
from harness.agents.scope import EpisodeScope
from harness.runtime.port import Agent


@AGENTS.register("custom", options=OutsideSettings)
def _make_custom(options: OutsideSettings, *, scope: EpisodeScope) -> Agent:
    return OutOfProcessAgent(options)  # calls no model through the harness: the scope is not its business
