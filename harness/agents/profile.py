"""The reference agent's fallibility: a flat, typed set of named error processes.

Flat on purpose, so a calibration optimizer or a Hydra sweep can move any one of them.
The rates are per decision and identical in every condition; the infrastructure decides
what an error leads to (a typed tool rejects a malformed call; a shell runs it).

``error_scale`` is the skill dial: it multiplies every error rate (capped at 1) and
divides the working-context capacity, whose overflow is an error process too (0 = a
perfect agent: no errors and an unbounded context; 1 = the profile as written; 2 = twice
as error-prone). ``harness run -m agent.profile.error_scale=0,0.5,1,2`` sweeps skill.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

RATES = ("slip_rate", "malformed_call_rate", "misread_rate", "unsafe_shortcut_rate", "note_lapse_rate")
UNBOUNDED = 10**9  # the working context of a perfect agent


class AgentProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    slip_rate: float = Field(0.05, ge=0, le=1, description="a decision with the wrong target or a wrong value")
    malformed_call_rate: float = Field(0.05, ge=0, le=1,
                                       description="a decision written with broken syntax or a dropped flag or scope")
    misread_rate: float = Field(0.03, ge=0, le=1, description="a line of unstructured output misread or overlooked")
    context_capacity: int = Field(12, ge=1, description="items (e.g. file paths) held in working context at once")
    unsafe_shortcut_rate: float = Field(0.0, ge=0, le=1, description="a destructive shortcut taken")
    note_lapse_rate: float = Field(0.1, ge=0, le=1,
                                   description="a fact a later session needs is not written down anywhere")
    max_retries: int = Field(2, ge=0, description="retries of a failed call or a failed verification")
    error_scale: float = Field(1.0, ge=0, description="multiplies every error rate (0 = a perfect agent)")

    def rate(self, name: str) -> float:
        """The rate of one error process after ``error_scale``."""
        if name not in RATES:
            raise KeyError(f"{name!r} is not an error rate; rates: {', '.join(RATES)}")
        return min(1.0, float(getattr(self, name)) * self.error_scale)

    @property
    def capacity(self) -> int:
        """Working-context capacity after ``error_scale`` (unbounded at 0)."""
        if self.error_scale * UNBOUNDED <= self.context_capacity:
            return UNBOUNDED  # scale 0, or so close to it that the bound is beyond any task
        return max(1, math.ceil(self.context_capacity / self.error_scale))

    @classmethod
    def perfect(cls) -> AgentProfile:
        """No errors at all: every condition should then complete the same tasks."""
        return cls(error_scale=0.0)
