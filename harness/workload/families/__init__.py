"""Task families; importing this package registers every built-in family."""

from harness.workload.families import rename_symbol  # noqa: F401
