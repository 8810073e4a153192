"""Executors run task jobs and yield their results as they finish: ``local`` (this
machine's processes) and ``ray`` (an actor pool on a local Ray or a cluster). See ``base``."""

from harness.experiment.executors.base import (
    EXECUTORS,
    MODEL_WAIT_CONCURRENCY,
    Executor,
    concurrency_of,
    default_concurrency,
    make_executor,
    validate_executor,
)
from harness.experiment.executors.local import LocalExecutor, LocalOptions

__all__ = ["EXECUTORS", "MODEL_WAIT_CONCURRENCY", "Executor", "LocalExecutor", "LocalOptions", "concurrency_of",
           "default_concurrency", "make_executor", "validate_executor"]
