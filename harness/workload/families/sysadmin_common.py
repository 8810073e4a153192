"""Shared by the system-administration families: topologies, configs, worlds and steps
(the world operations on the services component are in ``harness.workload.ops.services``).

A topology is layered as real estates are: edge services call APIs, APIs call other APIs
and data stores, stores call nothing. Edges always point down a layer, so it is a DAG
and "the root cause is the deepest sick service" is a meaningful rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.workload.spec import GoldStep
from harness.world import World
from harness.world.components.services import Services, render_config

EDGES = ("web", "gateway", "mobile-bff", "admin-ui", "partner-api")
APIS = ("orders", "payments", "inventory", "users", "search", "catalog", "shipping", "billing", "auth",
        "notifications", "recommendations", "reviews", "pricing", "cart", "accounts", "reports",
        "ledger", "fulfillment", "loyalty", "media", "invoices", "returns", "tax", "coupons")
STORES = (("orders-db", "db"), ("users-db", "db"), ("catalog-db", "db"), ("ledger-db", "db"),
          ("session-cache", "cache"), ("redis-cache", "cache"), ("events-queue", "queue"))
PORTS = {"db": 5432, "cache": 6379, "queue": 5672}
TEAMS = ("team-storefront", "team-checkout", "team-identity", "team-platform", "team-data", "team-growth",
         "team-logistics", "team-finance")


def between(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def pick(rng: np.random.Generator, items: list | tuple, k: int | None = None) -> Any:
    """One item (k None) or k distinct items, in drawn order."""
    if k is None:
        return items[int(rng.integers(len(items)))]
    return [items[int(i)] for i in rng.permutation(len(items))[:k]]


def topology(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """``n`` services (4..35) as dicts: name, kind (edge/api/db/cache/queue), tier, deps, port.

    Every API reaches at least one store and every store has a caller, so a fault in a
    store always has dependents to show symptoms.
    """
    n_edge = max(1, round(n * 0.15))
    n_store = max(1, round(n * 0.25))
    n_api = max(2, n - n_edge - n_store)
    n_edge = n - n_api - n_store if n - n_api - n_store >= 1 else 1
    stores = pick(rng, STORES, min(n_store, len(STORES)))
    apis = pick(rng, APIS, min(n_api, len(APIS)))
    edges = pick(rng, EDGES, min(n_edge, len(EDGES)))
    out: list[dict[str, Any]] = []
    for name, kind in stores:
        out.append({"name": name, "kind": kind, "tier": 3, "deps": [], "port": PORTS[kind]})
    # APIs in two tiers: the lower half only calls stores, the upper half may call lower APIs.
    low, high = apis[: (len(apis) + 1) // 2], apis[(len(apis) + 1) // 2:]
    store_names = [s[0] for s in stores]
    for i, name in enumerate(low):
        deps = sorted({store_names[i % len(store_names)], *pick(rng, store_names, between(rng, (0, 1)))})
        out.append({"name": name, "kind": "api", "tier": 2, "deps": deps, "port": 8000 + 10 * i})
    for i, name in enumerate(high):
        deps = sorted({low[i % len(low)], *pick(rng, low, between(rng, (0, 2))),
                       *pick(rng, store_names, between(rng, (0, 1)))})
        out.append({"name": name, "kind": "api", "tier": 1, "deps": deps, "port": 8500 + 10 * i})
    callers = high or low
    for i, name in enumerate(edges):
        deps = sorted({callers[i % len(callers)], *pick(rng, callers, between(rng, (1, 2)))})
        out.append({"name": name, "kind": "edge", "tier": 0, "deps": deps, "port": 443 if i == 0 else 8443 + i})
    # Stores no API picked get a caller, so no store is an island.
    called = {d for s in out for d in s["deps"]}
    for s in out:
        if s["tier"] == 3 and s["name"] not in called:
            low_svc = next(x for x in out if x["name"] == low[0])
            low_svc["deps"] = sorted({*low_svc["deps"], s["name"]})
    return out


def dependents(topo: list[dict[str, Any]], name: str) -> list[str]:
    """Every service that calls ``name`` directly or through others, sorted."""
    up: set[str] = set()
    frontier = {name}
    while frontier:
        nxt = {s["name"] for s in topo if set(s["deps"]) & frontier} - up
        up |= nxt
        frontier = nxt
    return sorted(up)


def base_config(rng: np.random.Generator, svc: dict[str, Any], topo_ports: dict[str, int]) -> dict[str, str]:
    """A plausible config: the keys a start rule needs plus the bulk real configs carry."""
    cfg = {
        "listen_port": str(svc["port"]),
        "log_level": pick(rng, ("info", "warn", "info", "debug")),
        "workers": str(between(rng, (2, 16))),
        "timeout_ms": str(pick(rng, (500, 1000, 2000, 3000, 5000))),
        "max_connections": str(pick(rng, (50, 100, 200, 400))),
    }
    for dep in svc["deps"]:
        cfg[f"{dep}.host"] = f"{dep}.internal"
        cfg[f"{dep}.port"] = str(topo_ports[dep])
    cfg["metrics_enabled"] = pick(rng, ("true", "false"))
    cfg["feature.new_checkout"] = pick(rng, ("on", "off"))
    return cfg


def start_rule(svc: dict[str, Any]) -> dict[str, Any]:
    """What a service needs to start: its own keys well-formed, its dependencies' host and
    port equal to what they listen on."""
    rule: dict[str, Any] = {"required": {"listen_port": r"[1-9]\d{2,4}", "workers": r"[1-9]\d*",
                                         "timeout_ms": r"\d+", "max_connections": r"[1-9]\d*"}}
    for dep in svc["deps"]:
        rule["required"][f"{dep}.host"] = r"[a-z0-9.\-]+"
        rule["required"][f"{dep}.port"] = r"\d+"
    rule["needs_running"] = list(svc["deps"])
    rule["equals"] = {**{f"{d}.port": [d, "listen_port"] for d in svc["deps"]},
                      **{f"{d}.host": [d, "advertised_host"] for d in svc["deps"]}}
    return rule


def build_services(rng: np.random.Generator, topo: list[dict[str, Any]], *, host_of: dict[str, str] | None = None,
                   with_rules: bool = True) -> tuple[Services, dict[str, dict[str, str]]]:
    """A healthy estate: every service running with a config that satisfies its rule."""
    ports = {s["name"]: s["port"] for s in topo}
    svcs = Services()
    configs: dict[str, dict[str, str]] = {}
    for s in topo:
        cfg = base_config(rng, s, ports)
        cfg["advertised_host"] = f"{s['name']}.internal"
        configs[s["name"]] = cfg
        svcs.add_service(s["name"], config=render_config(cfg), version=f"{between(rng, (1, 4))}.{between(rng, (0, 9))}.0",
                         deps=s["deps"], rule=start_rule(s) if with_rules else {},
                         host=(host_of or {}).get(s["name"], f"{s['name']}-host"))
    return svcs, configs


def world_with(svcs: Services) -> World:
    return World(parts={"services": svcs})


def step(op: str, **args: Any) -> GoldStep:
    return GoldStep(op=op, args=args)


def norm(value: Any) -> str:
    """How a human compares names: case, spaces, dashes and underscores do not matter."""
    return "" if not isinstance(value, str) else "".join(c for c in value.lower() if c.isalnum())
