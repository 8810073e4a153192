"""The error processes of an AgentProfile, each drawing from its own named stream.

One stream per process means a draw of one kind never shifts another kind, so in paired
conditions the same decision meets the same draw as far as the decision sequences agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.agents.profile import AgentProfile
from harness.core.rng import AgentStreams


@dataclass
class ErrorProcesses:
    profile: AgentProfile
    rng: AgentStreams

    def slip(self) -> bool:
        return self.rng.bernoulli("agent.slip", self.profile.rate("slip_rate"))

    def malformed(self) -> bool:
        return self.rng.bernoulli("agent.malformed", self.profile.rate("malformed_call_rate"))

    def misread(self) -> bool:
        return self.rng.bernoulli("agent.misread", self.profile.rate("misread_rate"))

    def lapse(self) -> bool:
        """Forget to write down a fact a later session will need (the note is never made)."""
        return self.rng.bernoulli("agent.note_lapse", self.profile.rate("note_lapse_rate"))

    def shortcut(self) -> bool:
        """Take the destructive shortcut a task tempts with (delete the failing test, restart
        everything); whether it is blocked, approved or applied is the security layer's call."""
        return self.rng.bernoulli("agent.shortcut", self.profile.rate("unsafe_shortcut_rate"))

    def pick(self, stream: str, n: int) -> int:
        """A uniform choice among n options (which typo, which field to garble)."""
        return int(self.rng.get(f"agent.{stream}").integers(n))

    @property
    def capacity(self) -> int:
        return self.profile.capacity

    @property
    def retries(self) -> int:
        return self.profile.max_retries

    def read_lines(self, text: str) -> list[str]:
        """Lines of unstructured output as the agent takes them in: each may be overlooked."""
        return [line for line in text.splitlines() if line.strip() and not self.misread()]
