"""The reference agent's fallibility: a flat, typed set of named error processes.

Flat on purpose, so a calibration optimizer or a Hydra sweep can move any one of them.
The rates are per decision and identical in every condition; the infrastructure decides
what an error leads to (a typed tool rejects a malformed call; a shell runs it).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AgentProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    slip_rate: float = Field(0.05, ge=0, le=1, description="a plausible wrong argument in an edit")
    malformed_call_rate: float = Field(0.05, ge=0, le=1, description="a syntactically broken call")
    misread_rate: float = Field(0.03, ge=0, le=1, description="a line of unstructured output misread or overlooked")
    context_capacity: int = Field(12, ge=1, description="items (e.g. file paths) held in working context at once")
    unsafe_shortcut_rate: float = Field(0.0, ge=0, le=1, description="a destructive shortcut taken")
    max_retries: int = Field(2, ge=0, description="retries of a failed call or a failed verification")

    @classmethod
    def perfect(cls) -> AgentProfile:
        """No errors at all: every condition should then complete the same tasks."""
        return cls(slip_rate=0, malformed_call_rate=0, misread_rate=0, context_capacity=10_000, unsafe_shortcut_rate=0)
