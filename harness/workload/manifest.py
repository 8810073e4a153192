"""Frozen workload manifests: one JSON line per task, and the sha256 of the file beside it.

A manifest holds what is needed to regenerate each task exactly (family, params, seed)
plus what a reader wants to see without generating (category, difficulty, sessions,
traps). Generation is deterministic, so the manifest *is* the workload; a manifest whose
bytes no longer match their recorded hash is refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.core.errors import ConfigError
from harness.workload.registry import get_family
from harness.workload.spec import TaskSpec


class ManifestEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    category: str
    family: str
    scenario: str | None = None
    difficulty: int
    seed: int
    params: dict[str, Any]
    sessions: int
    traps: list[str]

    @classmethod
    def of(cls, spec: TaskSpec) -> ManifestEntry:
        return cls(id=spec.id, category=spec.category, family=spec.family, scenario=spec.scenario,
                   difficulty=spec.difficulty, seed=spec.seed, params=spec.params,
                   sessions=len(spec.sessions), traps=sorted(spec.traps))

    def generate(self) -> TaskSpec:
        spec = get_family(self.family).generate(self.id, self.params, self.seed)
        if (spec.category, spec.difficulty) != (self.category, self.difficulty):
            raise ConfigError(f"manifest entry {self.id} no longer generates the task it describes",
                              hint="the family changed: regenerate with `harness tasks generate --force`")
        return spec.model_copy(update={"scenario": self.scenario}) if self.scenario else spec


def hash_path(manifest: Path) -> Path:
    return manifest.with_suffix(".sha256")


def write_manifest(path: Path, specs: list[TaskSpec]) -> str:
    text = "".join(ManifestEntry.of(s).model_dump_json() + "\n" for s in specs)
    digest = hashlib.sha256(text.encode()).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    hash_path(path).write_text(digest + "\n")
    return digest


def read_manifest(path: Path) -> tuple[list[ManifestEntry], str]:
    """Entries and the manifest hash; ConfigError if missing, tampered or malformed."""
    if not path.is_file():
        raise ConfigError(f"no manifest at {path}", hint="create it with `harness tasks generate --workload NAME`")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    recorded = hash_path(path).read_text().strip() if hash_path(path).is_file() else None
    if recorded != digest:
        raise ConfigError(f"manifest {path} does not match its recorded hash ({recorded or 'missing'}, now {digest[:16]}…)",
                          hint="a hand-edited manifest is refused; regenerate with `harness tasks generate --force`")
    entries = []
    for n, line in enumerate(data.decode().splitlines(), 1):
        try:
            entries.append(ManifestEntry(**json.loads(line)))
        except (json.JSONDecodeError, ValidationError, TypeError) as exc:
            raise ConfigError(f"{path}:{n} is not a manifest entry: {str(exc).splitlines()[0]}") from None
    for entry in entries:
        get_family(entry.family)  # an unknown family is refused before anything runs
    return entries, digest
