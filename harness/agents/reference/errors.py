"""The error processes of an AgentProfile, each drawing from its own named stream.

One stream per process means a draw of one kind never shifts another kind, so in paired
conditions the same decision meets the same draw as far as the decision sequences agree.

Every call the agent makes is a decision, and ``mistake`` draws what kind of mistake it
contains the same way whatever the tools: a wrong target or a wrong value (at the slip
rate), broken syntax or a dropped flag or scope (at the malformed-call rate). The
toolkits decide what follows, as the interface would: a schema rejects broken syntax and
a shell's lenient parser may run it; a schema-valid call with a wrong target runs under
typed tools too. Strategies draw ``slip`` for the mistakes of their own domain reasoning
(a wrong row, a mistyped release number).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.agents.profile import AgentProfile
from harness.core.rng import AgentStreams


class Mistake(StrEnum):
    WRONG_TARGET = "wrong_target"  # another file, service or host file than meant
    WRONG_VALUE = "wrong_value"  # a mistyped name, number or text
    BROKEN_SYNTAX = "broken_syntax"  # a misspelt field, a quote left open
    DROPPED_SCOPE = "dropped_scope"  # a narrowing flag or argument left out


SEMANTIC = (Mistake.WRONG_TARGET, Mistake.WRONG_VALUE)
FORM = (Mistake.BROKEN_SYNTAX, Mistake.DROPPED_SCOPE)


@dataclass
class ErrorProcesses:
    profile: AgentProfile
    rng: AgentStreams

    def mistake(self, *, changes: bool = True) -> Mistake | None:
        """The kind of mistake one call contains, or None. Both draws are always made, so the
        k-th decision meets the same draws in every condition. A call that ``changes``
        nothing (a query) has no target or value to get wrong: only its form can slip."""
        u = self.rng.uniform("agent.mistake")
        half = self.rng.uniform("agent.mistake_kind") < 0.5
        semantic, form = self.profile.rate("slip_rate"), self.profile.rate("malformed_call_rate")
        if u < semantic:
            return SEMANTIC[0 if half else 1] if changes else None
        if u < semantic + form:
            return FORM[0 if half else 1]
        return None

    def slip(self) -> bool:
        return self.rng.bernoulli("agent.slip", self.profile.rate("slip_rate"))

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
