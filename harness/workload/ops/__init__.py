"""The world operations, one module per world component; ``harness.workload.gold.WORLD_OPS``
finds them by importing every module here."""
