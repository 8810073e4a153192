"""Strategy for system_administration/change_regression: the last change on the symptom's
dependency path before its error spike, reverted.

An engineer finds when the symptom's errors began, walks the services it depends on, and
collects every config change made to them; the change that caused the regression is the
last one on that path at or before the onset (changes off the path cannot reach the
symptom; changes after the onset came too late). It is reverted setting by setting on the
config as it is now (later changes stay), the service restarted, and the change named.

Where it looks is decided by what comes back, never by a condition: the observability
layer's telemetry first, and when that answers with correlated data (the error spike as
an anomaly, each change as a record of its settings) that is all it needs per service.
When it answers with a log tail, the onset is read off the error-rate series and the
changes off each service's log, one line per setting, through the tools: data under
typed tools, text a line of which may be overlooked under a shell.
"""

from __future__ import annotations

import re
import shlex
import statistics
from dataclasses import dataclass, field

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Decision, Steps
from harness.agents.reference.toolkit_ops import ShellOps, config_keys, open_incident
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Observation, Submit, Telemetry, Think

_CHANGE = re.compile(r"^t\+(\d+)m\s+\w+\s+config change (\S+) by (\S+): (\S+) (\S+) -> (\S+)\s*$")
_ROW = re.compile(r"^\s*(-?\d+)\s+(-?[\d.]+(?:e[+\-]?\d+)?)\s*$")
_SYMPTOM = re.compile(r"error rate from `([\w\-]+)`")
_KEY = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*[=:]")
UNSET = "(unset)"
GREP = "config change"
LOG_GREP = Decision(scope=("contains",))  # a dropped scope reads the whole log
BASELINE, RECENT = 20, 10  # minutes at the start (before any change bit) and at the end (after)


@dataclass
class Change:
    t: int
    service: str
    ref: str
    deltas: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # key -> (before, after)


@STRATEGIES.register("system_administration/change_regression")
def change_regression(brief: Brief, kit, errors: ErrorProcesses) -> Steps:
    opened = yield from open_incident(brief, kit, errors, _SYMPTOM)
    if opened is None:
        return
    ops, symptom = opened
    first = yield Telemetry(service=symptom)
    correlated = _correlated(first)
    onset = _onset_of(first) if correlated else None
    if onset is None:
        onset = yield from _onset_by_hand(ops, kit, errors, symptom)
    if onset is None:
        yield GiveUp(reason=f"found no lasting rise in {symptom}'s error rate")
        return
    changes = yield from _path_changes(ops, kit, errors, symptom, first if correlated else None)
    culprit = _preceding(changes, onset)
    yield Think(step=f"{symptom}'s errors began at minute {onset}; the last change on its path before that",
                evidence=tuple(f"{c.ref} {c.service} t={c.t}" for c in changes if c.t <= onset)[-5:],
                rejected=tuple(c.ref for c in changes if c.t > onset))
    if culprit is None:
        yield GiveUp(reason=f"no change on {symptom}'s dependency path precedes its errors")
        return
    yield from _revert(ops, errors, culprit)
    yield Submit(answer={"change": culprit.ref})



# -- when the errors began ------------------------------------------------------------------
def _correlated(obs: Observation | None) -> bool:
    return obs is not None and obs.ok and isinstance(obs.data, dict) and isinstance(obs.data.get("events"), list)


def _onset_of(obs: Observation) -> int | None:
    """The start of the error-rate anomaly that lasts to the end (a blip that passed is not it)."""
    runs = [e for e in obs.data["events"] if e.get("kind") == "metric" and e.get("metric") == "error_rate"
            and float(e.get("peak_z", 0)) > 0]
    if not runs:
        return None
    return int(max(runs, key=lambda e: (int(e["t_end"]), int(e["t_end"]) - int(e["t"])))["t"])


def _onset_by_hand(ops, kit, errors: ErrorProcesses, service: str) -> Steps:
    """The onset from the error-rate series itself: the minute after its last normal value."""
    for _ in range(1 + errors.retries):
        series = yield from _error_series(ops, kit, errors, service)
        if series:
            return onset_from(series)
    return None


def _error_series(ops, kit, errors: ErrorProcesses, service: str) -> Steps:
    """minute -> error rate. The shell prints minutes relative to now (-N .. -1): the first
    row read says how far back it goes."""
    if not isinstance(ops, ShellOps):
        values = yield from ops.metric(service, "error_rate")
        return dict(enumerate(values or []))
    obs = yield from kit.query(f"metrics {shlex.quote(service)} error_rate")
    rows = [(int(m[1]), float(m[2])) for line in errors.read_lines((obs.text or "") if obs else "")
            if (m := _ROW.match(line))]
    if not rows:
        return {}
    now = -min(t for t, _ in rows)
    return {t + now: v for t, v in rows}


def onset_from(series: dict[int, float]) -> int | None:
    """The minute after the last value at or below the midpoint between the early level
    and the recent one; None when the recent level is not clearly above the early one."""
    minutes = sorted(series)
    if len(minutes) < BASELINE + RECENT:
        return None
    base = statistics.median(series[m] for m in minutes[:BASELINE])
    recent = statistics.median(series[m] for m in minutes[-RECENT:])
    if recent - base < 0.01:
        return None
    mid = (base + recent) / 2
    low = [m for m in minutes if series[m] <= mid]
    return max(low) + 1 if low else None


# -- the changes on the path ---------------------------------------------------------------
def _path_changes(ops, kit, errors: ErrorProcesses, symptom: str, first: Observation | None) -> Steps:
    """Every change to the symptom and to the services it depends on, walking down."""
    changes: list[Change] = []
    seen, frontier = set(), [symptom]
    while frontier:
        name = frontier.pop(0)
        if name in seen:
            continue
        seen.add(name)
        if name == symptom and first is not None:
            changes += changes_in(first, name)
        else:
            changes += (yield from _changes_of(ops, kit, errors, name, correlated=first is not None))
        frontier += [d for d in (yield from _deps(ops, errors, name)) if d not in seen]
    return changes


def _deps(ops, errors: ErrorProcesses, name: str) -> Steps:
    for _ in range(1 + errors.retries):
        st = yield from ops.status(name)
        if st is not None and st.get("depends_on") is not None:
            return list(st["depends_on"])
    return []  # the line that says it was never read: the walk stops here


def _changes_of(ops, kit, errors: ErrorProcesses, name: str, correlated: bool) -> Steps:
    if correlated:
        obs = yield Telemetry(service=name)
        if _correlated(obs):
            return changes_in(obs, name)
    for _ in range(1 + errors.retries):
        lines = yield from _change_lines(ops, kit, errors, name)
        if lines is not None:
            return changes_logged(lines, name)
    return []


def changes_in(obs: Observation, service: str) -> list[Change]:
    """The change records of a correlated telemetry answer: data, nothing to misread."""
    return [Change(int(e["t"]), service, str(e.get("ref") or f"{service}@{e['t']}"),
                   {d["key"]: (d.get("before"), d.get("after")) for d in e.get("changes", [])})
            for e in obs.data["events"] if e.get("kind") == "change"]


def _change_lines(ops, kit, errors: ErrorProcesses, name: str) -> Steps:
    """The service's logged config-change lines as read, or None if the read failed."""
    if isinstance(ops, ShellOps):
        obs = yield from kit.query(f"journalctl -u {shlex.quote(name)} -g {shlex.quote(GREP)}",
                                   drop=(f" -g {shlex.quote(GREP)}", ""))
        text = (obs.text or "") if obs is not None else ""
        if obs is None or not obs.ok or text.startswith(("journalctl:", "bash:")):
            return None
        return errors.read_lines(text)
    obs = yield from kit.call("tail_logs", {"service": name, "n": 0, "contains": GREP}, LOG_GREP)
    return list(obs.data["lines"]) if obs is not None and obs.ok and obs.data is not None else None


def changes_logged(lines: list[str], service: str) -> list[Change]:
    """Change records from log lines, one line per setting, grouped by change id."""
    out: dict[str, Change] = {}
    for line in lines:
        m = _CHANGE.match(line)
        if m:
            c = out.setdefault(m[2], Change(int(m[1]), service, m[2]))
            c.deltas[m[4]] = (None if m[5] == UNSET else m[5], None if m[6] == UNSET else m[6])
    return list(out.values())


def _preceding(changes: list[Change], onset: int) -> Change | None:
    before = [c for c in changes if c.t <= onset]
    return max(before, key=lambda c: (c.t, c.ref)) if before else None


# -- the revert -----------------------------------------------------------------------------
def undo(text: str, change: Change) -> str:
    """``text`` with ``change`` undone line by line: a replaced value put back, an added
    setting removed, every other line as it is."""
    out, done = [], set()
    for line in text.splitlines():
        m = _KEY.match(line)
        key = m.group(1) if m else None
        if key in change.deltas:
            done.add(key)
            before = change.deltas[key][0]
            if before is not None:
                out.append(f"{key}={before}")
            continue
        out.append(line)
    out += [f"{k}={b}" for k, (b, _) in change.deltas.items() if k not in done and b is not None]
    return "\n".join(out) + "\n"


def _revert(ops, errors: ErrorProcesses, change: Change) -> Steps:
    """Write the undone config, read it back until it says what was meant, restart."""
    svc, text = change.service, None
    for _ in range(1 + errors.retries):
        text = yield from ops.read_config(svc)
        if text is not None:
            break
    if text is None:
        return False
    want = undo(text, change)
    yield Think(step=f"revert {change.ref} on {svc}", evidence=tuple(f"{k}: {a} -> {b}" for k, (b, a)
                                                                     in change.deltas.items()))
    for _ in range(1 + errors.retries):
        yield from ops.write_config(svc, want)
        back = yield from ops.read_config(svc)
        if back is not None and config_keys(back) == config_keys(want):
            break
    else:
        return False
    for _ in range(1 + errors.retries):
        started = yield from ops.restart(svc)
        if started.ok is not None:
            return started.ok
    return False
