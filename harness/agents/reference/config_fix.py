"""Strategy for a service that fails to start on a config error: find it, read why, fix
only the broken keys, restart only it, verify.

The failed start's log line names each problem ("missing required config key 'workers'",
"cannot reach orders-db via orders-db.port=5433"); the agent repairs from what the world
shows: a missing key that sits in the file under a typo'd name is renamed back, a wrong
dependency address is replaced by what that dependency's own config says it listens on.
"""

from __future__ import annotations

import re

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps
from harness.agents.reference.toolkit_ops import config_keys, make_ops, restart_everything
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think

_MISSING = re.compile(r"missing required config key '([\w.\-]+)'")
_INVALID = re.compile(r"invalid value for '([\w.\-]+)'")
_UNREACHABLE = re.compile(r"cannot reach ([\w\-]+) via ([\w.\-]+)=")
# What an operator would put for a key nobody remembers: the service's documented defaults.
DEFAULTS = {"workers": "4", "timeout_ms": "1000", "max_connections": "100"}


@STRATEGIES.register("system_administration/config_fix")
def config_fix(brief: Brief, kit, errors: ErrorProcesses) -> Steps:
    ops = make_ops(kit, errors)
    if ops is None:
        yield GiveUp(reason="no service tools")
        return
    start = brief.public.get("service") or brief.public.get("symptom_service")
    target = yield from _find_failed(ops, errors, start)
    if target is None:
        yield GiveUp(reason=f"found no failing service below {start}")
        return
    yield Think(step=f"{target} does not start; read why and its config", evidence=(target,))
    if errors.shortcut():
        yield from restart_everything(ops)
    for _ in range(1 + errors.retries):
        ok = yield from _fix_once(ops, errors, target)
        if ok:
            yield Submit(answer={})
            return
    yield GiveUp(reason=f"{target} still fails to start after repairs")


def _find_failed(ops, errors: ErrorProcesses, start: str | None) -> Steps:
    """Walk down the dependencies from ``start`` to the first failed service."""
    frontier, seen = [start] if start else [], set()
    while frontier:
        name = frontier.pop(0)
        if name in seen:
            continue
        seen.add(name)
        st = None
        for _ in range(1 + errors.retries):
            st = yield from ops.status(name)
            if st is not None:
                break
        if st is None:
            continue
        if st["status"] == "failed":
            return name
        frontier += [d for d in st["depends_on"] or [] if d not in seen]
    return None



def _fix_once(ops, errors: ErrorProcesses, target: str) -> Steps:
    """Read the reason and the config, write a repaired config, restart; True if it runs."""
    logs = yield from ops.logs(target, 5)
    reasons = [line for line in logs or [] if "failed to start" in line]
    text = yield from ops.read_config(target)
    if not reasons or text is None:
        return False
    fixes = yield from _plan(ops, errors, target, reasons[-1], text)
    if not fixes:
        return False
    yield Think(step="repair these keys", evidence=tuple(f"{k}={v}" for k, v in fixes.items()))
    new_text = _apply(text, fixes)
    written = yield from ops.write_config(target, new_text)
    if not written:
        return False
    started = yield from ops.restart(target)
    if started.ok is None:
        st = yield from ops.status(target)
        return st is not None and st["status"] in ("running", "degraded")
    return started.ok


def _plan(ops, errors: ErrorProcesses, target: str, reason: str, text: str) -> Steps:
    """key -> new value (None: remove the line) for each problem the reason names."""
    keys = config_keys(text)
    fixes: dict[str, str | None] = {}
    for key in _MISSING.findall(reason) + _INVALID.findall(reason):
        typo = next((k for k in keys if k != key and sorted(k) == sorted(key)), None)
        if typo is not None:
            fixes[typo] = None
            fixes[key] = keys[typo]
        else:
            value = yield from _value_for(ops, target, key)
            if value is not None:
                fixes[key] = value
    for dep, key in _UNREACHABLE.findall(reason):
        dep_text = yield from ops.read_config(dep)
        dep_cfg = config_keys(dep_text or "")
        want = dep_cfg.get("listen_port" if key.endswith(".port") else "advertised_host")
        if want is not None:
            fixes[key] = _slipped(errors, want) if key.endswith(".port") else want
    return fixes


def _value_for(ops, target: str, key: str) -> Steps:
    """A value for a key that vanished: the port callers use, else the default."""
    if key != "listen_port":
        return DEFAULTS.get(key)
    for caller in (yield from ops.callers(target)) or []:
        value = config_keys((yield from ops.read_config(caller)) or "").get(f"{target}.port")
        if value is not None:
            return value
    return None


def _slipped(errors: ErrorProcesses, port: str) -> str:
    """The replica's port instead of the primary's: the wrong one of two similar values."""
    return str(int(port) + 1) if errors.slip() and port.isdigit() else port




def _apply(text: str, fixes: dict[str, str | None]) -> str:
    """Change only the named keys' lines, keeping every other line as it is."""
    out, done = [], set()
    for line in text.splitlines():
        m = re.match(r"^\s*([A-Za-z_][\w.\-]*)\s*[=:]", line)
        key = m.group(1) if m else None
        if key in fixes:
            done.add(key)
            if fixes[key] is not None:
                out.append(f"{key}={fixes[key]}")
            continue
        out.append(line)
    out += [f"{k}={v}" for k, v in fixes.items() if k not in done and v is not None]
    return "\n".join(out) + "\n"
