"""The whole world of one episode: what checkers look at when the episode ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.world.workspace import Workspace


@dataclass
class World:
    """Deterministic, serializable state. Later issues add services and datasets."""

    workspace: Workspace = field(default_factory=Workspace)
    submission: dict[str, Any] | None = None

    def submit(self, answer: dict[str, Any] | None = None) -> None:
        self.submission = dict(answer or {})

    def snapshot(self) -> dict[str, Any]:
        return {"files": self.workspace.snapshot(), "submission": self.submission}

    @classmethod
    def from_snapshot(cls, snap: dict[str, Any]) -> World:
        return cls(Workspace(snap["files"]), snap.get("submission"))
