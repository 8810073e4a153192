"""The results store (DuckDB): schema, the one writer, and read-only readers.

Notebooks, ``harness.paper`` and the CLI read through ``harness.store.reader``; only the
runner's main process writes, through ``ResultWriter``.
"""

from harness.store.files import check_store_path
from harness.store.reader import (
    actions,
    briefs,
    conditions,
    deterministic_episode_rows,
    episodes,
    estimates,
    exec_perf,
    latest_run,
    list_runs,
    run_info,
    tasks,
    transcript,
)
from harness.store.schema import SCHEMA_VERSION
from harness.store.writer import ResultWriter, RunInfo, delete_run

__all__ = [
    "SCHEMA_VERSION",
    "ResultWriter",
    "RunInfo",
    "actions",
    "briefs",
    "check_store_path",
    "conditions",
    "delete_run",
    "deterministic_episode_rows",
    "episodes",
    "estimates",
    "exec_perf",
    "latest_run",
    "list_runs",
    "run_info",
    "tasks",
    "transcript",
]
