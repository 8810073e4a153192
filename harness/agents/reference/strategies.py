"""The reference agent's strategies by task family: ``STRATEGIES``.

A strategy module registers its function under the family it solves::

    @STRATEGIES.register("data_analysis/aggregate")
    def aggregate(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps: ...

and is named after the family (``aggregate.py``). The registry finds strategies by
importing every module of this folder on first lookup (the shared helpers too, which
register nothing), so no module imports the strategies by name. A strategy takes no
options: the registered factory is the strategy itself, called with the brief, the
toolkit and the error processes.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.core.registry import Registry
from harness.runtime.port import AgentRun

Strategy = Callable[..., AgentRun]

STRATEGIES: Registry[AgentRun] = Registry("reference strategy", plugins="harness.agents.reference")
