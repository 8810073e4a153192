"""The memory layer: ``tiered`` (agent-native), ``context`` and ``notes`` (human-oriented)."""

from harness.runtime.memory.base import (
    MEMORY_VARIANTS,
    MemoryLayer,
    Recalled,
    make_memory_layer,
    memory_variant,
)
from harness.runtime.memory.store import InMemoryStore, MemoryStore, SQLiteStore

__all__ = [
    "MEMORY_VARIANTS",
    "InMemoryStore",
    "MemoryLayer",
    "MemoryStore",
    "Recalled",
    "SQLiteStore",
    "make_memory_layer",
    "memory_variant",
]
