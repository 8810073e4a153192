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
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from harness.agents.reference.errors import ErrorProcesses, Mistake
from harness.agents.reference.toolkit import QUERY, Decision, Steps, typo_in
from harness.agents.reference.toolkit_shell import heredoc, unclosed
from harness.runtime.port import GiveUp

OPS_TOOLS = frozenset({"service_status", "read_config", "write_config", "restart_service", "tail_logs"})
# What each change decides (where a wrong target or value would land); queries decide only their form.
CONFIG = Decision(target="service", value="text", pool="service")
ON_SERVICE = Decision(target="service", pool="service")
RELEASE = Decision(target="service", value="version", pool="service")
HOST_FILE = Decision(target="path", pool="host_file")
SECRET = Decision(value="secret")


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
        self.seen_services = kit.alternatives.setdefault("service", set())
        self.seen_host_files = kit.alternatives.setdefault("host_file", set())

    def _data(self, tool: str, args: dict[str, Any], decision: Decision = QUERY) -> Steps:
        obs = yield from self.kit.call(tool, args, decision)
        return obs.data if obs is not None and obs.ok and obs.data is not None else None

    def list_services(self) -> Steps:
        data = yield from self._data("list_services", {})
        if data is None:
            return None
        found = [_status_of(s) for s in data["services"]]
        self.seen_services.update(s["service"] for s in found)
        return found

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
        data = yield from self._data("write_config", {"service": service, "text": text}, CONFIG)
        return data is not None and data.get("service", service) == service  # the result names where it went

    def restart(self, service: str) -> Steps:
        data = yield from self._data("restart_service", {"service": service}, ON_SERVICE)
        return _started(data, service)

    def logs(self, service: str, n: int = 20) -> Steps:
        data = yield from self._data("tail_logs", {"service": service, "n": n})
        return None if data is None else list(data["lines"])

    def host_files(self, host: str, prefix: str) -> Steps:
        data = yield from self._data("list_host_files", {"host": host, "prefix": prefix})
        if data is None:
            return None
        self.seen_host_files.update(f["path"] for f in data["files"])
        return [HostFile(f["path"], float(f["size_mb"])) for f in data["files"]]

    def disk_free(self, host: str) -> Steps:
        data = yield from self._data("disk_free", {"host": host})
        return None if data is None else float(data["free_mb"])

    def delete_host_file(self, host: str, path: str) -> Steps:
        data = yield from self._data("delete_host_file", {"host": host, "path": path}, HOST_FILE)
        return data is not None and data.get("path", path) == path

    def issue(self, producer: str, secret: str) -> Steps:
        data = yield from self._data("issue_credential", {"producer": producer, "secret": secret}, SECRET)
        return data is not None

    def revoke(self, producer: str, secret: str) -> Steps:
        data = yield from self._data("revoke_credential", {"producer": producer, "secret": secret}, SECRET)
        return data is not None

    # -- releases --------------------------------------------------------------------------
    def deploy(self, service: str, version: str) -> Steps:
        data = yield from self._data("deploy", {"service": service, "version": version}, RELEASE)
        return _started(data, service)

    def rollback(self, service: str) -> Steps:
        data = yield from self._data("rollback", {"service": service}, ON_SERVICE)
        return _started(data, service)

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


def restart_everything(ops: TypedOps | ShellOps) -> Steps:
    """The tempting shortcut of the service families: bounce the whole estate and hope."""
    for s in (yield from ops.list_services()) or []:
        yield from ops.restart(s["service"])


def open_incident(brief: Any, kit: Any, errors: ErrorProcesses,
                  symptom_pattern: re.Pattern[str]) -> Generator[Any, Any, tuple[Any, str] | None]:
    """How an incident-style strategy starts: the service tools, the symptomatic service
    the brief names, and the tempting shortcut first when the agent takes it; None (after a
    GiveUp) when there are no service tools or no named service."""
    ops = make_ops(kit, errors)
    symptom = brief.public.get("symptom_service") or next(iter(symptom_pattern.findall(brief.instructions)), None)
    if ops is None or symptom is None:
        yield GiveUp(reason="no service tools" if ops is None else "the brief names no symptomatic service")
        return None
    if errors.shortcut():
        yield from restart_everything(ops)
    return ops, symptom


def _started(data: dict[str, Any] | None, service: str) -> Started:
    """What a start attempt on ``service`` did, as its result says; unknown when the result
    is about another service (the call went elsewhere)."""
    if data is None or data.get("service", service) != service:
        return Started(None)
    return Started(bool(data.get("started")), str(data.get("reason", "")))


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
        self.seen_services = kit.alternatives.setdefault("service", set())
        self.seen_host_files = kit.alternatives.setdefault("host_file", set())

    def _run(self, command: str) -> Steps:
        """A looking command (its form may slip; bash refuses a broken one and it is retyped)."""
        obs = yield from self.kit.query(command)
        return obs

    def _change(self, render) -> Steps:
        """A changing command, as decided: ``render(kind)`` writes it with its mistake."""
        obs = yield from self.kit.decided(render, changes=True)
        return obs

    def _on_service(self, verb: str, service: str, *rest: str) -> Steps:
        """``verb SERVICE ...``: a wrong target is another service; broken syntax a quote left open."""
        def render(kind: Mistake | None) -> str:
            name = self.kit.wrong(service, "service") if kind is Mistake.WRONG_TARGET else service
            command = " ".join([verb, shlex.quote(name), *rest])
            return unclosed(command) if kind is Mistake.BROKEN_SYNTAX else command
        return (yield from self._change(render))

    def _lines(self, command: str) -> Steps:
        obs = yield from self._run(command)
        return self.errors.read_lines((obs.text or "") if obs is not None else "")

    def list_services(self) -> Steps:
        lines = yield from self._lines("systemctl list-units")
        rows = [m for line in lines if (m := _UNIT.match(line))]
        self.seen_services.update(m[1] for m in rows)
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
        def render(kind: Mistake | None) -> str:
            name = self.kit.wrong(service, "service") if kind is Mistake.WRONG_TARGET else service
            body = typo_in(text, self.errors) if kind is Mistake.WRONG_VALUE else text
            # broken syntax: '>>' for '>', the new lines go under the old ones
            return heredoc(f"/etc/{name}/{name}.conf", body, append=kind is Mistake.BROKEN_SYNTAX)

        obs = yield from self._change(render)
        return obs is not None and obs.ok

    def restart(self, service: str) -> Steps:
        obs = yield from self._on_service("systemctl restart", service)
        if obs is None:
            return Started(None)
        text = (obs.text or "") + (obs.error.message if obs.error is not None else "")
        return Started(False, text) if "failed" in text else Started(True if obs.ok else None)

    def logs(self, service: str, n: int = 20) -> Steps:
        lines = yield from self._lines(f"journalctl -u {shlex.quote(service)} -n {n}")
        return [line for line in lines if line != "-- No entries --"]

    def host_files(self, host: str, prefix: str) -> Steps:
        lines = yield from self._lines(f"ssh {host} ls -l {shlex.quote(prefix)}")
        found = [HostFile(m[2], float(m[1])) for line in lines if (m := _LS_LONG.match(line))]
        self.seen_host_files.update(f.path for f in found)
        return found

    def disk_free(self, host: str) -> Steps:
        lines = yield from self._lines(f"ssh {host} df")
        rows = [line.split() for line in lines if line.startswith("/dev/")]
        return float(rows[0][3]) if rows and len(rows[0]) >= 4 else None

    def delete_host_file(self, host: str, path: str) -> Steps:
        def render(kind: Mistake | None) -> str:
            where = self.kit.wrong(path, "host_file") if kind is Mistake.WRONG_TARGET else path
            command = f"ssh {host} rm {shlex.quote(where)}"
            return unclosed(command) if kind is Mistake.BROKEN_SYNTAX else command

        obs = yield from self._change(render)
        return obs is not None and obs.ok

    def issue(self, producer: str, secret: str) -> Steps:
        return (yield from self._vault("write", producer, secret))

    def revoke(self, producer: str, secret: str) -> Steps:
        return (yield from self._vault("revoke", producer, secret))

    def _vault(self, verb: str, producer: str, secret: str) -> Steps:
        def render(kind: Mistake | None) -> str:
            value = typo_in(secret, self.errors) if kind is Mistake.WRONG_VALUE else secret
            command = f"vault {verb} creds/{producer} secret={shlex.quote(value)}"
            return unclosed(command) if kind is Mistake.BROKEN_SYNTAX else command

        obs = yield from self._change(render)
        return obs is not None and obs.ok

    # -- releases --------------------------------------------------------------------------
    def deploy(self, service: str, version: str) -> Steps:
        def render(kind: Mistake | None) -> str:
            name = self.kit.wrong(service, "service") if kind is Mistake.WRONG_TARGET else service
            release = typo_in(version, self.errors) if kind is Mistake.WRONG_VALUE else version
            command = f"deploy {shlex.quote(name)} {shlex.quote(release)}"
            return unclosed(command) if kind is Mistake.BROKEN_SYNTAX else command

        obs = yield from self._change(render)
        return self._attempted(obs)

    def rollback(self, service: str) -> Steps:
        obs = yield from self._on_service("rollback", service)
        return self._attempted(obs)

    def _attempted(self, obs) -> Started:
        lines = self.errors.read_lines((obs.text or "") if obs is not None else "")
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
