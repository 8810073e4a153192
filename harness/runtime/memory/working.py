"""Compressed working memory: what the agent keeps in front of it, under a token budget.

Tokens are counted as whitespace-separated words (``len(text.split())``): a documented,
tokenizer-free proxy that is deterministic and roughly 0.75x a BPE token count for prose.

An item remembered under a key that is already held replaces the older item (the newer
value is the current one; long-term memory keeps the history).

``view(goal)`` renders the memory as it fits the budget: the newest items verbatim (as
many as fit, newest first), then the older items compressed extractively: their
sentences are scored by word overlap with the current goal (ties: newer first), exact
duplicates (after normalising case and whitespace, including sentences already shown
verbatim) are dropped, and the best sentences are kept while the budget allows. Nothing
is paraphrased, so every kept sentence is a sentence the agent actually wrote or saw.

The compression ratio is measured, not assumed: tokens held / tokens shown in the last
view (1.0 when everything fits).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.core.errors import ConfigError
from harness.runtime.memory.embedders import words

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def count_tokens(text: str) -> int:
    return len(text.split())


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def _norm(sentence: str) -> str:
    return " ".join(sentence.lower().split())


@dataclass(frozen=True)
class WorkingItem:
    key: str
    text: str
    t: float = 0.0


@dataclass(frozen=True)
class WorkingView:
    verbatim: list[WorkingItem]  # newest first
    extracts: list[str]  # kept sentences of older items, best first
    tokens_held: int
    tokens_shown: int

    @property
    def compression_ratio(self) -> float:
        return self.tokens_held / self.tokens_shown if self.tokens_shown else 1.0

    def render(self) -> str:
        parts = [f"[{it.key}] {it.text}" if it.key else it.text for it in self.verbatim]
        if self.extracts:
            parts.append("(earlier, compressed) " + " ".join(self.extracts))
        return "\n".join(parts)


@dataclass
class WorkingMemory:
    """Holds up to ``max_items`` recent items; shows at most ``token_budget`` tokens."""

    token_budget: int = 400
    max_items: int = 200
    items: list[WorkingItem] = field(default_factory=list)  # oldest first
    last_ratio: float = 1.0

    def __post_init__(self) -> None:
        for name in ("token_budget", "max_items"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"working memory {name} must be a positive integer, got {v!r}")

    def add(self, key: str, text: str, t: float = 0.0) -> None:
        """Append; a keyed item replaces an older one of the same key (its value is stale)."""
        if key:
            self.items = [it for it in self.items if it.key != key]
        self.items.append(WorkingItem(key, text, t))
        # items beyond max_items are dropped here; the tiered layer still has them episodically
        del self.items[: max(0, len(self.items) - self.max_items)]

    def clear(self) -> None:
        self.items.clear()
        self.last_ratio = 1.0

    def tokens_held(self) -> int:
        return sum(count_tokens(it.text) for it in self.items)

    def view(self, goal: str = "") -> WorkingView:
        budget = self.token_budget
        verbatim: list[WorkingItem] = []
        used = 0
        older_start = len(self.items)
        for i in range(len(self.items) - 1, -1, -1):  # newest first, stop at the first misfit
            n = count_tokens(self.items[i].text)
            if used + n > budget:
                break
            verbatim.append(self.items[i])
            used += n
            older_start = i
        seen = {_norm(s) for it in verbatim for s in split_sentences(it.text)}
        goal_words = set(words(goal))
        candidates: list[tuple[int, int, str]] = []
        for age, it in enumerate(reversed(self.items[:older_start])):
            for s in split_sentences(it.text):
                if _norm(s) in seen:
                    continue
                seen.add(_norm(s))
                candidates.append((-len(goal_words & set(words(s))), age, s))
        extracts: list[str] = []
        for _score, _age, s in sorted(candidates, key=lambda c: (c[0], c[1])):
            n = count_tokens(s)
            if used + n <= budget:
                extracts.append(s)
                used += n
        v = WorkingView(verbatim, extracts, self.tokens_held(), used)
        self.last_ratio = v.compression_ratio
        return v

    def to_dict(self) -> dict[str, Any]:
        return {"items": [asdict(it) for it in self.items], "last_ratio": self.last_ratio}

    def load_dict(self, data: dict[str, Any]) -> None:
        self.items = [WorkingItem(**it) for it in data.get("items", [])]
        self.last_ratio = float(data.get("last_ratio", 1.0))
