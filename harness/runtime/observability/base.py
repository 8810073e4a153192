"""The observability-layer protocol, the records it takes, and its registry of variants.

A variant registers itself on ``OBSERVABILITY_LAYERS`` with its options model; build one
with ``OBSERVABILITY_LAYERS.build(variant, config, where="layers.observability.config")``.

The seam: the Runtime calls ``record`` once per executed action (after the tool layer
answered) and ``think`` once per reasoning-trace record; the agent port calls ``history``
and ``telemetry`` when the agent asks about its own past or about the world's health.
Execution checkpoints call ``snapshot`` / ``restore`` (plain JSON data, versioned), and
the episode writer calls ``export``. What ``history`` and ``telemetry`` return depends on
the variant, as it would in life: ``causal`` answers with structured data, ``textlog``
with text a person would grep.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.core.errors import ConfigError
from harness.core.hashing import canonical_json
from harness.core.registry import Registry
from harness.runtime.port import Observation

SNAPSHOT_VERSION = 1
DEFAULT_EPOCH = "2024-05-01T10:00:00"  # simulated minute 0 as a wall-clock-looking time


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ActionEvent(_Frozen):
    """What the Runtime knows about one executed action, handed to ``record``.

    ``deps`` are the earlier actions whose results this action used (the caller knows, e.g.
    the read that supplied the text an edit replaces); ``reads``/``writes`` are the resources
    it looked at or changed ("file:src/a.py", "service:api", "table:orders"). ``line`` names
    a line of work: an action's parent is the previous action of the same line.
    """

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    ok: bool = True
    error: str | None = None
    outcome: str | None = None  # short result text for logs ("exit 0"); derived when None
    summary: str | None = None  # short text of the call ("sed -i s/a/b/ f.py"); derived when None
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    deps: tuple[int, ...] = ()
    line: str = "main"
    session: int = 0
    sim_minutes: float = 0.0  # simulated time the action started
    minutes: float = 0.0  # simulated duration
    seq: int | None = None  # assigned by the layer when None; must increase when given

    def call_text(self, limit: int = 160) -> str:
        text = self.summary if self.summary is not None else canonical_json(self.args)
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def outcome_text(self) -> str:
        if self.outcome is not None:
            return self.outcome
        return "ok" if self.ok else f"error: {self.error or 'failed'}"


class ReasoningTrace(_Frozen):
    """A reasoning-trace record (P7), attached to the action it precedes."""

    step: str
    state: str = ""  # summary of what the agent believes the situation is
    evidence: tuple[str, ...] = ()
    confidence: float = 1.0
    rejected: tuple[str, ...] = ()  # alternatives considered and dropped
    sim_minutes: float | None = None

    @field_validator("confidence")
    @classmethod
    def _unit(cls, v: float) -> float:
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {v}")
        return v

    @classmethod
    def from_think(cls, think: Any, state: str = "", sim_minutes: float | None = None) -> ReasoningTrace:
        """From the port's ``Think`` action (which has no ``state`` field yet)."""
        return cls(step=think.step, state=getattr(think, "state", state) or state,
                   evidence=tuple(think.evidence), confidence=think.confidence,
                   rejected=tuple(think.rejected), sim_minutes=sim_minutes)


class TelemetryWindow(_Frozen):
    """Simulated world minutes [t0, t1], both ends included."""

    t0: int
    t1: int

    @field_validator("t1")
    @classmethod
    def _ordered(cls, v: int, info: Any) -> int:
        if "t0" in info.data and v < info.data["t0"]:
            raise ValueError(f"window end {v} is before its start {info.data['t0']}")
        return v


class ObservabilityLayer(Protocol):
    """What the Runtime and the agent port call. Never raises for anything the agent asked
    wrongly (a bad query is an Observation with ok=False); raises ValueError only for a
    harness bug (an action claiming to depend on a later one)."""

    def record(self, action: ActionEvent) -> int:
        """Record one executed action; returns its seq."""

    def think(self, trace: ReasoningTrace) -> None:
        """Record a reasoning trace; it is attached to the next recorded action."""

    def history(self, query: Any) -> Observation:
        """Answer a question about the agent's own past (structured or text by variant)."""

    def telemetry(self, source: Any, service: str, window: TelemetryWindow | tuple[int, int]) -> Observation:
        """Show the world's telemetry for one service; ``source`` is a ``TelemetryData``,
        a world's services component, or its snapshot dict."""

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state, versioned."""

    def restore(self, data: dict[str, Any]) -> None:
        """Replace the state by a snapshot's; a wrong version or shape raises ConfigError."""

    def export(self) -> dict[str, Any]:
        """JSON-able record of everything observed, for the results store."""


# otel is an exporter, not a variant: discovery need not load the OpenTelemetry SDK.
OBSERVABILITY_LAYERS: Registry[ObservabilityLayer] = Registry(
    "observability variant", plugins="harness.runtime.observability", skip={"bench", "otel"})


def epoch_seconds(epoch: str) -> float:
    """Seconds since 1970 of an ISO time (naive means UTC); only for display and span times."""
    t = _dt.datetime.fromisoformat(epoch)
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    return t.timestamp()


def sim_timestamp(epoch: str, minutes: float) -> str:
    """``2024-05-01T10:00:03``: the epoch plus simulated minutes, to the second."""
    t = _dt.datetime.fromisoformat(epoch) + _dt.timedelta(seconds=round(minutes * 60))
    return t.replace(tzinfo=None).isoformat(timespec="seconds")


def check_version(data: dict[str, Any], variant: str) -> None:
    if not isinstance(data, dict) or data.get("variant") != variant:
        raise ConfigError(f"not an observability.{variant} snapshot")
    if data.get("version") != SNAPSHOT_VERSION:
        raise ConfigError(f"observability snapshot version {data.get('version')!r} is not supported "
                          f"(this harness reads version {SNAPSHOT_VERSION})")
