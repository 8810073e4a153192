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

from typing import Any

from harness.agents.outside.host import OutOfProcessAgent, parse_settings
from harness.agents.registry import agent
from harness.runtime.port import Agent


@agent("custom")
def _make_custom(config: dict[str, Any]) -> Agent:
    return OutOfProcessAgent(parse_settings(config))
