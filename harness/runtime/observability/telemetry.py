"""Queries over the world's telemetry, passed in as plain data.

The world keeps, per service, metric series indexed by minute, log lines prefixed
``t+MMMMm``, trace spans with a ``minute`` and a ``duration_ms``, and its change history
(``events``: who wrote a config or deployed a release, when, with the before and after).
``correlate`` is the agent-native view (anomalies, errors, slow spans and changes of one
service in a window, merged and ordered by time, so an error spike and the change that
preceded it stand side by side); ``log_tail`` is all a human-oriented log shows.
"""

from __future__ import annotations

import re
import statistics
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.world.components.services import parse_config

MIN_BASELINE = 5  # fewer points than this before a window is no baseline
_LOG_TIME = re.compile(r"^t\+(\d+)m\s")
# Change-history operations that change what a service runs: a config write (by anyone:
# a person's change or the agent's own) and a release deployed or rolled back.
CHANGE_OPS = ("write_config", "deploy", "rollback")


class TelemetryData(BaseModel):
    """Metrics, logs and traces as plain data (the shape of the world's services snapshot)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    metrics: dict[str, dict[str, list[float]]] = Field(default_factory=dict)
    logs: dict[str, list[str]] = Field(default_factory=dict)
    traces: list[dict[str, Any]] = Field(default_factory=list)
    events: list[dict[str, Any]] = Field(default_factory=list)  # the change history (audit trail)

    @classmethod
    def of(cls, source: Any) -> TelemetryData:
        """From a TelemetryData, a services component (anything with ``snapshot()``) or a dict."""
        if isinstance(source, TelemetryData):
            return source
        if source is None:
            return cls()
        if hasattr(source, "snapshot"):
            source = source.snapshot()
        return cls.model_validate(source)


class MetricAnomaly(BaseModel):
    """A run of consecutive minutes in which one metric's |z| was at or above threshold."""

    kind: Literal["metric"] = "metric"
    t: int  # first anomalous minute
    t_end: int
    metric: str
    peak_value: float
    peak_z: float
    baseline_median: float
    baseline_spread: float  # 1.4826 * MAD: the robust standard deviation


class LogHit(BaseModel):
    kind: Literal["log"] = "log"
    t: int
    level: str
    line: str


class SlowSpan(BaseModel):
    kind: Literal["span"] = "span"
    t: int
    trace_id: str
    span_id: str
    duration_ms: float
    status: str
    reason: str  # "slow" (duration over the service's median times the factor) or "error"


class Delta(BaseModel):
    """One setting a change altered; None stands for "not set"."""

    key: str
    before: str | None
    after: str | None


class ChangeEvent(BaseModel):
    """One entry of the change history: who changed what on the service, and when."""

    kind: Literal["change"] = "change"
    t: int
    service: str
    op: str  # write_config, deploy or rollback
    by: str
    ref: str = ""  # the change's own id (a change ticket), when it has one
    changes: list[Delta]


Event = ChangeEvent | MetricAnomaly | LogHit | SlowSpan
_ORDER = {"change": 0, "metric": 1, "log": 2, "span": 3}  # a change first: it precedes what it causes


class Correlation(BaseModel):
    service: str
    t0: int
    t1: int
    events: list[Event]  # ordered by (t, kind, detail)


def log_minute(line: str) -> int | None:
    m = _LOG_TIME.match(line)
    return int(m.group(1)) if m else None


def log_level(line: str) -> str:
    """The first level word of a line (ERROR, WARN, INFO, ...); "" when it has none."""
    body = _LOG_TIME.sub("", line, count=1)
    head = body.split(None, 1)[0] if body.strip() else ""
    return head.upper() if head.isalpha() and head.isupper() else ""


def metric_anomalies(series: list[float], t0: int, t1: int, *, z_threshold: float, baseline_minutes: int,
                     metric: str) -> list[MetricAnomaly]:
    """Robust z-scores, (x - median) / (1.4826 * MAD), in [t0, t1] against the
    ``baseline_minutes`` before t0; when fewer than ``MIN_BASELINE`` points precede the
    window (a window from the start), against the whole series. Median and MAD rather than
    mean and std so that a sustained shift inside the baseline (the incident itself, when
    the window covers everything) does not inflate the spread and hide itself; on normal
    noise the two agree (1.4826 makes the MAD estimate the standard deviation)."""
    lo, hi = max(0, t0), min(len(series) - 1, t1)
    if hi < lo:
        return []
    base = series[max(0, t0 - baseline_minutes):max(0, t0)]
    if len(base) < MIN_BASELINE:
        base = series
    if len(base) < 2:
        return []
    center = statistics.median(base)
    spread = 1.4826 * statistics.median(abs(x - center) for x in base)
    # A flat baseline has spread 0: any change is then anomalous, but its z would be
    # infinite, so floor the spread at 1% of the level (or 1e-9) to keep z finite.
    spread_eff = max(spread, abs(center) * 0.01, 1e-9)
    out: list[MetricAnomaly] = []
    run: list[tuple[int, float, float]] = []

    def close() -> None:
        if run:
            t_peak = max(run, key=lambda r: (abs(r[2]), -r[0]))
            out.append(MetricAnomaly(t=run[0][0], t_end=run[-1][0], metric=metric, peak_value=t_peak[1],
                                     peak_z=round(t_peak[2], 4), baseline_median=round(center, 6),
                                     baseline_spread=round(spread, 6)))
            run.clear()

    for t in range(lo, hi + 1):
        z = (series[t] - center) / spread_eff
        if abs(z) >= z_threshold:
            run.append((t, series[t], z))
        else:
            close()
    close()
    return out


def correlate(data: TelemetryData, service: str, t0: int, t1: int, *, z_threshold: float = 3.0,
              baseline_minutes: int = 30, levels: tuple[str, ...] = ("ERROR", "WARN"),
              slow_factor: float = 2.0, change_ops: tuple[str, ...] = CHANGE_OPS) -> Correlation:
    """Everything unusual about ``service`` in [t0, t1], and every change made to it then,
    merged into one time-ordered list."""
    events: list[Event] = list(changes_of(data, service, t0, t1, change_ops))
    for metric, series in sorted(data.metrics.get(service, {}).items()):
        events += metric_anomalies(series, t0, t1, z_threshold=z_threshold, baseline_minutes=baseline_minutes,
                                   metric=metric)
    wanted = {lv.upper() for lv in levels}
    for line in data.logs.get(service, []):
        t = log_minute(line)
        if t is not None and t0 <= t <= t1 and log_level(line) in wanted:
            events.append(LogHit(t=t, level=log_level(line), line=line))
    spans = [s for s in data.traces if s.get("service") == service]
    durations = sorted(float(s.get("duration_ms", 0.0)) for s in spans if s.get("status", "ok") == "ok")
    median = durations[len(durations) // 2] if durations else 0.0
    for s in spans:
        t = int(s.get("minute", -1))
        if not t0 <= t <= t1:
            continue
        status = str(s.get("status", "ok"))
        dur = float(s.get("duration_ms", 0.0))
        reason = "error" if status != "ok" else ("slow" if median > 0 and dur > slow_factor * median else "")
        if reason:
            events.append(SlowSpan(t=t, trace_id=str(s.get("trace_id", "")), span_id=str(s.get("span_id", "")),
                                   duration_ms=dur, status=status, reason=reason))
    events.sort(key=lambda e: (e.t, _ORDER[e.kind], getattr(e, "metric", "") or getattr(e, "line", "")
                               or getattr(e, "span_id", "") or getattr(e, "ref", "")))
    return Correlation(service=service, t0=t0, t1=t1, events=events)


def changes_of(data: TelemetryData, service: str, t0: int, t1: int,
               ops: tuple[str, ...] = CHANGE_OPS) -> list[ChangeEvent]:
    """The change history of ``service`` in [t0, t1]: config writes as the settings they
    altered, deploys and rollbacks as the version; a write that altered nothing is no change."""
    out = []
    for e in data.events:
        t = e.get("t")
        if e.get("service") != service or e.get("op") not in ops or not isinstance(t, int) or not t0 <= t <= t1:
            continue
        deltas = _deltas(e)
        if deltas:
            out.append(ChangeEvent(t=t, service=service, op=str(e["op"]), by=str(e.get("by", "")),
                                   ref=str(e.get("change", "")), changes=deltas))
    return out


def _deltas(e: dict[str, Any]) -> list[Delta]:
    if e["op"] == "write_config":
        before, after = parse_config(str(e.get("before", ""))), parse_config(str(e.get("after", "")))
        return [Delta(key=k, before=before.get(k), after=after.get(k))
                for k in sorted(before.keys() | after.keys()) if before.get(k) != after.get(k)]
    old, new = e.get("previous"), e.get("version")
    return [] if old == new else [Delta(key="version", before=old, after=new)]


def log_tail(data: TelemetryData, service: str, n: int) -> list[str]:
    """The last ``n`` log lines of a service, as ``tail -n`` would show them."""
    lines = data.logs.get(service, [])
    return list(lines[-n:]) if n > 0 else []
