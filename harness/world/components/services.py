"""Services: processes with configs, start rules, telemetry, hosts with files, and an audit trail.

Everything is plain data so a snapshot is JSON and two equal worlds have equal digests.
A service starts only if its *start rule* (data, not code) holds: required config keys
matching patterns, values equal to another service's config, dependencies running, a
credential its producer accepts, files present and free disk on its host. Every mutation
is appended to ``events`` so checkers can judge ordering and collateral damage; changes
the system makes on its own (a consumer failing when its credential is revoked) are
recorded with ``by="system"`` so they are never mistaken for the agent's actions.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from typing import Any

from harness.core.hashing import canonical_json
from harness.world.state import COMPONENTS
from harness.world.workspace import WorldError

STATUSES = ("running", "stopped", "failed", "degraded")
METRICS = ("latency_ms", "error_rate", "cpu", "memory_mb", "connections", "disk_free_mb")
# A health check calls a release healthy below this error rate; a rollout policy may be stricter.
HEALTHY_ERROR_RATE = 0.05


def parse_config(text: str) -> dict[str, str]:
    """``key=value`` (or ``key: value``) lines; comments and malformed lines are ignored,
    and a later line wins, as most daemons do."""
    return dict(_parse(text))


@lru_cache(maxsize=8192)
def _parse(text: str) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        m = re.match(r"^([A-Za-z_][\w.\-]*)\s*[=:]\s*(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return tuple(out.items())


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of plain JSON data (several times faster than copy.deepcopy)."""
    return json.loads(json.dumps(data))


def render_config(values: dict[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in values.items())


@COMPONENTS.register("services")
class Services:
    def __init__(self, data: dict[str, Any] | None = None):
        d = _copy(data or {})
        self.services: dict[str, dict[str, Any]] = d.get("services", {})
        self.metrics: dict[str, dict[str, list[float]]] = d.get("metrics", {})
        self.logs: dict[str, list[str]] = d.get("logs", {})
        self.traces_: list[dict[str, Any]] = d.get("traces", [])
        self.hosts: dict[str, dict[str, Any]] = d.get("hosts", {})
        self.credentials: dict[str, list[str]] = d.get("credentials", {})
        self.events: list[dict[str, Any]] = d.get("events", [])
        self.clock: int = int(d.get("clock", 0))

    # -- building -----------------------------------------------------------------------
    def add_service(self, name: str, *, config: str = "", version: str = "1.0.0", deps: list[str] | None = None,
                    rule: dict[str, Any] | None = None, host: str = "", status: str = "running",
                    releases: dict[str, dict[str, Any]] | None = None) -> None:
        if status not in STATUSES:
            raise WorldError(f"unknown status {status!r}")
        self.services[name] = {
            "status": status, "version": version, "config": config,
            "running_config": config if status in ("running", "degraded") else "",
            "deps": list(deps or []), "rule": dict(rule or {}), "host": host, "restarts": 0,
            "previous_versions": [], "releases": dict(releases or {version: {"error_rate": 0.0}}),
            "degraded_by": None,
        }
        self.metrics.setdefault(name, {})
        self.logs.setdefault(name, [])

    # -- state --------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"services": self.services, "metrics": self.metrics, "logs": self.logs, "traces": self.traces_,
                "hosts": self.hosts, "credentials": self.credentials, "events": self.events, "clock": self.clock}

    def snapshot(self) -> dict[str, Any]:
        return _copy(self._state())

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Services:
        return cls(data)

    def digest(self) -> str:
        return hashlib.sha256(canonical_json(self._state()).encode()).hexdigest()

    def resource_digest(self, kind: str, name: str) -> str | None:
        """Content of ``service:NAME``, ``host:HOST:/path`` or ``credential:PRODUCER/...``;
        None for kinds this component does not hold. ``service:`` (every service) and
        unknown names digest the whole configurable state."""
        state: Any
        if kind == "service":
            state = self.services.get(name) if name else self.services
        elif kind == "host":
            host, _, path = name.partition(":")
            files = self.hosts.get(host, {}).get("files", {})
            state = {p: v for p, v in files.items() if not path or p == path or p.startswith(path.rstrip("/") + "/")}
        elif kind == "credential":
            state = self.credentials.get(name.split("/", 1)[0], self.credentials)
        else:
            return None
        return hashlib.sha256(canonical_json(state).encode()).hexdigest()

    # -- inspection ---------------------------------------------------------------------
    def _svc(self, name: str) -> dict[str, Any]:
        try:
            return self.services[name]
        except KeyError:
            raise WorldError(f"no such service: {name}", "list the services to see what exists") from None

    def names(self) -> list[str]:
        return sorted(self.services)

    def status(self, name: str) -> dict[str, Any]:
        s = self._svc(name)
        return {"service": name, "status": s["status"], "version": s["version"], "restarts": s["restarts"],
                "host": s["host"], "depends_on": list(s["deps"])}

    def read_config(self, name: str) -> str:
        return self._svc(name)["config"]

    def query_metrics(self, name: str, metric: str, last_n: int | None = None) -> list[float]:
        self._svc(name)
        if metric not in METRICS:
            raise WorldError(f"unknown metric {metric!r}", f"known metrics: {', '.join(METRICS)}")
        series = self.metrics.get(name, {}).get(metric, [])
        return list(series if not last_n else series[-int(last_n):])

    def tail_logs(self, name: str, n: int = 20, contains: str | None = None) -> list[str]:
        self._svc(name)
        lines = self.logs.get(name, [])
        if contains:
            lines = [ln for ln in lines if contains.lower() in ln.lower()]
        return list(lines[-int(n):]) if n else list(lines)

    def traces(self, name: str | None = None) -> list[dict[str, Any]]:
        if name is not None:
            self._svc(name)
        return [dict(t) for t in self.traces_ if name is None or t["service"] == name]

    def list_files(self, host: str, prefix: str = "") -> list[dict[str, Any]]:
        files = self._host(host)["files"]
        return [{"path": p, "size_mb": files[p]} for p in sorted(files) if p.startswith(prefix)]

    def disk_free_mb(self, host: str) -> float:
        h = self._host(host)
        return round(h["capacity_mb"] - sum(h["files"].values()), 3)

    def _host(self, host: str) -> dict[str, Any]:
        try:
            return self.hosts[host]
        except KeyError:
            raise WorldError(f"no such host: {host}", "list the hosts to see what exists") from None

    def health_check(self, name: str) -> dict[str, Any]:
        """A read, but recorded: rollout policies are judged on whether checks were made."""
        s = self._svc(name)
        rate = self._release(s)["error_rate"] if s["status"] in ("running", "degraded") else 1.0
        healthy = s["status"] == "running" and rate < HEALTHY_ERROR_RATE
        self._event("health_check", name, result="healthy" if healthy else "unhealthy", error_rate=rate)
        return {"service": name, "status": s["status"], "version": s["version"],
                "error_rate": rate, "healthy": healthy}

    def start_blockers(self, name: str, *, running: bool = False) -> list[str]:
        """Why ``name`` cannot start (empty if it can); ``running`` judges the loaded config."""
        s = self._svc(name)
        rule = s["rule"]
        cfg = parse_config(s["running_config"] if running else s["config"])
        why = []
        for key, pattern in sorted(rule.get("required", {}).items()):
            if key not in cfg:
                why.append(f"missing required config key '{key}'")
            elif not re.fullmatch(pattern, cfg[key]):
                why.append(f"invalid value for '{key}': {cfg[key]!r}")
        for key, (other, other_key) in sorted(rule.get("equals", {}).items()):
            want = parse_config(self._svc(other)["config"]).get(other_key)
            if key in cfg and want is not None and cfg[key] != want:
                why.append(f"cannot reach {other} via {key}={cfg[key]} (connection refused)")
        for dep in rule.get("needs_running", []):
            if self._svc(dep)["status"] not in ("running", "degraded"):
                why.append(f"dependency {dep} is not running")
        cred = rule.get("credential")
        if cred and cfg.get(cred["key"]) not in self.credentials.get(cred["producer"], []):
            why.append(f"authentication to {cred['producer']} failed: credential in '{cred['key']}' is not accepted")
        if rule.get("files"):
            files = self._host(s["host"])["files"]
            why += [f"cannot open {p}: no such file" for p in rule["files"] if p not in files]
        if "min_free_mb" in rule and self.disk_free_mb(s["host"]) < rule["min_free_mb"]:
            why.append(f"no space left on {s['host']} (needs {rule['min_free_mb']} MB free)")
        return why

    def _release(self, s: dict[str, Any]) -> dict[str, Any]:
        return s["releases"].get(s["version"], {"error_rate": 0.0})

    # -- mutation -----------------------------------------------------------------------
    def _event(self, op: str, service: str | None, by: str = "agent", **extra: Any) -> None:
        if by == "agent":
            self.clock += 1
        self.events.append({"t": self.clock, "op": op, "service": service, "by": by, **extra})

    def _log(self, name: str, text: str) -> None:
        self.logs.setdefault(name, []).append(f"t+{self.clock:04d}m {text}")

    def _start(self, name: str) -> bool:
        s = self._svc(name)
        why = self.start_blockers(name)
        if why:
            s["status"], s["running_config"] = "failed", ""
            self._log(name, f"ERROR failed to start: {'; '.join(why)}")
            self._event("failed", name, by="system", reason="; ".join(why))
            return False
        s["running_config"] = s["config"]
        s["status"], s["degraded_by"] = "running", None
        if self._release(s)["error_rate"] >= HEALTHY_ERROR_RATE:
            s["status"], s["degraded_by"] = "degraded", "release"
        self._log(name, f"INFO started version {s['version']}")
        return True

    def restart(self, name: str) -> bool:
        s = self._svc(name)
        s["restarts"] += 1
        self._event("restart", name)
        ok = self._start(name)
        self._settle()
        return ok

    def stop(self, name: str) -> None:
        s = self._svc(name)
        self._event("stop", name)
        s["status"], s["running_config"] = "stopped", ""
        self._log(name, "INFO stopped")
        self._settle()

    def write_config(self, name: str, text: str) -> None:
        """Takes effect at the next restart, as a config file does."""
        s = self._svc(name)
        self._event("write_config", name, before=s["config"], after=text)
        s["config"] = text

    def deploy(self, name: str, version: str) -> bool:
        s = self._svc(name)
        if version not in s["releases"]:
            raise WorldError(f"no release {version!r} of {name}", f"known: {', '.join(sorted(s['releases']))}")
        self._event("deploy", name, version=version, previous=s["version"])
        if version != s["version"]:
            s["previous_versions"].append(s["version"])
            s["version"] = version
        ok = self._start(name)
        self._settle()
        return ok

    def rollback(self, name: str) -> bool:
        s = self._svc(name)
        if not s["previous_versions"]:
            raise WorldError(f"{name} has no previous version to roll back to")
        previous = s["previous_versions"].pop()
        self._event("rollback", name, version=previous, previous=s["version"])
        s["version"] = previous
        ok = self._start(name)
        self._settle()
        return ok

    def delete_file(self, host: str, path: str) -> float:
        files = self._host(host)["files"]
        if path not in files:
            raise WorldError(f"no such file on {host}: {path}")
        size = files.pop(path)
        self._event("delete_file", None, host=host, path=path, size_mb=size)
        self._settle()
        return size

    def issue_credential(self, producer: str, secret: str) -> None:
        self._svc(producer)
        self._event("issue_credential", producer)
        accepted = self.credentials.setdefault(producer, [])
        if secret not in accepted:
            accepted.append(secret)

    def revoke_credential(self, producer: str, secret: str) -> None:
        accepted = self.credentials.get(producer, [])
        if secret not in accepted:
            raise WorldError(f"{producer} does not accept that credential")
        self._event("revoke_credential", producer)
        accepted.remove(secret)
        self._settle()

    def _settle(self) -> None:
        """Let running services react to what changed under them, until nothing changes:
        a lost credential, file or disk makes them fail; a stopped dependency degrades
        them, and they recover when it returns."""
        for _ in range(len(self.services) + 1):
            changed = False
            for name in sorted(self.services):
                s = self.services[name]
                if s["status"] not in ("running", "degraded"):
                    continue
                why = self.start_blockers(name, running=True)
                hard = [w for w in why if not w.startswith("dependency ")]
                if hard:
                    s["status"], s["running_config"] = "failed", ""
                    self._log(name, f"ERROR crashed: {'; '.join(hard)}")
                    self._event("failed", name, by="system", reason="; ".join(hard))
                    changed = True
                elif why and s["status"] == "running":
                    s["status"], s["degraded_by"] = "degraded", "dependency"
                    self._log(name, f"WARN degraded: {'; '.join(why)}")
                    self._event("degraded", name, by="system", reason="; ".join(why))
                    changed = True
                elif not why and s["degraded_by"] == "dependency":
                    s["status"], s["degraded_by"] = "running", None
                    self._log(name, "INFO recovered")
                    self._event("recovered", name, by="system")
                    changed = True
            if not changed:
                return
