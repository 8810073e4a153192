"""The human-oriented memory variants: ``context`` and ``notes``.

Neither has an index. Both score a line or item by how many content words (lower-cased,
function words removed) it shares with the query, normalised by the query's content
words; ties go to the newer item.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from harness.core.clock import SimClock
from harness.runtime.memory.base import (
    MEMORY_LAYERS,
    MemoryOptions,
    PositiveInt,
    Recalled,
    check_snapshot,
    content_words,
    oversized,
)
from harness.runtime.memory.store import InMemoryStore, MemoryStore


def _overlap(query_words: set[str], text: str) -> float:
    return len(query_words & content_words(text)) / len(query_words) if query_words else 0.0


class ContextOptions(MemoryOptions):
    window: PositiveInt = 20  # items kept, oldest out first


class NotesOptions(MemoryOptions):
    scan_window: PositiveInt = 200  # last lines a recall reads
    path: str = "NOTES.txt"
    namespace: str = "default"


@MEMORY_LAYERS.register("context", options=ContextOptions)
class ContextMemory:
    """A bounded context window: the last ``window`` remembered items, oldest out first.

    Guarantees: recall sees exactly the items still in the window; nothing survives
    ``end_session()`` (a new session starts with an empty context, as a new chat would).
    """

    def __init__(self, options: ContextOptions | None = None, *, store: MemoryStore | None = None,
                 clock: SimClock | None = None):
        options = options or ContextOptions()
        self.window = options.window
        self.max_item_chars = options.max_item_chars
        self.clock = clock or SimClock()
        self.items: deque[dict[str, Any]] = deque(maxlen=self.window)
        self.dropped = 0
        self.sessions_ended = 0

    def remember(self, key: str, text: str, meta: dict[str, Any] | None = None) -> str | None:
        refused = oversized(key, text, meta, self.max_item_chars)
        if refused:
            return refused
        if len(self.items) == self.window:
            self.dropped += 1
        self.items.append(
            {"key": key, "text": text, "meta": dict(meta or {}), "t": self.clock.now()}
        )
        return None

    def recall(self, query: str, k: int = 5, *, record: bool = True) -> list[Recalled]:
        q = content_words(query)
        scored = [
            (_overlap(q, it["key"] + " " + it["text"]), age, it)
            for age, it in enumerate(reversed(self.items))
        ]
        scored = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))[: max(k, 0)]
        return [
            Recalled(it["key"], it["text"], sc, "window", it["meta"]) for sc, _age, it in scored
        ]

    def context(self, goal: str = "") -> str:
        return "\n".join(f"[{it['key']}] {it['text']}" for it in self.items)

    def observe(self, key: str, text: str) -> None:
        pass  # the briefing is in the chat already; nothing of it outlives the session

    def end_session(self) -> None:
        self.items.clear()
        self.sessions_ended += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "variant": "context",
            "items": list(self.items),
            "dropped": self.dropped,
            "sessions_ended": self.sessions_ended,
        }

    def restore(self, state: dict[str, Any]) -> None:
        check_snapshot(state, "context")
        self.items = deque(state["items"], maxlen=self.window)
        self.dropped = int(state["dropped"])
        self.sessions_ended = int(state["sessions_ended"])

    def stats(self) -> dict[str, Any]:
        return {
            "variant": "context",
            "items": len(self.items),
            "window": self.window,
            "dropped": self.dropped,
        }


@MEMORY_LAYERS.register("notes", options=NotesOptions)
class NotesMemory:
    """An append-only scratch file (``path`` in a dict-backed file system kept in the
    ``MemoryStore``, so it survives sessions and is visible to instances sharing the store).

    ``remember`` appends one line ``key: text``. ``recall`` is what a person with ``tail``
    and ``grep`` does: a linear scan of the last ``scan_window`` lines only, keeping lines
    that share a content word with the query. Guarantees: nothing is ever rewritten or
    lost, but a note older than the scan window is not found, and there is no notion of a
    newer value replacing an older one beyond ranking ties by recency.
    """

    def __init__(self, options: NotesOptions | None = None, *, store: MemoryStore | None = None,
                 clock: SimClock | None = None):
        options = options or NotesOptions()
        self.scan_window = options.scan_window
        self.max_item_chars = options.max_item_chars
        self.store = store if store is not None else InMemoryStore()
        self.clock = clock or SimClock()
        self.ns = f"notes:{options.namespace}"
        self.path = options.path
        self.appended = 0

    def _read(self) -> str:
        rec = self.store.get(self.ns, self.path)
        return rec["text"] if rec else ""

    def remember(self, key: str, text: str, meta: dict[str, Any] | None = None) -> str | None:
        refused = oversized(key, text, meta, self.max_item_chars)
        if refused:
            return refused
        line = " ".join(f"{key}: {text}".split())  # one note per line, as a scratch file has
        self.store.put(self.ns, self.path, {"text": self._read() + line + "\n"})
        self.appended += 1
        return None

    def recall(self, query: str, k: int = 5, *, record: bool = True) -> list[Recalled]:
        lines = self._read().splitlines()[-self.scan_window :]
        q = content_words(query)
        scored = [(_overlap(q, line), age, line) for age, line in enumerate(reversed(lines))]
        scored = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))[: max(k, 0)]
        out = []
        for sc, _age, line in scored:
            key, _, text = line.partition(": ")
            out.append(Recalled(key, text, sc, "notes"))
        return out

    def context(self, goal: str = "") -> str:
        return "\n".join(self._read().splitlines()[-self.scan_window :])

    def observe(self, key: str, text: str) -> None:
        pass  # a scratch file holds what someone writes in it, nothing else

    def end_session(self) -> None:
        pass  # the file is the memory; it stays

    def snapshot(self) -> dict[str, Any]:
        return {
            "variant": "notes",
            "path": self.path,
            "text": self._read(),
            "appended": self.appended,
        }

    def restore(self, state: dict[str, Any]) -> None:
        check_snapshot(state, "notes")
        # append-only: keep the longer file when the store already holds a continuation
        current = self._read()
        if not current.startswith(state["text"]):
            self.store.put(self.ns, self.path, {"text": state["text"]})
        self.appended = int(state["appended"])

    def stats(self) -> dict[str, Any]:
        text = self._read()
        return {
            "variant": "notes",
            "lines": text.count("\n"),
            "bytes": len(text.encode()),
            "scan_window": self.scan_window,
            "appended": self.appended,
        }
