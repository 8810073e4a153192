"""Every plug-in a run names is asked about its options when the config is composed,
before the store is opened: layer variants, loops (when a condition is loaded), the
fault model, the agent and the executor. A bad
value is a one-line ConfigError naming the key (``layers.tools.config.test_timeout_s``),
and nothing is built to find out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.agents.registry import code_trusted, validate_agent
from harness.core.errors import ConfigError
from harness.experiment.conditions import Condition, runtime_layers
from harness.experiment.executors.base import validate_executor
from harness.experiment.faults import FaultModel
from harness.runtime.runtime import validate_layers

if TYPE_CHECKING:
    from harness.experiment.config import RunConfig


def check_plugins(cfg: RunConfig) -> None:
    agent = validate_agent(cfg.agent)
    trusted = code_trusted(agent)
    for condition in cfg.conditions:
        _check_layers(condition, trusted)
        FaultModel.parse({**cfg.faults, **condition.faults})
    validate_executor(cfg.executor)


def _check_layers(condition: Condition, trusted: bool) -> None:
    try:
        validate_layers(runtime_layers(condition, trusted))
    except ConfigError as exc:
        raise ConfigError(f"condition {condition.name}: {exc.message}", hint=exc.hint) from None
