"""Which result-relevant keys differ between a stored run's config and a new one.

A run id reused with a changed config is refused (the writer compares config hashes);
this names what changed, e.g. ``repeats: 2 -> 3; agent.profile.error_scale: 1 -> 0.5``.
Only the keys the config hash covers (``RunConfig.result_relevant``) are compared: a
changed executor or store never makes a conflict, so it is never named as one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import ResumeConflictError, StoreError
from harness.experiment.config import OPERATIONAL_AGENT_KEYS

# The top-level keys RunConfig.result_relevant() hashes (a unit test holds the two together).
RESULT_KEYS = ("experiment", "seed", "repeats", "conditions", "workload", "agent", "faults", "factorial")
SHOWN = 6  # changes spelled out in a message; the rest are counted
WIDTH = 60  # characters of one value in a message


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT = _Absent()


@dataclass(frozen=True)
class Change:
    key: str  # dotted path; a condition by name: conditions[human].layers.tools
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.key}: {_show(self.old)} -> {_show(self.new)}"


def relevant(config: dict[str, Any]) -> dict[str, Any]:
    """The part of a dumped RunConfig (``model_dump(mode="json")``, as stored in
    ``runs.config``) that its config hash covers."""
    out = {k: config.get(k) for k in RESULT_KEYS}
    out["agent"] = {k: v for k, v in (config.get("agent") or {}).items() if k not in OPERATIONAL_AGENT_KEYS}
    return out


def config_changes(old: Any, new: Any, key: str = "") -> list[Change]:
    """Every leaf that differs, sorted by key. Dicts are compared key by key; lists of
    named dicts (conditions) by name, with the name lists themselves compared when they
    differ (a condition added, removed or moved); any other value as a whole."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for k in sorted(old.keys() | new.keys(), key=str):
            out += config_changes(old.get(k, ABSENT), new.get(k, ABSENT), f"{key}.{k}" if key else str(k))
        return out
    if _named(old) and _named(new):
        old_names, new_names = [c["name"] for c in old], [c["name"] for c in new]
        out = [] if old_names == new_names else [Change(key, old_names, new_names)]
        by_name = {c["name"]: c for c in new}
        for c in old:
            if c["name"] in by_name:
                out += config_changes(c, by_name[c["name"]], f"{key}[{c['name']}]")
        return out
    return [] if old == new else [Change(key, old, new)]


def describe(changes: list[Change], shown: int = SHOWN) -> str:
    text = "; ".join(str(c) for c in changes[:shown])
    return text + (f" (and {len(changes) - shown} more)" if len(changes) > shown else "")


def explained_conflict(error: ResumeConflictError, store: str | Path, run_id: str, config: dict[str, Any],
                       config_hash: str) -> ResumeConflictError:
    """``error`` (the writer's refusal) naming the keys that differ from the stored run's
    config; ``error`` itself when the stored config is not what differs (its workload or a
    task) or cannot be read."""
    from harness.store import reader

    try:
        info = reader.run_info(store, run_id)
    except StoreError:
        return error
    if info["config_hash"] == config_hash:
        return error
    changes = config_changes(relevant(info["config"]), relevant(config))
    if not changes:  # the hash moved but no key did (how the config is hashed changed)
        return error
    return ResumeConflictError(f"run {run_id} exists with a different configuration: {describe(changes)}",
                               hint=error.hint)


def _named(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value) and bool(value)


def _show(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = "[" + ", ".join(value) + "]"
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"
