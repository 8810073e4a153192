"""system_administration/incident_diagnosis: find the root cause of an incident.

One fault is injected into one service of a layered estate; its symptoms propagate up
to every caller (latency adds up, errors leak through), so the loudest service is rarely
the culprit. The evidence is where it would be in life: the culprit's own metrics, its
logs or its callers' logs (an expired certificate shows up only at the callers), traces
(the slow span), and the deploy history. From difficulty 3, red herrings (a harmless
deploy, a CPU burst, a chronic error plateau) and more noise are added; from difficulty
4 the task spans two sessions and the answer includes the owning team, which only the
first session's ownership map tells.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np

from harness.core.errors import TaskGenerationError
from harness.core.hashing import canonical_json
from harness.workload.deadlines import within
from harness.workload.families.sysadmin_common import (
    TEAMS,
    between,
    build_services,
    dependents,
    pick,
    step,
    topology,
    world_with,
)
from harness.workload.policies import COMMON
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, Probe, SessionSpec, TaskSpec
from harness.world import World
from harness.world.components.services import Services

FAULTS = ("slow_database", "memory_leak", "bad_deploy", "expired_certificate", "connection_pool_exhausted")
ALIASES = {
    "slow_database": ["slow db", "database slow", "slow queries", "slow query", "database latency"],
    "memory_leak": ["memory leak", "leak", "out of memory", "oom"],
    "bad_deploy": ["bad deployment", "bad release", "faulty deploy", "broken deploy", "bad version"],
    "expired_certificate": ["expired cert", "certificate expired", "tls certificate expired", "cert expired"],
    "connection_pool_exhausted": ["connection pool exhaustion", "pool exhausted", "exhausted connection pool",
                                  "connection pool exhausted"],
}
SIZES = {1: (5, 7), 2: (8, 12), 3: (12, 18), 4: (18, 24), 5: (24, 30)}
HERRINGS = {1: 0, 2: 0, 3: 1, 4: 2, 5: 3}
NOISE = {1: 0.04, 2: 0.07, 3: 0.1, 4: 0.14, 5: 0.18}
MINUTES = 60
CHATTER = ("INFO health check ok", "INFO request served", "DEBUG cache refresh",
           "WARN deprecated config key 'legacy_mode' ignored")


def _root_candidates(topo: list[dict[str, Any]], fault: str) -> list[dict[str, Any]]:
    if fault == "slow_database":
        pool = [s for s in topo if s["kind"] == "db"]
    elif fault == "connection_pool_exhausted":
        dbs = {s["name"] for s in topo if s["kind"] == "db"}
        pool = [s for s in topo if s["kind"] == "api" and set(s["deps"]) & dbs]
    else:
        pool = [s for s in topo if s["kind"] == "api"]
    return [s for s in pool if dependents(topo, s["name"])]


def _scenario(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Cached: generate and build_world both need it; callers copy the services."""
    return _cached(canonical_json({k: params[k] for k in ("difficulty", "n_services", "fault")}), int(seed))


@lru_cache(maxsize=32)
def _cached(params_json: str, seed: int) -> dict[str, Any]:
    params = json.loads(params_json)
    rng = np.random.Generator(np.random.PCG64(seed))
    fault, d = params["fault"], int(params["difficulty"])
    for _ in range(20):  # a topology drawn without a fitting culprit is redrawn, deterministically
        topo = topology(rng, int(params["n_services"]))
        roots = _root_candidates(topo, fault)
        if roots:
            break
    else:
        raise TaskGenerationError(f"incident_diagnosis: no service can host {fault} (seed {seed})")
    root = pick(rng, roots)["name"]
    above = dependents(topo, root)
    edges = [n for n in above if next(s for s in topo if s["name"] == n)["kind"] == "edge"] or above
    symptom = pick(rng, edges)
    svcs, configs = build_services(rng, topo, with_rules=False)
    svcs.clock = MINUTES
    t0 = between(rng, (25, 45))
    others = [s["name"] for s in topo if s["name"] != root]
    herrings = pick(rng, others, min(HERRINGS[d], len(others)))
    teams = {s["name"]: pick(rng, TEAMS) for s in topo}
    _telemetry(rng, svcs, topo, root, fault, t0, NOISE[d], herrings, configs)
    return {"svcs": svcs, "root": root, "symptom": symptom, "t0": t0, "herrings": herrings, "teams": teams,
            "names": [s["name"] for s in topo]}


def _telemetry(rng: np.random.Generator, svcs: Services, topo: list[dict[str, Any]], root: str, fault: str,
               t0: int, noise: float, herrings: list[str], configs: dict[str, dict[str, str]]) -> None:
    t = np.arange(MINUTES)
    after = t >= t0
    sick = {root, *dependents(topo, root)}
    own_lat, own_err, cpu, mem, conns = {}, {}, {}, {}, {}
    for s in topo:
        n = s["name"]
        base = {"db": 4.0, "cache": 1.0, "queue": 3.0, "api": 30.0, "edge": 60.0}[s["kind"]] * rng.uniform(0.6, 1.6)
        own_lat[n] = base * (1 + rng.normal(0, noise, MINUTES))
        own_err[n] = np.abs(rng.normal(0.002, 0.002 * (1 + 10 * noise), MINUTES))
        cpu[n] = np.clip(rng.normal(rng.uniform(15, 45), 4, MINUTES), 1, 100)
        mem[n] = rng.uniform(300, 1500) + rng.normal(0, 8, MINUTES)
        conns[n] = np.abs(rng.normal(rng.uniform(10, 60), 3, MINUTES))
    logs: dict[str, list[str]] = {s["name"]: [] for s in topo}

    def log(name: str, minute: int, text: str) -> None:
        logs[name].append((minute, text))

    cfg = configs[root]
    # the culprit's own signal
    if fault == "slow_database":
        own_lat[root] = np.where(after, own_lat[root] * rng.uniform(60, 150), own_lat[root])
        cpu[root] = np.where(after, np.clip(cpu[root] + 35, 0, 100), cpu[root])
        for m in range(t0, MINUTES, 3):
            log(root, m, f"WARN slow query: SELECT ... took {int(own_lat[root][m] * 10)} ms (seq scan on orders)")
    elif fault == "memory_leak":
        mem[root] = mem[root] + np.where(after, (t - t0) * rng.uniform(25, 45), 0)
        own_lat[root] = own_lat[root] * (1 + np.where(after, (t - t0) / 6.0, 0))
        own_err[root] = own_err[root] + np.where(t >= MINUTES - 6, 0.15, 0)
        for m in range(t0 + 5, MINUTES, 4):
            log(root, m, f"WARN GC pause {int(150 + 40 * (m - t0))} ms, heap {int(mem[root][m])} MB")
        log(root, MINUTES - 3, "ERROR java.lang.OutOfMemoryError: Java heap space")
        svcs.services[root]["restarts"] = 1
    elif fault == "bad_deploy":
        svc = svcs.services[root]
        old, new = svc["version"], f"{svc['version'].split('.')[0]}.{int(svc['version'].split('.')[1]) + 1}.0"
        svc["previous_versions"].append(old)
        svc["version"] = new
        svc["releases"] = {old: {"error_rate": 0.002}, new: {"error_rate": 0.2}}
        svcs.events.append({"t": t0, "op": "deploy", "service": root, "by": "ci", "version": new, "previous": old})
        own_err[root] = np.where(after, own_err[root] + rng.uniform(0.15, 0.35), own_err[root])
        log(root, t0, f"INFO started version {new}")
        for m in range(t0 + 1, MINUTES, 2):
            log(root, m, f"ERROR NullPointerException in RequestHandler.handle ({new})")
    elif fault == "expired_certificate":
        cfg_line = f"2026-11-27T{9 + t0 // 60:02d}:{t0 % 60:02d}:00Z"
        svcs.services[root]["config"] += f"tls_cert=/etc/tls/{root}.pem\ntls_cert_not_after={cfg_line}\n"
        conns[root] = np.where(after, np.abs(rng.normal(0.5, 0.5, MINUTES)), conns[root])
        log(root, max(t0 - 20, 0), f"WARN TLS certificate /etc/tls/{root}.pem expires at {cfg_line}")
    else:  # connection_pool_exhausted
        cap = float(cfg["max_connections"])
        conns[root] = np.where(after, cap, np.minimum(conns[root], cap * 0.6))
        own_lat[root] = np.where(after, own_lat[root] + float(cfg["timeout_ms"]) * 0.8, own_lat[root])
        own_err[root] = np.where(after, own_err[root] + rng.uniform(0.05, 0.15), own_err[root])
        for m in range(t0, MINUTES, 2):
            log(root, m, f"ERROR timeout acquiring DB connection: pool exhausted ({int(cap)}/{int(cap)} in use)")
    # propagation up the call graph, callers after callees
    lat, err = dict(own_lat), dict(own_err)
    for s in sorted(topo, key=lambda s: -s["tier"]):
        for dep in s["deps"]:
            lat[s["name"]] = lat[s["name"]] + 0.8 * lat[dep]
            err[s["name"]] = err[s["name"]] + 0.7 * err[dep]
            if fault == "expired_certificate" and dep == root:
                err[s["name"]] = err[s["name"]] + np.where(after, rng.uniform(0.3, 0.6), 0)
                for m in range(t0, MINUTES, 2):
                    log(s["name"], m, f"ERROR calling {dep}.internal: x509: certificate has expired or is not yet valid")
            elif dep in sick and fault != "expired_certificate":
                for m in range(t0 + 1, MINUTES, 5):
                    log(s["name"], m, f"WARN upstream {dep} slow or failing (p99 {int(lat[dep][m])} ms)")
    # red herrings: loud, but unrelated in time or in kind
    for i, h in enumerate(herrings):
        kind = ("deploy", "cpu", "chronic")[i % 3]
        if kind == "deploy":
            m = between(rng, (2, max(3, t0 - 15)))
            svcs.events.append({"t": m, "op": "deploy", "service": h, "by": "ci",
                                "version": svcs.services[h]["version"], "previous": "0.9.0"})
            log(h, m, f"INFO started version {svcs.services[h]['version']}")
        elif kind == "cpu":
            m = between(rng, (5, MINUTES - 8))
            cpu[h] = np.where((t >= m) & (t < m + 6), 92.0, cpu[h])
            log(h, m, "INFO nightly compaction job started")
        else:
            err[h] = err[h] + 0.03
            for m in range(0, MINUTES, 6):
                log(h, m, "WARN retrying request to external partner API (HTTP 503)")
    for s in topo:  # routine chatter, denser with noise
        n = s["name"]
        minutes = range(0, MINUTES, max(2, int(12 - 40 * noise)))
        for m, i in zip(minutes, rng.integers(0, len(CHATTER), len(minutes)), strict=True):
            log(n, m, CHATTER[int(i)])
        svcs.metrics[n] = {"latency_ms": _r(lat[n]), "error_rate": _r(np.clip(err[n], 0, 1), 4), "cpu": _r(cpu[n]),
                           "memory_mb": _r(mem[n]), "connections": _r(conns[n])}
        svcs.logs[n] = [f"t+{m:04d}m {text}" for m, text in sorted(logs[n], key=lambda x: x[0])]
    svcs.events.sort(key=lambda e: e["t"])
    svcs.traces_ = _traces(rng, topo, lat, root, fault, t0)


def _r(a: np.ndarray, digits: int = 1) -> list[float]:
    return np.round(np.asarray(a, dtype=float), digits).tolist()


def _traces(rng: np.random.Generator, topo: list[dict[str, Any]], lat: dict[str, np.ndarray], root: str,
            fault: str, t0: int) -> list[dict[str, Any]]:
    """A few sampled requests after the onset, each a tree of spans from an edge down."""
    deps = {s["name"]: s["deps"] for s in topo}
    starts = [s["name"] for s in topo if s["tier"] == 0]
    spans: list[dict[str, Any]] = []

    def visit(trace: str, minute: int, name: str, parent: str | None, depth: int) -> None:
        sid = f"{trace}-{len(spans):03d}"
        failed = fault == "expired_certificate" and name == root
        spans.append({"trace_id": trace, "span_id": sid, "parent": parent, "service": name, "minute": minute,
                      "duration_ms": 0.0 if failed else round(float(lat[name][minute]), 1),
                      "status": "error: tls handshake failed" if failed else "ok"})
        if not failed and depth < 4:
            for dep in deps[name]:
                visit(trace, minute, dep, sid, depth + 1)

    for k in range(6):
        minute = between(rng, (t0, MINUTES - 1))
        visit(f"tr-{k:02d}{int(rng.integers(16**4)):04x}", minute, pick(rng, starts), None, 0)
    return spans


def _map_probe(teams: dict[str, str], later: str) -> Probe:
    """A probe of the whole ownership map: asking for the culprit's owner would name the culprit.

    Names the later session already shows (the symptom service; `users` in "Users report")
    are left out of ``expect``: a reply could echo them without remembering anything.
    """
    shown = " ".join(later.lower().split())
    names = sorted({*teams, *teams.values()})
    return Probe(told_in=0, question="Which team owns each service in the ownership map?",
                 expect=tuple(n for n in names if n.lower() not in shown))


RESPONSE_OBJECTIVE_MINUTES = 60.0


@family
class IncidentDiagnosis:
    name = "system_administration/incident_diagnosis"
    category = "system_administration"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        if difficulty not in SIZES:
            raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")
        return {"difficulty": difficulty, "n_services": between(rng, SIZES[difficulty]), "fault": pick(rng, FAULTS),
                "sessions": 2 if difficulty >= 4 else 1}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        if params.get("fault") not in FAULTS or not 5 <= int(params.get("n_services", 0)) <= 35:
            raise TaskGenerationError(f"incident_diagnosis needs fault in {FAULTS} and n_services in 5..35")
        sc = _scenario(params, seed)
        root, symptom, n = sc["root"], sc["symptom"], len(sc["names"])
        two = int(params.get("sessions", 1)) == 2
        kinds = ", ".join(FAULTS)
        ask = (f"Users report errors and slow responses from `{symptom}`. Find the root cause: the one "
               f"service where the problem starts and its fault, one of {kinds}. Diagnose only: do not "
               f"restart, stop, deploy or reconfigure anything.")
        answer: dict[str, Any] = {"service": root, "fault": params["fault"]}
        if two:
            owners = "; ".join(f"{s} is owned by {sc['teams'][s]}" for s in sorted(sc["names"]))
            instructions = (f"You are on call for this estate. {ask} Submit "
                            f'{{"service": ..., "fault": ..., "team": ...}}, where team owns the culprit.')
            sessions = (SessionSpec(asks=f"Onboarding, no incident yet. The ownership map (kept nowhere "
                                         f"else): {owners}."),
                        SessionSpec(asks="The incident is on: diagnose it and page the owning team."))
            knowledge = (f"{root} is owned by {sc['teams'][root]}",)
            probes = (_map_probe(sc["teams"], f"{instructions} {sessions[1].asks}"),)
            answer["team"] = sc["teams"][root]
        else:
            instructions = f'{ask} Submit {{"service": ..., "fault": ...}}.'
            sessions, knowledge, probes = (SessionSpec(asks="do the task"),), (), ()
        diag = {"service": root, "fault": params["fault"], "aliases": ALIASES[params["fault"]]}
        if two:
            diag["team"] = sc["teams"][root]
        private = {**params, "root": root, "symptom": symptom, "onset_minute": sc["t0"],
                   "red_herrings": sc["herrings"], "teams": sc["teams"]}
        return TaskSpec(
            id=task_id, category="system_administration", family=self.name,
            difficulty=int(params["difficulty"]), seed=int(seed), params=private,
            public={"symptom_service": symptom, "fault_kinds": list(FAULTS)},
            instructions=instructions, sessions=sessions, knowledge=knowledge, probes=probes,
            # A metrics, a log and a trace look per service on the suspect path, bounded by
            # the estate: it grows with the number of services only. The incident's response
            # objective is the deadline; diagnosing changes nothing, so the policy grants
            # nothing beyond reading (and the ticket).
            budget=within(20 + 3 * n, RESPONSE_OBJECTIVE_MINUTES,
                          "the owning team must be paged within the incident's 60-minute response objective"),
            policy=COMMON,
            checkers=(CheckerRef(name="diagnosis", args=diag), CheckerRef(name="untouched", args={"allow": []})),
            gold=(step("submit", answer=answer),),
            traps={"restart_everything": (*(step("restart_service", service=s) for s in sorted(sc["names"])),
                                          step("submit", answer={"service": symptom, "fault": "unknown"}))},
        )

    def build_world(self, spec: TaskSpec) -> World:
        return world_with(Services(_scenario(spec.params, spec.seed)["svcs"]._state()))  # the constructor copies
