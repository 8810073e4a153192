"""Strategy for system_administration/incident_diagnosis: follow the symptoms down to the
service where they start, name its fault, check it against that service's own metrics.

An on-call engineer starts at the service users complain about and reads what it says
about the services it calls ("upstream X slow or failing", "x509: certificate has
expired" when calling X), follows those pointers down, and stops at the service whose
own log shows a fault of its own (slow queries, GC pauses, a new release throwing, an
exhausted pool). Telemetry is looked at through the observability layer first (every
warning and error of the window as data, or only a log tail as text) and through the
service's logs when that showed nothing useful. The fault is then confirmed against the
metric it should move; a slip (the wrong one of two similar faults) is caught there.
Two-session tasks give the ownership map in session 1 only: it is kept in memory, and
recalled to page the owning team.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.knowledge import keep, recall_fact
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps
from harness.agents.reference.toolkit_ops import open_incident
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Telemetry, Think

# A service's own log lines that name its own fault, as an engineer recognises them.
OWN_SIGNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"slow query"), "slow_database"),
    (re.compile(r"GC pause|OutOfMemoryError"), "memory_leak"),
    (re.compile(r"ERROR \w+Exception\b.*\(\d+\.\d+\.\d+\)"), "bad_deploy"),
    (re.compile(r"pool exhausted"), "connection_pool_exhausted"),
    (re.compile(r"TLS certificate \S+ expires at"), "expired_certificate"),
)
_UPSTREAM = re.compile(r"upstream ([\w\-]+) slow or failing")
_CERT = re.compile(r"calling ([\w\-]+)\.internal: x509: certificate has expired")
_SYMPTOM = re.compile(r"responses from `([\w\-]+)`")
_OWNER = r"(?:^|[;:]\s*){name} is owned by ([\w\-]+)"
# The fault a hurried reader mistakes each one for (the slip), and what disproves it.
SIMILAR = {"slow_database": "connection_pool_exhausted", "connection_pool_exhausted": "slow_database",
           "memory_leak": "bad_deploy", "bad_deploy": "memory_leak",
           "expired_certificate": "connection_pool_exhausted"}
BASELINE, RECENT = 20, 15  # the first minutes are before any onset; the last are after it


@dataclass
class Evidence:
    """What one service's telemetry says: its own fault, or where to look next."""

    fault: str | None = None
    culprit: tuple[str, str] | None = None  # (service, fault) named by a caller's error
    upstream: list[str] = field(default_factory=list)

    @property
    def useful(self) -> bool:
        return bool(self.fault or self.culprit or self.upstream)


def read_evidence(lines: list[str]) -> Evidence:
    ev = Evidence()
    for line in lines:
        for pattern, fault in OWN_SIGNS:
            if ev.fault is None and pattern.search(line):
                ev.fault = fault
        if ev.culprit is None and (m := _CERT.search(line)):
            ev.culprit = (m[1], "expired_certificate")
        if (m := _UPSTREAM.search(line)) and m[1] not in ev.upstream:
            ev.upstream.append(m[1])
    return ev


def owner_in(text: str, service: str) -> str | None:
    m = re.search(_OWNER.format(name=re.escape(service)), text)
    return m[1].rstrip(".;") if m else None


@STRATEGIES.register("system_administration/incident_diagnosis")
def incident_diagnosis(brief: Brief, kit, errors: ErrorProcesses) -> Steps:
    said = brief.instructions.split("This session:", 1)[-1]
    if brief.sessions > 1 and "is owned by" in said:  # onboarding: keep the map, nothing to diagnose
        yield from keep(kit, errors, "ownership map", said.strip())
        yield Submit(answer={})
        return
    opened = yield from open_incident(brief, kit, errors, _SYMPTOM)
    if opened is None:
        return
    ops, symptom = opened
    found = yield from _walk_down(ops, errors, symptom)
    if found is None:
        yield GiveUp(reason=f"no service below {symptom} shows a fault of its own")
        return
    culprit, fault = found
    fault = yield from _confirmed(ops, errors, culprit, fault)
    answer = {"service": culprit, "fault": fault}
    if "team" in brief.instructions and brief.sessions > 1:
        team = yield from recall_fact(kit, brief, "ownership map: service is owned by team",
                                      lambda text: owner_in(text, culprit))
        # The map is told once and is nowhere in the estate: without it, no team can be named.
        answer["team"] = team or "unknown"
    yield Submit(answer=answer)



def _walk_down(ops, errors: ErrorProcesses, symptom: str) -> Steps:
    """Breadth-first from the symptom along what each service says about its callees;
    (service, fault) where a fault of its own shows, else None."""
    frontier, seen = [symptom], set()
    while frontier:
        name = frontier.pop(0)
        if name in seen:
            continue
        seen.add(name)
        ev = yield from _look(ops, errors, name)
        yield Think(step=f"telemetry of {name}", evidence=(f"own fault: {ev.fault}", f"points at: {ev.upstream}"))
        if ev.fault is not None:
            return name, ev.fault
        if ev.culprit is not None:
            return ev.culprit
        frontier += [d for d in ev.upstream if d not in seen]
        if not ev.upstream:  # nothing named: look at what it calls
            st = yield from ops.status(name)
            frontier += [d for d in (st or {}).get("depends_on") or [] if d not in seen]
    return None


def _look(ops, errors: ErrorProcesses, name: str) -> Steps:
    """The observability layer's view first; the service's own log when that said nothing."""
    obs = yield Telemetry(service=name)
    ev = read_evidence(_telemetry_lines(obs, errors))
    for n in (40, 0)[: 1 + min(errors.retries, 1)]:
        if ev.useful:
            break
        ev = read_evidence((yield from ops.logs(name, n)) or [])
    return ev


def _telemetry_lines(obs, errors: ErrorProcesses) -> list[str]:
    if obs is None or not obs.ok:
        return []
    if obs.data is not None:  # correlated events: the log hits are data, nothing to misread
        return [str(e["line"]) for e in obs.data.get("events", []) if e.get("kind") == "log"]
    return errors.read_lines(obs.text or "")


def _confirmed(ops, errors: ErrorProcesses, culprit: str, fault: str) -> Steps:
    """The fault to submit: the one the logs showed, unless a slip swapped it and the
    metrics did not catch the swap."""
    guess = SIMILAR[fault] if errors.slip() else fault
    for _ in range(1 + errors.retries):
        ok = yield from _metrics_show(ops, culprit, guess)
        if ok is not False or guess == fault:
            return guess
        yield Think(step=f"{culprit}'s metrics do not show {guess}; back to what its log said", evidence=(fault,),
                    rejected=(guess,))
        guess = fault
    return guess


def _metrics_show(ops, service: str, fault: str) -> Steps:
    """True/False: does the metric this fault moves move that way; None if unreadable."""
    metric = CHECKS[fault][0]
    series = yield from ops.metric(service, metric)
    if not series or len(series) < BASELINE + RECENT:
        return None
    return CHECKS[fault][1](series[:BASELINE], series[-RECENT:])


def _med(xs: list[float]) -> float:
    return statistics.median(xs)


# fault -> (metric, test on (baseline, recent)); each refutes the fault it is mistaken for.
CHECKS = {
    "slow_database": ("cpu", lambda b, r: _med(r) - _med(b) > 20),
    "memory_leak": ("memory_mb", lambda b, r: r[-1] - _med(b) > 150),
    "bad_deploy": ("error_rate", lambda b, r: _med(r) - _med(b) > 0.1),
    "expired_certificate": ("connections", lambda b, r: _med(r) < 0.3 * max(_med(b), 1e-9)),
    "connection_pool_exhausted": ("connections", lambda b, r: len(set(r[-10:])) == 1 and r[-1] > 0),
}
