"""The typed payload of a checkpoint: everything needed to rebuild an agent session.

Agents are deterministic generators, so the agent itself is not serialized: ``replay``
holds the recorded (action, observation) pairs and resume feeds those observations into a
fresh generator. Everything else other layers own (memory deltas, their own states) is
opaque JSON here: this layer stores and verifies it, never interprets it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ResourceCounters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actions: int = 0
    sim_minutes: float = 0.0
    budget_extensions: int = 0  # actions granted from the shared pool (P4)


class AgentSnapshot(BaseModel):
    """One checkpoint. Field order is irrelevant: the codec writes canonical (sorted) JSON."""

    model_config = ConfigDict(extra="forbid")

    session_id: str
    session_index: int = 0
    action_seq: int = 0  # number of actions recorded (next action gets this seq)
    replay: list[dict[str, Any]] = Field(default_factory=list)  # [{action, observation}]
    rng: dict[str, dict[str, Any]] = Field(default_factory=dict)  # RngStreams.state()
    memory: dict[str, Any] = Field(default_factory=dict)  # opaque, from the memory layer
    counters: ResourceCounters = Field(default_factory=ResourceCounters)
    layers: dict[str, Any] = Field(default_factory=dict)  # free-form per-layer states

    @field_validator("replay")
    @classmethod
    def _entries_have_pairs(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # A replay entry without both keys would desynchronize the generator on resume.
        for i, entry in enumerate(v):
            if set(entry) != {"action", "observation"}:
                raise ValueError(f"replay[{i}] must have exactly the keys action, observation")
        return v


def replay_entry(action: dict[str, Any], observation: dict[str, Any] | None) -> dict[str, Any]:
    return {"action": action, "observation": observation}
