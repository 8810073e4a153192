"""Operations on services, hosts and credentials, through whichever tools the agent holds.

Two small classes with one interface: ``TypedOps`` calls the typed tools (data back,
refusals as codes), ``ShellOps`` types systemctl/journalctl/ssh/vault commands and reads
their text through the misread process. Every query returns None when the lookup itself
failed (or, in text, when the line that answers it was overlooked), so a strategy can
tell "unknown" from "empty". Chosen by looking at the tool list, never at a condition.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.toolkit import Steps
from harness.agents.reference.toolkit_shell import heredoc

OPS_TOOLS = frozenset({"service_status", "read_config", "write_config", "restart_service", "tail_logs"})


_CONFIG_LINE = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*[=:]\s*(.*)$")


def config_keys(text: str) -> dict[str, str]:
    """A service config as key -> value (``key = value`` or ``key: value``; ``#`` comments)."""
    out = {}
    for line in text.splitlines():
        m = _CONFIG_LINE.match(line.split("#", 1)[0])
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


@dataclass(frozen=True)
class Started:
    """What a restart is known to have done: ``ok`` None when the output did not say."""

    ok: bool | None
    reason: str = ""


@dataclass(frozen=True)
class HostFile:
    path: str
    size_mb: float


def make_ops(kit: Any, errors: ErrorProcesses) -> TypedOps | ShellOps | None:
    names = frozenset(getattr(kit, "tool_names", frozenset()))
    if names >= OPS_TOOLS:
        return TypedOps(kit, errors)
    if "shell" in names:
        return ShellOps(kit, errors)
    return None


class TypedOps:
    def __init__(self, kit: Any, errors: ErrorProcesses):
        self.kit, self.errors = kit, errors

    def _data(self, tool: str, args: dict[str, Any]) -> Steps:
        obs = yield from self.kit.call(tool, args)
        return obs.data if obs is not None and obs.ok and obs.data is not None else None

    def list_services(self) -> Steps:
        data = yield from self._data("list_services", {})
        return None if data is None else [_status_of(s) for s in data["services"]]

    def callers(self, service: str) -> Steps:
        """Services whose config points at ``service`` (they depend on it)."""
        found = yield from self.list_services()
        return None if found is None else sorted(s["service"] for s in found if service in s["depends_on"])

    def status(self, service: str) -> Steps:
        data = yield from self._data("service_status", {"service": service})
        return None if data is None else _status_of(data)

    def read_config(self, service: str) -> Steps:
        data = yield from self._data("read_config", {"service": service})
        return None if data is None else str(data["text"])

    def write_config(self, service: str, text: str) -> Steps:
        data = yield from self._data("write_config", {"service": service, "text": text})
        return data is not None

    def restart(self, service: str) -> Steps:
        data = yield from self._data("restart_service", {"service": service})
        if data is None:
            return Started(None)
        return Started(bool(data.get("started")), str(data.get("reason", "")))

    def logs(self, service: str, n: int = 20) -> Steps:
        data = yield from self._data("tail_logs", {"service": service, "n": n})
        return None if data is None else list(data["lines"])

    def host_files(self, host: str, prefix: str) -> Steps:
        data = yield from self._data("list_host_files", {"host": host, "prefix": prefix})
        return None if data is None else [HostFile(f["path"], float(f["size_mb"])) for f in data["files"]]

    def disk_free(self, host: str) -> Steps:
        data = yield from self._data("disk_free", {"host": host})
        return None if data is None else float(data["free_mb"])

    def delete_host_file(self, host: str, path: str) -> Steps:
        data = yield from self._data("delete_host_file", {"host": host, "path": path})
        return data is not None

    def issue(self, producer: str, secret: str) -> Steps:
        data = yield from self._data("issue_credential", {"producer": producer, "secret": secret})
        return data is not None

    def revoke(self, producer: str, secret: str) -> Steps:
        data = yield from self._data("revoke_credential", {"producer": producer, "secret": secret})
        return data is not None

    # -- releases --------------------------------------------------------------------------
    def deploy(self, service: str, version: str) -> Steps:
        data = yield from self._data("deploy", {"service": service, "version": version})
        return Started(None) if data is None else Started(bool(data.get("started")), str(data.get("reason", "")))

    def rollback(self, service: str) -> Steps:
        data = yield from self._data("rollback", {"service": service})
        return Started(None) if data is None else Started(bool(data.get("started")), str(data.get("reason", "")))

    def health(self, service: str) -> Steps:
        """{version, error_rate, healthy} or None."""
        data = yield from self._data("health_check", {"service": service})
        if data is None:
            return None
        return {"version": str(data["version"]), "error_rate": float(data["error_rate"]), "healthy": bool(data["healthy"])}

    # -- telemetry (incident diagnosis) -----------------------------------------------------
    def metric(self, service: str, metric: str) -> Steps:
        """A metric's series, oldest first, or None."""
        data = yield from self._data("query_metrics", {"service": service, "metric": metric})
        return None if data is None else [float(v) for v in data["values"]]


def _status_of(d: dict[str, Any]) -> dict[str, Any]:
    return {"service": d["service"], "status": d["status"], "host": d.get("host"),
            "depends_on": list(d.get("depends_on") or [])}


_UNIT = re.compile(r"^(\S+)\.service\s+loaded\s+\S+\s+(\S+)")
_SUB = {"running": "running", "degraded": "degraded", "dead": "stopped", "failed": "failed"}
_HEALTH = re.compile(r": (?P<verdict>healthy|UNHEALTHY) \(status \w+, version (?P<version>\S+), "
                     r"error_rate (?P<rate>[\d.eE+\-]+)\)")
_LS_LONG = re.compile(r"^\s*([\d.]+)M\s+(\S+)$")
_METRIC_ROW = re.compile(r"^\s*-?\d+\s+(-?[\d.]+(?:e[+\-]?\d+)?)\s*$")


class ShellOps:
    def __init__(self, kit: Any, errors: ErrorProcesses):
        self.kit, self.errors = kit, errors

    def _run(self, command: str) -> Steps:
        obs = yield from self.kit.sh(command)
        return obs

    def _lines(self, command: str) -> Steps:
        obs = yield from self._run(command)
        return self.errors.read_lines((obs.text or "") if obs is not None else "")

    def list_services(self) -> Steps:
        lines = yield from self._lines("systemctl list-units")
        rows = [m for line in lines if (m := _UNIT.match(line))]
        return [{"service": m[1], "status": _SUB.get(m[2], m[2]), "host": None, "depends_on": []} for m in rows] or None

    def status(self, service: str) -> Steps:
        lines = yield from self._lines(f"systemctl status {shlex.quote(service)}")
        fields = {k.strip(): v.strip() for line in lines if ":" in line and not line.startswith("t")
                  for k, v in [line.split(":", 1)]}
        active = re.match(r"\S+ \((\w+)\)", fields.get("Active", ""))
        if active is None:
            return None  # the line that says it was overlooked: unknown
        requires = fields.get("Requires")
        deps = None if requires is None else [d.strip() for d in requires.split(",") if d.strip() not in ("", "-")]
        host = fields.get("Host")
        return {"service": service, "status": _SUB.get(active[1], active[1]),
                "host": None if host in (None, "-") else host, "depends_on": deps}

    def callers(self, service: str) -> Steps:
        """Services whose config points at ``service``: grep the config files for its host key."""
        lines = yield from self._lines(f"grep -rl {shlex.quote(service + '.host')} /etc/")
        paths = [line.strip() for line in lines if line.strip().endswith(".conf")]
        return sorted({p.rstrip("/").split("/")[-1].removesuffix(".conf") for p in paths})

    def read_config(self, service: str) -> Steps:
        # A config file is read whole and carefully: misreading acts on skimmed output.
        obs = yield from self._run(f"cat /etc/{service}/{service}.conf")
        return obs.text if obs is not None and obs.ok else None

    def write_config(self, service: str, text: str) -> Steps:
        obs = yield from self._run(heredoc(f"/etc/{service}/{service}.conf", text))
        return obs is not None and obs.ok

    def restart(self, service: str) -> Steps:
        obs = yield from self._run(f"systemctl restart {shlex.quote(service)}")
        if obs is None:
            return Started(None)
        text = (obs.text or "") + (obs.error.message if obs.error is not None else "")
        return Started(False, text) if "failed" in text else Started(True if obs.ok else None)

    def logs(self, service: str, n: int = 20) -> Steps:
        lines = yield from self._lines(f"journalctl -u {shlex.quote(service)} -n {n}")
        return [line for line in lines if line != "-- No entries --"]

    def host_files(self, host: str, prefix: str) -> Steps:
        lines = yield from self._lines(f"ssh {host} ls -l {shlex.quote(prefix)}")
        return [HostFile(m[2], float(m[1])) for line in lines if (m := _LS_LONG.match(line))]

    def disk_free(self, host: str) -> Steps:
        lines = yield from self._lines(f"ssh {host} df")
        rows = [line.split() for line in lines if line.startswith("/dev/")]
        return float(rows[0][3]) if rows and len(rows[0]) >= 4 else None

    def delete_host_file(self, host: str, path: str) -> Steps:
        obs = yield from self._run(f"ssh {host} rm {shlex.quote(path)}")
        return obs is not None and obs.ok

    def issue(self, producer: str, secret: str) -> Steps:
        obs = yield from self._run(f"vault write creds/{producer} secret={shlex.quote(secret)}")
        return obs is not None and obs.ok

    def revoke(self, producer: str, secret: str) -> Steps:
        obs = yield from self._run(f"vault revoke creds/{producer} secret={shlex.quote(secret)}")
        return obs is not None and obs.ok

    # -- releases --------------------------------------------------------------------------
    def deploy(self, service: str, version: str) -> Steps:
        return (yield from self._attempt(f"deploy {shlex.quote(service)} {shlex.quote(version)}"))

    def rollback(self, service: str) -> Steps:
        return (yield from self._attempt(f"rollback {shlex.quote(service)}"))

    def _attempt(self, command: str) -> Steps:
        lines = yield from self._lines(command)
        if any("failed to start" in line for line in lines):
            return Started(False, " ".join(lines))
        return Started(True) if any("is now at version" in line for line in lines) else Started(None)

    def health(self, service: str) -> Steps:
        lines = yield from self._lines(f"healthcheck {shlex.quote(service)}")
        m = next((m for line in lines if (m := _HEALTH.search(line))), None)
        if m is None:
            return None
        return {"version": m["version"], "error_rate": float(m["rate"]), "healthy": m["verdict"] == "healthy"}

    # -- telemetry (incident diagnosis) -----------------------------------------------------
    def metric(self, service: str, metric: str) -> Steps:
        """The rows of ``metrics SERVICE METRIC`` that were read, oldest first, or None."""
        lines = yield from self._lines(f"metrics {shlex.quote(service)} {shlex.quote(metric)}")
        values = [float(m[1]) for line in lines if (m := _METRIC_ROW.match(line))]
        return values or None
