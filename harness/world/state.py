"""The whole world of one episode: what checkers look at when the episode ends.

A world is a workspace (files), the agent's submitted answer, the task's ticket thread
(comments that outlive a session in every condition), and optional components (services
for system administration, datasets for data analysis) registered by name in
``COMPONENTS`` from the modules of ``harness.world.components`` (found by a folder scan).
Every part is deterministic and serializable: ``snapshot`` gives plain JSON-able data and
``World.from_snapshot`` rebuilds an equal world from it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.core.hashing import canonical_json
from harness.core.registry import Registry
from harness.world.thread import Thread
from harness.world.workspace import Workspace


class Component(Protocol):
    def snapshot(self) -> dict[str, Any]: ...
    def digest(self) -> str: ...


# Component classes by name (``@COMPONENTS.register("services")``); a world rebuilds a
# part with its class's ``from_snapshot(data)``.
COMPONENTS: Registry[Component] = Registry("world component", plugins="harness.world.components")


@dataclass
class World:
    workspace: Workspace = field(default_factory=Workspace)
    submission: dict[str, Any] | None = None
    parts: dict[str, Component] = field(default_factory=dict)
    thread: Thread = field(default_factory=Thread)

    def submit(self, answer: Any = None) -> None:
        """Record the agent's answer; anything that is not a mapping is kept as its text."""
        if answer is None:
            self.submission = {}
        elif isinstance(answer, dict):
            self.submission = dict(answer)
        else:
            self.submission = {"text": str(answer)}

    @property
    def services(self) -> Any:
        return self.parts.get("services")

    @property
    def datasets(self) -> Any:
        return self.parts.get("datasets")

    def snapshot(self) -> dict[str, Any]:
        return {
            "files": self.workspace.snapshot(),
            "submission": self.submission,
            "parts": {name: part.snapshot() for name, part in sorted(self.parts.items())},
            "thread": self.thread.snapshot(),
        }

    @classmethod
    def from_snapshot(cls, snap: dict[str, Any]) -> World:
        parts = {name: COMPONENTS.entry(name).factory.from_snapshot(data)
                 for name, data in snap.get("parts", {}).items()}
        return cls(Workspace(snap["files"]), snap.get("submission"), parts, Thread(snap.get("thread")))

    def resource_digest(self, resource: str) -> str:
        """sha256 of the content of one resource (``harness.runtime.access`` naming): a
        file or directory, or whatever a component recognises; otherwise every component."""
        kind, _, name = resource.partition(":")
        if kind == "file":
            return self.workspace.digest_under(name)
        if kind == "ticket":
            return self.thread.digest()
        for _, part in sorted(self.parts.items()):
            of = getattr(part, "resource_digest", None)
            found = of(kind, name) if of is not None else None
            if found is not None:
                return found
        return hashlib.sha256("".join(p.digest() for _, p in sorted(self.parts.items())).encode()).hexdigest()

    def digest(self) -> str:
        """sha256 of everything a checker can see."""
        h = hashlib.sha256(self.workspace.digest().encode())
        h.update(canonical_json(self.submission).encode())
        for name, part in sorted(self.parts.items()):
            h.update(name.encode() + b"\0" + part.digest().encode())
        if len(self.thread):  # an untouched thread leaves a world's digest as it always was
            h.update(b"thread\0" + self.thread.digest().encode())
        return h.hexdigest()

