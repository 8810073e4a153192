"""The memory-layer protocol and its registry of variants.

This is the seam behind the agent port's ``remember``/``recall``. The Runtime builds one
layer per agent instance with ``MEMORY_LAYERS.build(variant, config, store=..., clock=...)``:
``config`` is the condition's ``layers.memory.config``, checked by the variant's options
model (a ``MemoryOptions``; documented defaults, an unknown key is a ConfigError);
``store`` is the ``MemoryStore`` shared by the sessions and instances that should share
long-term memory (an in-memory one if omitted); ``clock`` stamps items with simulated
time (0.0 if omitted).

Every variant refuses an item larger than its ``max_item_chars`` (key, text and metadata
together): ``remember`` then returns the reason and keeps nothing, so an agent that
sends megabytes gets an error it can read instead of stalling the episode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from harness.core.registry import Registry
from harness.runtime.memory.embedders import words


@dataclass(frozen=True)
class Recalled:
    key: str
    text: str
    score: float  # higher is better; cosine for tiered, word overlap for context/notes
    source: str  # "episodic", "long_term", "window" or "notes"
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "score": self.score,
            "source": self.source,
            "meta": self.meta,
        }


class MemoryLayer(Protocol):
    """What the agent port calls. All state that matters is in ``snapshot()``."""

    def remember(self, key: str, text: str, meta: dict[str, Any] | None = None) -> str | None:
        """Store ``text`` under the subject ``key`` (a later text for the same key is newer).
        None when kept; else why it was refused (``oversized``), with nothing stored."""

    def recall(self, query: str, k: int = 5, *, record: bool = True) -> list[Recalled]:
        """At most ``k`` items relevant to ``query``, best first; [] when nothing matches.
        ``record=False`` is a measurement's read (a retention probe): it changes nothing
        (no access counts, no recency), so the episode goes on as if it had not happened."""

    def context(self, goal: str = "") -> str:
        """The text the layer keeps in front of the agent now (its working context)."""

    def observe(self, key: str, text: str) -> None:
        """What the agent was told at a session's start (its briefing). A layer that keeps
        what the agent was told without the agent's diligence stores it; the others ignore
        it (the agent has the briefing in front of it, and keeps what it writes down)."""

    def end_session(self) -> None:
        """A work session ends: each variant keeps only what its docstring says survives."""

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state for a checkpoint."""

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the state with a snapshot's (rejects a snapshot of another variant)."""

    def stats(self) -> dict[str, Any]:
        """JSON-able counters for the episode row and the bench."""


MEMORY_LAYERS: Registry[MemoryLayer] = Registry("memory variant", plugins="harness.runtime.memory",
                                                skip={"bench"})


# -- helpers shared by the variants -------------------------------------------------------
# Function words carry no subject: without this list "the" would make every line match.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
    ]
)


def content_words(text: str) -> set[str]:
    return set(words(text)) - STOPWORDS


# No published source: a guard against abuse, not a measured need. A remembered item is a
# note (a convention, a file map); the longest a task's briefing gets is ~1,300 characters.
DEFAULT_MAX_ITEM_CHARS = 64_000

PositiveInt = Annotated[int, Field(strict=True, ge=1)]  # strict: 2.5 or True is no count


class MemoryOptions(BaseModel):
    """What every variant's ``layers.memory.config`` may say; each variant adds its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_item_chars: PositiveInt = DEFAULT_MAX_ITEM_CHARS


def oversized(key: str, text: str, meta: dict[str, Any] | None, limit: int) -> str | None:
    """Why an item may not be remembered, or None. Counted as the agent sent it: key and
    text in characters, metadata as compact JSON."""
    size = len(key) + len(text)
    if meta:
        try:
            size += len(json.dumps(meta, ensure_ascii=False, default=str, separators=(",", ":")))
        except (ValueError, RecursionError):  # circular, or nested past any JSON reader
            return "remember refused: meta is not JSON"
    if size <= limit:
        return None
    return f"remember refused: {size:,} characters (key, text and meta), the limit is {limit:,}"


def check_snapshot(state: dict[str, Any], variant: str) -> None:
    if not isinstance(state, dict) or state.get("variant") != variant:
        got = state.get("variant") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"snapshot is of memory variant {got!r}, not {variant!r}")
