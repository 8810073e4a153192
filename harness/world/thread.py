"""The task's ticket (or incident) thread: comments anyone working on the task may add and read.

It is what every worker has whatever the infrastructure: a place to write down what a
later session will need (a convention, a password handed over in a planning meeting, an
ownership map) where the next person, or the same agent in a new session, can find it.
Comments are append-only and numbered from 1; nothing here reads or judges them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from harness.core.hashing import canonical_json

MAX_COMMENT_CHARS = 4000  # a comment box's limit; longer text is refused, never cut silently


class Thread:
    def __init__(self, comments: list[dict[str, Any]] | None = None):
        self.comments: list[dict[str, Any]] = [dict(c) for c in comments or []]

    def add(self, text: str, author: str = "agent") -> int:
        """Append a comment; returns its number."""
        from harness.world.workspace import WorldError

        body = str(text).strip()
        if not body:
            raise WorldError("an empty comment cannot be posted")
        if len(body) > MAX_COMMENT_CHARS:
            raise WorldError(f"a comment holds at most {MAX_COMMENT_CHARS} characters, got {len(body)}")
        self.comments.append({"n": len(self.comments) + 1, "author": author, "text": body})
        return len(self.comments)

    def matching(self, contains: str | None = None) -> list[dict[str, Any]]:
        """Comments in order; only those containing ``contains`` (case-insensitive) if given."""
        if not contains:
            return [dict(c) for c in self.comments]
        needle = contains.lower()
        return [dict(c) for c in self.comments if needle in c["text"].lower()]

    def snapshot(self) -> list[dict[str, Any]]:
        return [dict(c) for c in self.comments]

    def digest(self) -> str:
        return hashlib.sha256(canonical_json(self.comments).encode()).hexdigest()

    def __len__(self) -> int:
        return len(self.comments)
