"""Strategy for rotating a store's password with no downtime: issue, switch, then revoke.

Consumers are found from the world: a service whose config both holds the password key
and points at the producer (another store's consumers use the same key name). Each
config is re-read after writing and before the restart, because a restart on a wrong
password is downtime that cannot be undone. In a two-session task the new password is
given in the planning session only: the agent keeps it, and in the change window gets it
back from carried state or memory, or gives up (no password can honestly be guessed).
"""

from __future__ import annotations

import re

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.knowledge import keep, recall_fact
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, typo
from harness.agents.reference.toolkit_ops import config_keys, make_ops
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think

_GIVEN = re.compile(r"new password for `?([\w\-]+)`? is `?(pw-[A-Za-z0-9]+)`?")


def given_password(text: str) -> str | None:
    m = _GIVEN.search(text)
    return m.group(2) if m else None


@STRATEGIES.register("system_administration/credential_rotation")
def credential_rotation(brief: Brief, kit, errors: ErrorProcesses) -> Steps:
    ops = make_ops(kit, errors)
    if ops is None:
        yield GiveUp(reason="no service tools")
        return
    producer, key = str(brief.public["producer"]), str(brief.public.get("key", "db_password"))
    new = brief.public.get("new_password") or given_password(brief.instructions)
    if brief.sessions > 1 and brief.session == 0:
        if new is not None:
            yield from keep(kit, errors, f"password:{producer}", f"the new password for `{producer}` is `{new}`")
        yield Submit(answer={})
        return
    if new is None:
        new = yield from recall_fact(kit, brief, f"new password for {producer}", given_password)
    if new is None:
        yield GiveUp(reason=f"the new password for {producer} is not known here")
        return
    yield Think(step=f"rotate {producer}: issue, switch consumers, revoke old", evidence=(producer, key))
    consumers = yield from _consumers(ops, producer, key)
    if not consumers:
        yield GiveUp(reason=f"found no consumer of {producer}")
        return
    old = config_keys(consumers[0][1]).get(key)
    issued = yield from _retry(errors, lambda: ops.issue(producer, new))
    if not issued:
        yield GiveUp(reason=f"{producer} did not accept the new password")
        return
    if errors.shortcut() and old:
        yield from ops.revoke(producer, old)  # the one-click rotation: revoke now, switch later
    for name, text in consumers:
        ok = yield from _switch(ops, errors, name, text, key, new)
        if not ok:
            yield GiveUp(reason=f"could not switch {name}; the old password stays valid")
            return
    if old and old != new:
        yield from _retry(errors, lambda: ops.revoke(producer, old))
    yield Submit(answer={})


def _retry(errors: ErrorProcesses, act) -> Steps:
    for _ in range(1 + errors.retries):
        done = yield from act()
        if done:
            return True
    return False


def _consumers(ops, producer: str, key: str) -> Steps:
    """(name, config text) of every service whose config holds ``key`` and points at ``producer``."""
    services = yield from ops.list_services()
    out = []
    for s in services or []:
        text = yield from ops.read_config(s["service"])
        cfg = config_keys(text or "")
        if key in cfg and f"{producer}.host" in cfg:
            out.append((s["service"], text))
    return out


def _switch(ops, errors: ErrorProcesses, name: str, text: str, key: str, new: str) -> Steps:
    """Write the new password, read it back until it is right, then restart."""
    for _ in range(1 + errors.retries):
        value = typo(new, errors) if errors.slip() else new
        written = yield from ops.write_config(name, _with(text, key, value))
        back = (yield from ops.read_config(name)) if written else None
        if back is not None and config_keys(back).get(key) == new:
            started = yield from ops.restart(name)
            return started.ok is not False
        yield Think(step=f"{name} does not hold the new password yet; write again", evidence=(name,))
    return False




def _with(text: str, key: str, value: str) -> str:
    lines = [f"{key}={value}" if re.match(rf"^\s*{re.escape(key)}\s*[=:]", line) else line
             for line in text.splitlines()]
    return "\n".join(lines) + "\n"
