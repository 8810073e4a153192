"""Typed tools over the world's services component (system administration).

Each tool is an argument model, an access rule (what a call does, to what:
``harness.runtime.access``) and a handler calling exactly one world primitive; the handler
shapes the primitive's answer as a dict and turns a ``WorldError`` into a structured
refusal. Every primitive checks its arguments before it mutates anything, so
a refusal always means the world is unchanged (``applied=False``).

A restart or deploy whose service then fails to start is *not* a refusal: it happened,
the world changed, and the result says ``started: false`` with the reason from the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field

from harness.runtime.access import (
    Access,
    AccessRule,
    credential_resource,
    host_resource,
    service_resource,
)
from harness.runtime.port import ToolAnnotations, ToolError
from harness.runtime.tools.typed_models import READ_ONLY, Args, ToolDef
from harness.world import World, WorldError

Handler = Callable[[World, Any], dict[str, Any]]


class Refused(Exception):
    """A call refused with a structured error; the world is unchanged."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.error = ToolError(code=code, message=message, field=field)


# World messages carry no code, only a prefix naming the kind: prefix -> agent-facing code.
_CODES: tuple[tuple[str, str], ...] = (
    ("no such ", "not_found"),
    ("no release ", "not_found"),
    ("unknown metric", "invalid_arguments"),
    ("query failed", "sql_error"),
    ("cannot parse sql", "sql_error"),
    ("statement failed", "sql_error"),
)


def refusal(exc: WorldError, field: str | None = None) -> Refused:
    """The structured refusal of a world error; anything unrecognised is a failed precondition
    (the world refused because of the state it is in, e.g. nothing to roll back to)."""
    msg = exc.message if exc.hint is None else f"{exc.message} ({exc.hint})"
    low = exc.message.lower()
    code = next((c for prefix, c in _CODES if low.startswith(prefix)), "precondition_failed")
    return Refused(code, msg, field)


def guarded(fn: Callable[[], Any], field: str | None = None) -> Any:
    try:
        return fn()
    except WorldError as exc:
        raise refusal(exc, field) from None


def services_of(world: World) -> Any:
    svcs = world.services
    if svcs is None:
        raise Refused("not_found", "this environment has no services")
    return svcs


# -- argument models -----------------------------------------------------------------------
class NoArgs(Args):
    pass


class ServiceArgs(Args):
    service: str = Field(min_length=1, description="Service name (see list_services).")


class WriteConfigArgs(ServiceArgs):
    text: str = Field(description="The whole new config text (key=value lines); applied at the next restart.")


class QueryMetricsArgs(ServiceArgs):
    metric: str = Field(min_length=1, description="latency_ms, error_rate, cpu, memory_mb, connections, disk_free_mb.")
    last_n: int | None = Field(None, ge=1, description="Only the last N points (default: all).")


class TailLogsArgs(ServiceArgs):
    n: int = Field(20, ge=0, description="Last N matching lines; 0 means all.")
    contains: str | None = Field(None, description="Only lines containing this text (case-insensitive).")


class TracesArgs(Args):
    service: str | None = Field(None, description="Only spans of this service (default: all spans).")


class DeployArgs(ServiceArgs):
    version: str = Field(min_length=1, description="A release of the service.")


class HostArgs(Args):
    host: str = Field(min_length=1, description="Host name (a service's status names its host).")


class ListHostFilesArgs(HostArgs):
    prefix: str = Field("", description="Only paths starting with this, e.g. /var/log/.")


class HostFileArgs(HostArgs):
    path: str = Field(min_length=1, description="Absolute path of one file on the host.")


class CredentialArgs(Args):
    producer: str = Field(min_length=1, description="The service that checks the credential (e.g. a database).")
    secret: str = Field(min_length=1, description="The credential itself (e.g. a password).")


# -- handlers ------------------------------------------------------------------------------
def _list_services(world: World, a: NoArgs) -> dict[str, Any]:
    svcs = services_of(world)
    return {"services": [svcs.status(n) for n in svcs.names()]}


def _status(world: World, a: ServiceArgs) -> dict[str, Any]:
    return guarded(lambda: services_of(world).status(a.service), "service")


def _read_config(world: World, a: ServiceArgs) -> dict[str, Any]:
    text = guarded(lambda: services_of(world).read_config(a.service), "service")
    return {"service": a.service, "text": text}


def _write_config(world: World, a: WriteConfigArgs) -> dict[str, Any]:
    guarded(lambda: services_of(world).write_config(a.service, a.text), "service")
    return {"service": a.service, "chars": len(a.text), "takes_effect": "at the next restart"}


def _query_metrics(world: World, a: QueryMetricsArgs) -> dict[str, Any]:
    svcs = services_of(world)
    guarded(lambda: svcs.status(a.service), "service")
    values = guarded(lambda: svcs.query_metrics(a.service, a.metric, a.last_n), "metric")
    return {"service": a.service, "metric": a.metric, "values": values}


def _tail_logs(world: World, a: TailLogsArgs) -> dict[str, Any]:
    lines = guarded(lambda: services_of(world).tail_logs(a.service, a.n, a.contains), "service")
    return {"service": a.service, "lines": lines}


def _traces(world: World, a: TracesArgs) -> dict[str, Any]:
    return {"spans": guarded(lambda: services_of(world).traces(a.service), "service")}


def _health_check(world: World, a: ServiceArgs) -> dict[str, Any]:
    return guarded(lambda: services_of(world).health_check(a.service), "service")


def _outcome(world: World, service: str, started: bool) -> dict[str, Any]:
    """What a start attempt left behind; a failed start names its reason from the log."""
    svcs = services_of(world)
    out = {**svcs.status(service), "started": started}
    if not started:
        out["reason"] = (svcs.tail_logs(service, 1) or [""])[0]
    return out


def _restart(world: World, a: ServiceArgs) -> dict[str, Any]:
    started = guarded(lambda: services_of(world).restart(a.service), "service")
    return _outcome(world, a.service, started)


def _stop(world: World, a: ServiceArgs) -> dict[str, Any]:
    guarded(lambda: services_of(world).stop(a.service), "service")
    return services_of(world).status(a.service)


def _deploy(world: World, a: DeployArgs) -> dict[str, Any]:
    svcs = services_of(world)
    guarded(lambda: svcs.status(a.service), "service")
    started = guarded(lambda: svcs.deploy(a.service, a.version), "version")
    return _outcome(world, a.service, started)


def _rollback(world: World, a: ServiceArgs) -> dict[str, Any]:
    started = guarded(lambda: services_of(world).rollback(a.service), "service")
    return _outcome(world, a.service, started)


def _list_host_files(world: World, a: ListHostFilesArgs) -> dict[str, Any]:
    files = guarded(lambda: services_of(world).list_files(a.host, a.prefix), "host")
    return {"host": a.host, "files": files}


def _disk_free(world: World, a: HostArgs) -> dict[str, Any]:
    free = guarded(lambda: services_of(world).disk_free_mb(a.host), "host")
    return {"host": a.host, "free_mb": free}


def _delete_host_file(world: World, a: HostFileArgs) -> dict[str, Any]:
    svcs = services_of(world)
    guarded(lambda: svcs.disk_free_mb(a.host), "host")
    size = guarded(lambda: svcs.delete_file(a.host, a.path), "path")
    return {"host": a.host, "path": a.path, "freed_mb": size, "free_mb": svcs.disk_free_mb(a.host)}


def _issue(world: World, a: CredentialArgs) -> dict[str, Any]:
    guarded(lambda: services_of(world).issue_credential(a.producer, a.secret), "producer")
    return {"producer": a.producer, "accepted": True}


def _revoke(world: World, a: CredentialArgs) -> dict[str, Any]:
    svcs = services_of(world)
    guarded(lambda: svcs.status(a.producer), "producer")
    guarded(lambda: svcs.revoke_credential(a.producer, a.secret), "secret")
    return {"producer": a.producer, "revoked": True}


# -- access rules --------------------------------------------------------------------------
def _service(action: str) -> AccessRule:
    return lambda a: [Access(action, service_resource(a.get("service")))]


def _host(action: str, path_key: str | None = None) -> AccessRule:
    if path_key is None:
        return lambda a: [Access(action, host_resource(a.get("host")))]
    return lambda a: [Access(action, host_resource(a.get("host"), a.get(path_key)))]


def _credential(action: str) -> AccessRule:
    return lambda a: [Access(action, credential_resource(a.get("producer"), a.get("secret")))]


def _every_service(a: dict[str, Any]) -> list[Access]:
    return [Access("read", "service:")]


# -- the registry ------------------------------------------------------------------------
_WRITE = ToolAnnotations()
_IDEMPOTENT = ToolAnnotations(idempotent=True)
_DESTRUCTIVE = ToolAnnotations(destructive=True)

# (name, description, arguments, annotations, handler, access rule)
_TOOLS: tuple[tuple[str, str, type[Args], ToolAnnotations, Handler, AccessRule], ...] = (
    ("list_services", "Every service with its status. Returns {services:[{service, status, version, restarts, "
     "host, depends_on}]}.", NoArgs, READ_ONLY, _list_services, _every_service),
    ("service_status", "One service. Returns {service, status, version, restarts, host, depends_on}.",
     ServiceArgs, READ_ONLY, _status, _service("read")),
    ("read_config", "A service's config file. Returns {service, text}.", ServiceArgs, READ_ONLY, _read_config,
     _service("read")),
    ("write_config", "Replace a service's whole config (takes effect at the next restart). "
     "Returns {service, chars, takes_effect}.", WriteConfigArgs, ToolAnnotations(destructive=True, idempotent=True),
     _write_config, _service("write")),
    ("query_metrics", "A metric's time series, oldest first. Returns {service, metric, values}.",
     QueryMetricsArgs, READ_ONLY, _query_metrics, _service("read")),
    ("tail_logs", "The last log lines of a service. Returns {service, lines}.", TailLogsArgs, READ_ONLY, _tail_logs,
     _service("read")),
    ("get_traces", "Trace spans (trace_id, span_id, parent, service, minute, duration...). Returns {spans}.",
     TracesArgs, READ_ONLY, _traces, _service("read")),
    # Recorded by the world (rollout policies are judged on checks made), but changes no service.
    ("health_check", "Probe a service. Returns {service, status, version, error_rate, healthy}.",
     ServiceArgs, READ_ONLY, _health_check, _service("read")),
    ("restart_service", "Restart (or start) a service with its current config. "
     "Returns its status plus {started, reason if not started}.", ServiceArgs, _WRITE, _restart, _service("restart")),
    ("stop_service", "Stop a service (its callers degrade). Returns its status.", ServiceArgs, _DESTRUCTIVE, _stop,
     _service("stop")),
    ("deploy", "Deploy a release of a service and start it. Returns its status plus {started, reason}.",
     DeployArgs, _WRITE, _deploy, _service("deploy")),
    ("rollback", "Return a service to the version before its last deploy. Returns its status plus "
     "{started, reason}.", ServiceArgs, _WRITE, _rollback, _service("deploy")),
    ("list_host_files", "Files on a host with sizes. Returns {host, files:[{path, size_mb}]}.",
     ListHostFilesArgs, READ_ONLY, _list_host_files, _host("read", "prefix")),
    ("disk_free", "Free disk space of a host. Returns {host, free_mb}.", HostArgs, READ_ONLY, _disk_free,
     _host("read")),
    ("delete_host_file", "Delete one file on a host (irreversible). Returns {host, path, freed_mb, free_mb}.",
     HostFileArgs, _DESTRUCTIVE, _delete_host_file, _host("delete", "path")),
    ("issue_credential", "Make a producer accept a new credential (the old ones stay valid). "
     "Returns {producer, accepted}.", CredentialArgs, _IDEMPOTENT, _issue, _credential("issue")),
    ("revoke_credential", "Make a producer stop accepting a credential; services still using it fail. "
     "Returns {producer, revoked}.", CredentialArgs, _DESTRUCTIVE, _revoke, _credential("revoke")),
)

OPS_TOOL_DEFS: tuple[ToolDef, ...] = tuple(
    ToolDef(name=n, description=d, args=m, annotations=ann, access=acc) for n, d, m, ann, _, acc in _TOOLS
)
OPS_HANDLERS: dict[str, Handler] = {n: h for n, _, _, _, h, _ in _TOOLS}
