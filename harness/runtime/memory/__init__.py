"""The memory layer: ``tiered`` (agent-native), ``context`` and ``notes`` (human-oriented)."""

from harness.runtime.memory.base import MEMORY_LAYERS, MemoryLayer, MemoryOptions, Recalled
from harness.runtime.memory.store import InMemoryStore, MemoryStore, SQLiteStore

__all__ = [
    "MEMORY_LAYERS",
    "InMemoryStore",
    "MemoryLayer",
    "MemoryOptions",
    "MemoryStore",
    "Recalled",
    "SQLiteStore",
]
