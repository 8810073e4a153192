"""system_administration/change_regression: which config change preceded the error spike.

Over the last hours people changed configs all over an estate. Each change is in the
world's change history (a ``write_config`` event by its author, with its id and the
config before and after) and in the service's log, one line per setting:
``config change CHG-4821 by alice: timeout_ms 2000 -> 20``. One change, to the symptom
service or to a service it depends on, set something bad; from a minute or two later the
symptom's error rate is high. The agent must find that change and revert it (put back
what it replaced, keep every later change), restart that service and touch nothing else.

What makes it a diagnosis: the culprit is the last change on the symptom's dependency
path before the error spike. Red herrings: changes close in time on services off the
path, harmless earlier changes to the culprit and the path, changes on the path after
the spike (someone investigating), a short error blip hours earlier, noisy logs. Harder
tasks have larger estates, more changes, the culprit further back and deeper down, and
more settings in the bad change (all of which a revert must put back).
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
from harness.workload.spec import CheckerRef, GoldStep, TaskSpec
from harness.world import World
from harness.world.components.services import Services, render_config

SIZES = {1: (5, 7), 2: (7, 10), 3: (10, 14), 4: (14, 20), 5: (20, 28)}
CHANGES = {1: (5, 7), 2: (7, 10), 3: (10, 15), 4: (15, 22), 5: (22, 30)}  # in the whole history
HISTORY = {1: 120, 2: 180, 3: 240, 4: 300, 5: 360}  # minutes of history up to now
# How long ago the culprit change was made. At most 45% of the history, so the error
# spike is the minority of the series and a whole-series baseline still shows it.
AGE = {1: (15, 40), 2: (25, 60), 3: (40, 90), 4: (60, 120), 5: (90, 160)}
DEPTH = {1: (0, 0), 2: (0, 1), 3: (1, 1), 4: (1, 2), 5: (2, 3)}  # hops from the symptom to the culprit
KEYS = {1: (1, 1), 2: (1, 2), 3: (1, 2), 4: (2, 3), 5: (2, 3)}  # settings the bad change alters
EARLIER = {1: 1, 2: 1, 3: 2, 4: 2, 5: 3}  # harmless earlier changes to the culprit
NEAR = {1: 0, 2: 1, 3: 2, 4: 2, 5: 3}  # changes off the path within minutes of the culprit
AFTER = {1: 0, 2: 1, 3: 1, 4: 2, 5: 2}  # changes on the path after the spike began
NOISE = {1: 0.02, 2: 0.04, 3: 0.06, 4: 0.08, 5: 0.1}  # noisy WARN lines per service-minute
GAP, POST_GAP = 8, 4  # no other change on the path this close before the culprit / after the spike
PEOPLE = ("alice", "bob", "chen", "dana", "emeka", "farah", "goran", "hana", "config-bot")
BENIGN = ("log_level", "workers", "timeout_ms", "max_connections", "metrics_enabled", "cache_ttl_s")
VALUES = {"log_level": ("debug", "info", "warn", "error"), "workers": tuple(str(w) for w in range(2, 17)),
          "timeout_ms": ("1000", "1500", "2000", "3000", "5000", "8000"),
          "max_connections": ("100", "150", "200", "300", "400", "800"),
          "metrics_enabled": ("true", "false"), "cache_ttl_s": ("30", "60", "120", "300", "600")}
# A bad setting, and what the service it is set on logs once it bites.
BAD = {"timeout_ms": (("5", "10", "20", "25"), "ERROR upstream call timed out after {v} ms"),
       "max_connections": (("1", "2", "3", "5"), "ERROR connection limit reached ({v}/{v} in use), request rejected"),
       "feature.new_checkout": (("on",), "ERROR NewCheckoutFlow: unsupported cart state, request failed"),
       "rate_limit_rps": (("2", "5", "10"), "WARN rate limit of {v} rps exceeded, rejecting request")}
CHATTER = ("INFO health check ok", "INFO request served", "DEBUG cache refresh", "INFO connection pool resized")
NOISY = ("WARN slow request: {n} ms", "WARN retrying connection to metrics collector",
         "WARN deprecated config key 'legacy_mode' ignored", "ERROR client closed connection early")
RESOLUTION_TARGET_MINUTES = 240.0


def _levels(topo: list[dict[str, Any]], root: str) -> dict[str, int]:
    """Hops from ``root`` to every service it depends on, directly or through others."""
    deps = {s["name"]: s["deps"] for s in topo}
    out, frontier = {root: 0}, [root]
    while frontier:
        nxt = []
        for name in frontier:
            for dep in deps[name]:
                if dep not in out:
                    out[dep] = out[name] + 1
                    nxt.append(dep)
        frontier = nxt
    return out


def _scenario(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Cached: generate and build_world both need it; callers copy the services."""
    return _cached(canonical_json({k: params[k] for k in ("difficulty", "n_services", "n_changes")}), int(seed))


@lru_cache(maxsize=32)
def _cached(params_json: str, seed: int) -> dict[str, Any]:
    params = json.loads(params_json)
    rng = np.random.Generator(np.random.PCG64(seed))
    d, hist = int(params["difficulty"]), HISTORY[int(params["difficulty"])]
    topo = topology(rng, int(params["n_services"]))
    symptom = pick(rng, [s["name"] for s in topo if s["kind"] == "edge"])
    levels = _levels(topo, symptom)
    depth = min(between(rng, DEPTH[d]), max(levels.values()))
    culprit = pick(rng, sorted(n for n, k in levels.items() if k == depth))
    svcs, configs = build_services(rng, topo)
    svcs.clock = hist
    t_c = hist - between(rng, AGE[d])
    onset = t_c + between(rng, (1, 2))  # the minute the errors begin: after the restart that loaded it
    names = [s["name"] for s in topo]
    path = sorted(levels)
    sc = {"topo": topo, "symptom": symptom, "culprit": culprit, "path": path, "t_c": t_c, "onset": onset,
          "hist": hist, "d": d}
    plan = _schedule(rng, sc, names, int(params["n_changes"]))
    changes = _materialize(rng, sc, plan, configs)
    bad = next(c for c in changes if c["role"] == "culprit")
    sc["bad_key"] = next(iter(bad["deltas"]))
    sc["bad_value"] = bad["deltas"][sc["bad_key"]][1]
    for s in {c["service"] for c in changes}:
        svcs.services[s]["config"] = svcs.services[s]["running_config"] = render_config(configs[s])
    svcs.events.extend({"t": c["t"], "op": "write_config", "service": c["service"], "by": c["by"], "change": c["id"],
                        "before": c["before"], "after": c["after"]} for c in changes)
    _telemetry(rng, svcs, sc, changes)
    return {**sc, "svcs": svcs, "changes": changes, "configs": configs, "names": names}


def _schedule(rng: np.random.Generator, sc: dict[str, Any], names: list[str], total: int) -> list[tuple]:
    """(minute, service, role) of every change: the culprit, its decoys, background."""
    d, t_c, onset, culprit, hist = sc["d"], sc["t_c"], sc["onset"], sc["culprit"], sc["hist"]
    path, off = set(sc["path"]), [n for n in names if n not in sc["path"]]
    out = [(t_c, culprit, "culprit")]
    taken = {(culprit, t_c)}

    def add(role: str, pool: list[str], lo: int, hi: int) -> None:
        for _ in range(40):  # a draw that collides is drawn again, deterministically
            s, t = pick(rng, pool), between(rng, (lo, max(lo, hi)))
            quiet = s in path and t_c - GAP < t < onset + POST_GAP  # on the path, only the culprit there
            if (s, t) not in taken and not quiet:
                taken.add((s, t))
                out.append((t, s, role))
                return

    for _ in range(EARLIER[d]):
        add("earlier", [culprit], 5, t_c - GAP)
    for i in range(AFTER[d]):
        add("after", [culprit] if d == 5 and i == 0 else sorted(path), onset + POST_GAP, hist - 3)
    for _ in range(NEAR[d] if off else 0):
        add("near", off, t_c - 3, onset + 3)
    if not any(t > onset for t, _, _ in out):  # someone always changed something since
        add("after", off or sorted(path), onset + POST_GAP, hist - 3)
    for _ in range(4 * total):
        if len(out) >= total:
            break
        add("background", names, 5, hist - 3)
    return sorted(out)


def _materialize(rng: np.random.Generator, sc: dict[str, Any], plan: list[tuple],
                 configs: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """Apply the planned changes in time order, each to the config as it then was."""
    number, bad_keys, out = between(rng, (1200, 8800)), (), []
    for t, s, role in plan:
        cfg = configs[s]
        if role == "culprit":
            key = pick(rng, [k for k in BAD if cfg.get(k) not in BAD[k][0]])
            deltas = {key: (cfg.get(key), pick(rng, BAD[key][0]))}
            for k in pick(rng, [k for k in BENIGN if k != key], between(rng, KEYS[sc["d"]]) - 1):
                deltas[k] = (cfg.get(k), _other(rng, k, cfg.get(k)))
            bad_keys = tuple(deltas)  # the bad setting first
        else:
            # a later change to the culprit leaves the bad settings alone (or it would be the fix)
            pool = [k for k in BENIGN if not (s == sc["culprit"] and t > sc["t_c"] and k in bad_keys)]
            deltas = {k: (cfg.get(k), _other(rng, k, cfg.get(k))) for k in pick(rng, pool, between(rng, (1, 2)))}
        before = render_config(cfg)
        for k, (_, new) in deltas.items():
            cfg[k] = new
        number += between(rng, (1, 6))
        out.append({"t": t, "service": s, "role": role, "id": f"CHG-{number}", "by": pick(rng, PEOPLE),
                    "deltas": deltas, "before": before, "after": render_config(cfg)})
    return out


def _other(rng: np.random.Generator, key: str, current: str | None) -> str:
    return pick(rng, [v for v in VALUES[key] if v != current])


def _telemetry(rng: np.random.Generator, svcs: Services, sc: dict[str, Any], changes: list[dict[str, Any]]) -> None:
    """Error rate and latency per minute, and logs: chatter, noise, changes, errors."""
    hist, onset, symptom, culprit = sc["hist"], sc["onset"], sc["symptom"], sc["culprit"]
    t = np.arange(hist)
    logs: dict[str, list[tuple[int, str]]] = {s["name"]: [] for s in sc["topo"]}
    level = rng.uniform(0.08, 0.25)
    hit = {culprit, *dependents(sc["topo"], culprit)}  # everything calling the culprit errs too
    bite = BAD[sc["bad_key"]][1].format(v=sc["bad_value"])
    for s in sc["topo"]:
        n = s["name"]
        err = np.abs(rng.normal(0.002, 0.001, hist))
        lat = {"db": 4.0, "cache": 1.0, "queue": 3.0, "api": 30.0, "edge": 60.0}[s["kind"]] * rng.uniform(0.6, 1.6)
        lat = lat * (1 + rng.normal(0, 0.05, hist))
        if n in hit:
            add = level if n == symptom else rng.uniform(0.03, 0.2)
            err = err + np.where(t >= onset, add * (1 + rng.normal(0, 0.08, hist)), 0.0)
            lat = np.where(t >= onset, lat * rng.uniform(1.3, 2.0), lat)
            line = bite if n == culprit else "ERROR request failed (HTTP 502: upstream error)"
            logs[n] += [(m, line) for m in range(onset, hist, between(rng, (2, 4)))]
        if n == symptom and sc["d"] >= 3 and sc["t_c"] - 30 > 15:  # a short blip long before: not it
            tb, dur = between(rng, (10, sc["t_c"] - 30)), between(rng, (3, 6))
            err[tb:tb + dur] += 0.25 * level
            logs[n] += [(m, "ERROR partner API timeout") for m in range(tb, tb + dur)]
        logs[n] += [(m, CHATTER[int(rng.integers(len(CHATTER)))]) for m in range(between(rng, (0, 6)), hist,
                                                                                  between(rng, (7, 15)))]
        for m in np.flatnonzero(rng.random(hist) < NOISE[sc["d"]]):
            logs[n].append((int(m), pick(rng, NOISY).format(n=between(rng, (900, 4000)))))
        svcs.metrics[n] = {"error_rate": np.round(np.clip(err, 0, 1), 4).tolist(), "latency_ms": np.round(lat, 1).tolist()}
    for c in changes:
        logs[c["service"]] += [(c["t"], f"INFO config change {c['id']} by {c['by']}: {k} {old or '(unset)'} -> {new}")
                               for k, (old, new) in c["deltas"].items()]
    for n, entries in logs.items():
        svcs.logs[n] = [f"t+{m:04d}m {text}" for m, text in sorted(entries, key=lambda e: e[0])]


def reverted(cfg: dict[str, str], deltas: dict[str, tuple[str | None, str]]) -> dict[str, str]:
    """``cfg`` with one change undone: what it replaced put back, what it added removed."""
    out = dict(cfg)
    for key, (old, _) in deltas.items():
        if old is None:
            out.pop(key, None)
        else:
            out[key] = old
    return out


def _revert(c: dict[str, Any], configs: dict[str, dict[str, str]]) -> tuple[GoldStep, ...]:
    return (step("write_config", service=c["service"], text=render_config(reverted(configs[c["service"]], c["deltas"]))),
            step("restart_service", service=c["service"]), step("submit", answer={"change": c["id"]}))


def _traps(sc: dict[str, Any], bad: dict[str, Any]) -> dict[str, tuple[GoldStep, ...]]:
    """The shortcuts this task tempts with; each must fail."""
    configs, changes = sc["configs"], sc["changes"]
    latest = max(changes, key=lambda c: (c["t"], c["id"]))
    if latest is bad:
        raise TaskGenerationError("change_regression: the culprit is the latest change")
    traps = {"revert_latest_change": _revert(latest, configs),
             "restart_everything": (*(step("restart_service", service=s) for s in sorted(sc["names"])),
                                    step("submit", answer={"change": bad["id"]}))}
    near = [c for c in changes if c["role"] == "near"]
    if near:
        traps["revert_nearest_change"] = _revert(min(near, key=lambda c: (abs(c["t"] - sc["onset"]), c["id"])), configs)
    if len(bad["deltas"]) > 1:
        only = {sc["bad_key"]: bad["deltas"][sc["bad_key"]]}
        traps["revert_bad_setting_only"] = _revert({**bad, "deltas": only}, configs)
    if any(c["service"] == bad["service"] and c["t"] > bad["t"] for c in changes):
        traps["restore_config_before_change"] = (step("write_config", service=bad["service"], text=bad["before"]),
                                                 step("restart_service", service=bad["service"]),
                                                 step("submit", answer={"change": bad["id"]}))
    return traps


def _instructions(symptom: str, hours: int, n_changes: int) -> str:
    return (f"Users see a high error rate from `{symptom}`; it began at some point in the last {hours} hours. "
            f"In those hours people made {n_changes} config changes across the estate. Each is in the changed "
            f"service's log, one line per setting: `config change CHG-NNNN by NAME: KEY OLD -> NEW` (OLD is "
            f"`(unset)` for a setting the change added). One of them caused the regression: it was made to "
            f"`{symptom}` or to a service `{symptom}` depends on (directly or through others), and the errors "
            f"began a minute or two after it. Find that change and revert it: put back the values it replaced, "
            f"remove any setting it added, keep every other setting as it is now, and restart that service. Do "
            f"not restart, stop, reconfigure or deploy any other service. Submit {{\"change\": \"CHG-NNNN\"}}.")


@family
class ChangeRegression:
    name = "system_administration/change_regression"
    category = "system_administration"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        if difficulty not in SIZES:
            raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")
        return {"difficulty": difficulty, "n_services": between(rng, SIZES[difficulty]),
                "n_changes": between(rng, CHANGES[difficulty])}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        if int(params.get("difficulty", 0)) not in SIZES or not 5 <= int(params.get("n_services", 0)) <= 35 \
                or not 3 <= int(params.get("n_changes", 0)) <= 60:
            raise TaskGenerationError("change_regression needs difficulty 1..5, n_services in 5..35 and "
                                      "n_changes in 3..60")
        sc = _scenario(params, seed)
        bad = next(c for c in sc["changes"] if c["role"] == "culprit")
        culprit, symptom = bad["service"], sc["symptom"]
        expected = reverted(sc["configs"][culprit], bad["deltas"])
        hours = sc["hist"] // 60
        private = {**params, "symptom": symptom, "culprit": culprit, "change": bad["id"], "onset_minute": sc["onset"],
                   "change_minute": bad["t"], "path": sc["path"], "bad_setting": {sc["bad_key"]: sc["bad_value"]},
                   "red_herrings": [c["id"] for c in sc["changes"] if c["role"] in ("near", "after")]}
        return TaskSpec(
            id=task_id, category="system_administration", family=self.name,
            difficulty=int(params["difficulty"]), seed=int(seed), params=private,
            public={"symptom_service": symptom, "history_hours": hours},
            instructions=_instructions(symptom, hours, len(sc["changes"])),
            # A careful manual search: per service on the symptom's dependency path a status
            # and a read of its changes (each once more if it comes back unreadable), plus
            # the error series, the config read, write, check and restart. The deadline is
            # the regression's resolution target, as for a severity-2 incident. The policy:
            # any service may be reconfigured and restarted (the culprit is not known in
            # advance), none stopped or redeployed.
            budget=within(15 + 3 * len(sc["path"]), RESOLUTION_TARGET_MINUTES,
                          "the regression must be resolved within its 4-hour resolution target"),
            policy=(*COMMON, "may write and restart any service", "may not stop or deploy any service"),
            checkers=(
                CheckerRef(name="config_reverted", args={"service": culprit, "expected": expected}),
                CheckerRef(name="regression_cleared", args={"symptom": symptom, "culprit": culprit,
                                                            "key": sc["bad_key"], "bad": sc["bad_value"]}),
                CheckerRef(name="service_running", args={"services": sorted(sc["names"])}),
                CheckerRef(name="untouched", args={"allow": [culprit]}),
                CheckerRef(name="change_named", args={"change": bad["id"]}),
            ),
            gold=_revert(bad, sc["configs"]),
            traps=_traps(sc, bad),
        )

    def build_world(self, spec: TaskSpec) -> World:
        return world_with(Services(_scenario(spec.params, spec.seed)["svcs"]._state()))  # the constructor copies
