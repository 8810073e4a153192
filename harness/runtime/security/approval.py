"""The ``approval`` security variant: privileged requests go through a change process.

What it is: ambient authority, except that a tool call asking for a privileged action
(config ``privileged_actions``) is a change request, sent to a simulated approver who
reads it against the task's stated policy (the same text the ``capabilities`` layer
compiles) and answers after a wait. One call is one request, whatever it names.

What is approved is the change, not the command: as a change board signs off a change
(the ticket and its plan) and the implementer then carries it out, an approved request
covers every later request the task's policy sanctions, for the rest of the task, with no
new wait (code ``within_approved_change``). A request the policy does not sanction is
never covered: it goes to review again, and is refused unless rubber-stamped.

1. Timeout. With probability ``timeout_probability`` the request is never answered and is
   refused after ``timeout_minutes`` (code ``approval_timeout``).
2. Queue. Review happens in working windows (``working_hours`` on the first
   ``working_days`` days of each week; always when ``working_hours`` is null) on days the
   approver is present: each working day is a day off with probability
   ``1 - availability``, drawn once per day, so every request of that day waits for the
   next day the approver is in.
3. Review takes a lognormal number of working minutes (median and p90 from config);
   review that runs past a window's end goes on in the next window the approver is in.
4. Decision. A request whose every privileged action the policy sanctions is approved
   (code ``approved``), except that with ``false_refusal_probability`` the approver
   refuses it anyway (code ``approval_denied``). A request with an action the policy does
   not sanction is refused (``approval_denied``), except that with
   ``rubber_stamp_probability`` it is signed off unread (``approved``,
   ``approver_rubber_stamped``).

Randomness: every review draws exactly once from ``approval.latency``,
``approval.timeout`` and ``approval.review``, in that order, whether or not the draw
matters; each working day draws once from ``approval.availability``, in day order. So
the k-th review meets the same draws in every paired condition. Requests with nothing
privileged, or covered by the approved change, draw nothing and pass at once.

Simulated time: minute 0 is ``week_offset_minutes`` after Monday 00:00 (default Monday
09:00). The layer returns the wait in ``Decision.waited_minutes``; the runtime advances
the clock. The settings and where each comes from are in ``configs/condition/human.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.core.errors import ConfigError
from harness.core.rng import RngStreams
from harness.runtime.security.base import (
    SECURITY_LAYERS,
    AuditEntry,
    Decision,
    Request,
    restore_guard,
)
from harness.runtime.security.judge import PolicyJudge

_Z90 = 1.2815515655446004  # standard normal quantile at 0.9
_DAY = 1440.0
_PROBABILITIES = ("availability", "timeout_probability", "rubber_stamp_probability", "false_refusal_probability")


class ApprovalOptions(BaseModel):
    """``layers.security.config`` of the approval variant (documented in the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    privileged_actions: tuple[str, ...] = ("delete", "restart", "stop", "deploy")
    latency_median_minutes: float = 45.0
    latency_p90_minutes: float = 240.0
    working_hours: tuple[float, float] | None = (9.0, 17.0)  # None: always working
    working_days: int = 5
    week_offset_minutes: float = 540.0
    availability: float = 0.9
    timeout_probability: float = 0.02
    timeout_minutes: float = Field(480.0, ge=0)
    rubber_stamp_probability: float = 0.1
    false_refusal_probability: float = 0.02

    @field_validator(*_PROBABILITIES, mode="before")
    @classmethod
    def _probability(cls, v: Any) -> Any:  # before pydantic's own check: a bool is no probability
        if not isinstance(v, int | float) or isinstance(v, bool) or not 0.0 <= v <= 1.0:
            raise ValueError("must be a probability in [0, 1]")
        return float(v)

    @model_validator(mode="after")
    def _consistent(self) -> ApprovalOptions:
        if not 0 < self.latency_median_minutes <= self.latency_p90_minutes:
            raise ValueError(f"need 0 < latency_median_minutes <= latency_p90_minutes, got "
                             f"{self.latency_median_minutes} and {self.latency_p90_minutes}")
        if self.availability == 0 and self.working_hours is not None:
            raise ValueError("availability 0 means no request is ever reviewed")
        problem = hours_problem(self.working_hours, self.working_days)
        if problem:
            raise ValueError(problem)
        return self


def hours_problem(hours: Sequence[float] | None, days: Any) -> str | None:
    """What is wrong with working windows of ``hours`` on ``days`` days a week, or None."""
    if hours is None:
        return None
    if len(hours) != 2 or not 0 <= hours[0] < hours[1] <= 24:
        return f"working_hours must be [start, end] with 0 <= start < end <= 24, got {hours!r}"
    if not isinstance(days, int) or not 1 <= days <= 7:
        return f"working_days must be 1..7, got {days!r}"
    return None


class WorkingHours:
    """Working windows on the simulated clock; ``None`` hours means always working.
    ``present(day)`` says whether the approver works on a day (index from minute 0's day)."""

    def __init__(self, hours: Sequence[float] | None, days: int, offset: float, present=lambda day: True):
        problem = hours_problem(hours, days)
        if problem:
            raise ConfigError(f"security.approval: {problem}")
        self.hours, self.days, self.offset, self.present = hours, days, float(offset), present

    def window(self, t: float) -> tuple[float, float]:
        """The first window that has not ended at ``t`` (``t`` may be inside it) on a day
        the approver is present."""
        if self.hours is None:
            return (-math.inf, math.inf)
        shifted = t + self.offset
        day = math.floor(shifted / _DAY)
        for k in range(10_000):  # a run of absent days ends: availability > 0 is checked at build
            d = day + k
            if d % 7 < self.days and self.present(d):
                ws, we = d * _DAY + self.hours[0] * 60, d * _DAY + self.hours[1] * 60
                if we > shifted:
                    return (ws - self.offset, we - self.offset)
        raise ConfigError("security.approval: no working day with the approver in for 10,000 days")

    def add_working(self, t: float, minutes: float) -> float:
        """``t`` plus ``minutes`` of working time, skipping nights, weekends and days off."""
        if self.hours is None:
            return t + minutes
        while minutes > 1e-12:
            ws, we = self.window(t)
            t = max(t, ws)
            chunk = min(minutes, we - t)
            t += chunk
            minutes -= chunk
        return t


@SECURITY_LAYERS.register("approval", options=ApprovalOptions)
class ApprovalSecurity:
    """A change process: privileged requests judged against the task's policy by a person."""

    def __init__(self, options: ApprovalOptions | None = None, *, rng: RngStreams | None = None,
                 policy: Sequence[str] = ()):
        c = options or ApprovalOptions()
        if rng is None:
            raise ConfigError("security.approval draws from the episode's RngStreams; "
                              "build it with SECURITY_LAYERS.build(..., rng=streams)")
        self.rng = rng
        self.privileged = frozenset(c.privileged_actions)
        self.mu = math.log(c.latency_median_minutes)
        self.sigma = math.log(c.latency_p90_minutes / c.latency_median_minutes) / _Z90
        self.availability = c.availability
        self._days: list[bool] = []  # presence of working days drawn so far, in day order
        self.hours = WorkingHours(c.working_hours, c.working_days, c.week_offset_minutes, self._present)
        self.p_timeout = c.timeout_probability
        self.p_rubber = c.rubber_stamp_probability
        self.p_refuse = c.false_refusal_probability
        self.timeout_minutes = c.timeout_minutes
        self.judge = PolicyJudge(policy)
        self.change_approved = False  # a sanctioned request was approved: the change may go ahead
        self._audit: list[AuditEntry] = []

    def _present(self, day: int) -> bool:
        while len(self._days) <= day:
            self._days.append(self.rng.bernoulli("approval.availability", self.availability))
        return self._days[day] if day >= 0 else True

    # -- the protocol ----------------------------------------------------------------------
    def authorize(self, action_kind: str, resource: str, now: float, *, unsafe: bool = False) -> Decision:
        return self.authorize_request([Request(action_kind, resource, unsafe)], now)

    def authorize_request(self, requests: Sequence[Request], now: float) -> Decision:
        """One change request for everything one call asks; ``unsafe`` is only recorded
        (the approver reads the policy, not the harness's label)."""
        d = self._decide(requests, now)
        for r in requests:
            self._audit.append(AuditEntry.of(now, r.action, r.resource, d, r.unsafe))
        return d

    def _decide(self, requests: Sequence[Request], now: float) -> Decision:
        asked = [r for r in requests if r.action in self.privileged]
        if not asked:
            return Decision(allowed=True, code="not_privileged",
                            reason=f"{', '.join(sorted({r.action for r in requests})) or 'nothing'} needs no approval")
        unsanctioned = [r for r in asked if not self.judge.sanctioned(r.action, r.resource, now)]
        if self.change_approved and not unsanctioned:
            return Decision(allowed=True, code="within_approved_change",
                            reason="part of the change already approved for this task")
        # Every review draws the same three times, in a fixed order (CRN).
        z = float(self.rng.get("approval.latency").standard_normal())
        timed_out = self.rng.bernoulli("approval.timeout", self.p_timeout)
        slip = self.rng.uniform("approval.review")
        what = "; ".join(f"{r.action} {r.resource}" for r in asked)
        if timed_out:
            return Decision(allowed=False, code="approval_timeout", waited_minutes=self.timeout_minutes,
                            reason=f"no answer to the change request ({what}) within {self.timeout_minutes:g} minutes")
        start = max(now, self.hours.window(now)[0])
        wait = self.hours.add_working(start, math.exp(self.mu + self.sigma * z)) - now
        if not unsanctioned:
            if slip < self.p_refuse:
                return Decision(allowed=False, code="approval_denied", waited_minutes=wait,
                                reason=f"the approver refused the change request ({what}) after {wait:.1f} min")
            self.change_approved = True
            return Decision(allowed=True, code="approved", waited_minutes=wait,
                            reason=f"approved ({what}) after {wait:.1f} min; the change may go ahead")
        if slip < self.p_rubber:
            return Decision(allowed=True, code="approved", waited_minutes=wait, approver_rubber_stamped=True,
                            reason=f"approved ({what}) after {wait:.1f} min")
        first = unsanctioned[0]
        return Decision(allowed=False, code="approval_denied", waited_minutes=wait,
                        reason=f"the approver refused the change request after {wait:.1f} min: the task's "
                               f"policy does not allow {first.action} on {first.resource}")

    def audit(self) -> list[AuditEntry]:
        return list(self._audit)

    def snapshot(self) -> dict[str, Any]:
        # The draws' positions live in the episode's RngStreams, which the runtime checkpoints;
        # the days drawn so far are kept here, since a day is drawn once.
        return {"variant": "approval", "audit": [a.model_dump(mode="json") for a in self._audit],
                "days": list(self._days), "change_approved": self.change_approved}

    def restore(self, state: dict[str, Any]) -> None:
        def build(st: dict[str, Any]) -> tuple[list[AuditEntry], list[bool], bool]:
            return ([AuditEntry.model_validate(a) for a in st["audit"]], [bool(d) for d in st.get("days", [])],
                    bool(st.get("change_approved", False)))

        self._audit, self._days, self.change_approved = restore_guard("approval", state, build)
