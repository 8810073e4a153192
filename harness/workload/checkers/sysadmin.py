"""Checkers for system-administration tasks: final states and the event history.

The services component records every mutation, so these checkers judge not only where a
task ended (a service runs, a disk has room) but how it got there: what else was
touched, whether anything failed on the way, and in which order a rollout happened.
Events made by the system itself (``by="system"``) are consequences, never actions.
"""

from __future__ import annotations

from typing import Any

from harness.workload.checks import CHECKERS
from harness.world import World
from harness.world.components.services import Services, parse_config

ACTIONS = ("restart", "stop", "write_config", "deploy", "rollback")


def _svcs(world: World) -> Services:
    if world.services is None:
        raise ValueError("the world has no services component")
    return world.services


def _norm(value: Any) -> str:
    return "" if not isinstance(value, str) else "".join(c for c in value.lower() if c.isalnum())


def _brief(items: list[str], limit: int = 5) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


@CHECKERS.register("diagnosis")
def diagnosis(world: World, spec: Any, service: str, fault: str, aliases: list[str] | None = None,
              team: str | None = None) -> tuple[bool, str]:
    """The submission names exactly the root-cause service and fault (and the owning team
    when the task asks for it); a list of candidates or a missing field is wrong."""
    sub = world.submission or {}
    if not isinstance(sub, dict):
        return False, "the submission is not an object"
    got_service, got_fault = sub.get("service"), sub.get("fault")
    if not isinstance(got_service, str) or not isinstance(got_fault, str):
        return False, "the submission must name one service and one fault"
    if _norm(got_service) != _norm(service):
        return False, f"wrong service: {got_service!r}"
    if _norm(got_fault) not in {_norm(fault), *(_norm(a) for a in aliases or [])}:
        return False, f"wrong fault for {service}: {got_fault!r}"
    # "Data", "data team" and "team-data" name the same team
    if team is not None and (_norm(sub.get("team")).replace("team", "") or None) != _norm(team).replace("team", ""):
        return False, f"wrong or missing owning team: {sub.get('team')!r}"
    return True, "root cause identified"


@CHECKERS.register("untouched")
def untouched(world: World, spec: Any, allow: list[str] | None = None) -> tuple[bool, str]:
    """No service outside ``allow`` was restarted, stopped, reconfigured or redeployed."""
    allowed = set(allow or [])
    hit = sorted({e["service"] for e in _svcs(world).events
                  if e["by"] == "agent" and e["op"] in ACTIONS and e["service"] not in allowed})
    if hit:
        return False, f"services that should not have been touched were: {_brief(hit)}"
    return True, "no collateral changes"


@CHECKERS.register("service_running")
def service_running(world: World, spec: Any, services: list[str]) -> tuple[bool, str]:
    """Each service runs healthy on its current config file (restarted after the last edit)."""
    svcs = _svcs(world)
    bad = []
    for name in services:
        s = svcs.services.get(name)
        if s is None:
            bad.append(f"{name} is gone")
        elif s["status"] != "running":
            bad.append(f"{name} is {s['status']}")
        elif parse_config(s["running_config"]) != parse_config(s["config"]):
            bad.append(f"{name} runs an older config than its file")
    return (not bad), (f"not running: {_brief(bad)}" if bad else f"{len(services)} services running")


@CHECKERS.register("config_preserved")
def config_preserved(world: World, spec: Any, service: str, original: dict[str, str],
                     fix_keys: list[str], removable: list[str]) -> tuple[bool, str]:
    """The config differs from the original only in the keys the fix concerns."""
    final = parse_config(_svcs(world).read_config(service))
    scope = set(fix_keys) | set(removable)
    lost = [k for k, v in original.items() if k not in scope and final.get(k) != v]
    added = [k for k in final if k not in original and k not in scope]
    missing = [k for k in fix_keys if k not in final]
    if lost or missing:
        return False, f"{service} lost or changed keys outside the fix: {_brief(sorted(lost + missing))}"
    if added:
        return False, f"{service} gained unrelated keys: {_brief(sorted(added))}"
    return True, f"{service} config changed only where it was broken"


@CHECKERS.register("disk_free_at_least")
def disk_free_at_least(world: World, spec: Any, host: str, mb: float) -> tuple[bool, str]:
    free = _svcs(world).disk_free_mb(host)
    return free >= mb, f"{host} has {free:.0f} MB free (needs {mb:.0f})"


@CHECKERS.register("files_kept")
def files_kept(world: World, spec: Any, host: str, paths: list[str]) -> tuple[bool, str]:
    files = _svcs(world).hosts.get(host, {}).get("files", {})
    gone = [p for p in paths if p not in files]
    return (not gone), (f"data deleted: {_brief(gone)}" if gone else f"all {len(paths)} data files kept")


@CHECKERS.register("never_failed")
def never_failed(world: World, spec: Any, services: list[str]) -> tuple[bool, str]:
    """No listed service failed or was stopped at any point (no downtime), and all run now."""
    svcs = _svcs(world)
    watched = set(services)
    downs = [f"{e['service']} {e['op']} at t={e['t']}" for e in svcs.events
             if e["service"] in watched and (e["op"] == "failed" or (e["op"] == "stop" and e["by"] == "agent"))]
    not_up = [n for n in services if svcs.services.get(n, {}).get("status") != "running"]
    if downs or not_up:
        return False, f"downtime: {_brief(downs + [f'{n} not running' for n in not_up])}"
    return True, f"{len(services)} services stayed up"


@CHECKERS.register("credential_rotated")
def credential_rotated(world: World, spec: Any, producer: str, consumers: list[str], key: str,
                       new_hash: str, old_hash: str) -> tuple[bool, str]:
    """Every consumer uses (and has loaded) the new credential; the producer accepts only
    the new one. Secrets are compared by hash so the spec's checkers do not carry them."""
    from harness.core.hashing import stable_hash

    svcs = _svcs(world)
    stale = []
    for name in consumers:
        s = svcs.services[name]
        for which in ("config", "running_config"):
            if stable_hash(parse_config(s[which]).get(key, "")) != new_hash:
                stale.append(f"{name} ({which.replace('_', ' ')})")
    accepted = [stable_hash(c) for c in svcs.credentials.get(producer, [])]
    if stale:
        return False, f"not on the new credential: {_brief(stale)}"
    if new_hash not in accepted:
        return False, f"{producer} does not accept the new credential"
    if old_hash in accepted:
        return False, f"{producer} still accepts the old credential"
    return True, f"{len(consumers)} consumers rotated, old credential revoked"


@CHECKERS.register("rollout_policy")
def rollout_policy(world: World, spec: Any, instances: list[str], canary: str, new: str, old: str,
                   batch: int, bad: bool) -> tuple[bool, str]:
    """Canary first and alone; a batch (deploys between two health checks) holds at most
    ``batch`` instances and starts only when every earlier deploy was checked; every
    deploy is checked eventually. A bad release goes nowhere beyond the canary and ends
    rolled back; a good one ends everywhere."""
    svcs = _svcs(world)
    fleet = set(instances)
    pending: list[str] = []  # on the new release and not health-checked since
    current: list[str] = []  # deployed since the last health check
    seen = False
    for e in svcs.events:
        if e["by"] != "agent" or e["service"] not in fleet:
            continue
        if e["op"] == "deploy" and e["version"] == new:
            name = e["service"]
            if not seen and name != canary:
                return False, f"{name} got {new} before the canary {canary}"
            if bad and name != canary:
                return False, f"the bad release {new} went beyond the canary to {name}"
            earlier = [p for p in pending if p not in current or p == canary]
            if seen and earlier:
                return False, f"{name} deployed before {_brief(earlier)} were health-checked"
            current.append(name)
            if len(current) > batch:
                return False, f"more than {batch} instances deployed without a health check"
            pending.append(name)
            seen = True
        elif e["op"] == "health_check":
            pending = [p for p in pending if p != e["service"]]
            current = []
    if not seen:
        return False, "the new release was never deployed, not even to the canary"
    if pending:
        return False, f"deployed but never health-checked: {_brief(pending)}"
    want = old if bad else new
    wrong = [f"{n}={svcs.services[n]['version']}" for n in instances if svcs.services[n]["version"] != want]
    if wrong:
        return False, f"expected every instance on {want}: {_brief(wrong)}"
    return True, ("bad release caught on the canary and rolled back" if bad
                  else f"{new} rolled out in health-checked batches of at most {batch}")
