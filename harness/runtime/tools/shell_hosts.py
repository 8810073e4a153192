"""Remote hosts and credentials for the ``shell`` layer (documented to the agent in ``SHELL_SPEC``):

* remote hosts are reached as ``ssh HOST ls [-l] [PATH]``, ``ssh HOST df``, ``ssh HOST rm [-rf] PATH``;
* credentials: ``vault write creds/PRODUCER secret=S`` / ``vault revoke creds/PRODUCER secret=S``.

Outputs imitate ssh, ls, df, rm and vault closely enough to be read the same way. Every
effect is one world primitive; each command's access rule is declared beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.runtime.access import Access, credential_resource, host_resource
from harness.runtime.tools.shell_commands import (
    Result,
    access_rule,
    error_text,
    positional,
    services_or_fail,
)
from harness.world import World, WorldError


# -- ssh ---------------------------------------------------------------------------------
def ssh(world: World, argv: list[str]) -> Result:
    words = argv[1:]
    while words and words[0].startswith("-"):
        words = words[1:]  # ssh options (-o ..., -t) are ignored
    if not words:
        return Result(err="usage: ssh HOST COMMAND [ARGS...]\n", code=255)
    host, remote = words[0].split("@")[-1], words[1:]
    svcs = world.services
    if svcs is None or host not in svcs.hosts:
        return Result(err=f"ssh: Could not resolve hostname {host}: Name or service not known\n", code=255)
    if not remote:
        return Result(err="ssh: interactive sessions are not available; give a command\n", code=255)
    run = _REMOTE.get(remote[0])
    if run is None:
        return Result(err=f"bash: {remote[0]}: command not found\n", code=127)
    return run(svcs, host, remote)


def _remote_ls(svcs: Any, host: str, argv: list[str]) -> Result:
    long = any(a.startswith("-") and "l" in a for a in argv[1:])
    out, err = [], []
    for arg in [a for a in argv[1:] if not a.startswith("-")] or ["/"]:
        files = [f for f in svcs.list_files(host, arg) if f["path"] == arg or arg.endswith("/")
                 or f["path"].startswith(arg + "/")]
        if not files:
            err.append(f"ls: cannot access '{arg}': No such file or directory\n")
        out += [f"{f['size_mb']:>10.1f}M {f['path']}\n" if long else f"{f['path']}\n" for f in files]
    return Result("".join(out), "".join(err), 2 if err else 0)


def _remote_df(svcs: Any, host: str, argv: list[str]) -> Result:
    free = svcs.disk_free_mb(host)
    size = svcs.hosts[host]["capacity_mb"]
    used = size - free
    pct = f"{round(100 * used / size) if size else 0}%"
    return Result("Filesystem     1M-blocks     Used    Avail Use% Mounted on\n"
                  f"/dev/sda1      {size:>9.0f} {used:>8.0f} {free:>8.0f} {pct:>4} /\n")


def _remote_rm(svcs: Any, host: str, argv: list[str]) -> Result:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    recursive, force = bool(set(flags) & {"r", "R"}), "f" in flags
    err = []
    for arg in (a for a in argv[1:] if not a.startswith("-")):
        below = [f["path"] for f in svcs.list_files(host, arg.rstrip("/") + "/")]
        if any(f["path"] == arg for f in svcs.list_files(host, arg)):
            svcs.delete_file(host, arg)
        elif below and not recursive:
            err.append(f"rm: cannot remove '{arg}': Is a directory\n")
        elif below:
            for path in below:
                svcs.delete_file(host, path)
        elif not force:
            err.append(f"rm: cannot remove '{arg}': No such file or directory\n")
    return Result("", "".join(err), 1 if err else 0)


_REMOTE: dict[str, Callable[[Any, str, list[str]], Result]] = {"ls": _remote_ls, "df": _remote_df, "rm": _remote_rm}


@access_rule("ssh")
def _ssh_access(words: list[str], stdin: str | None) -> list[Access]:
    args = words[1:]
    while args and args[0].startswith("-"):
        args = args[1:]
    if len(args) < 2:
        return []
    host, cmd, rest = args[0].split("@")[-1], args[1], [w for w in args[2:] if not w.startswith("-")]
    if cmd == "ls":
        return [Access("read", host_resource(host, p)) for p in rest or ["/"]]
    if cmd == "df":
        return [Access("read", host_resource(host))]
    if cmd == "rm":
        return [Access("delete", host_resource(host, p)) for p in rest]
    return []


# -- credentials ----------------------------------------------------------------------------------
def vault(world: World, argv: list[str]) -> Result:
    words = [a for a in argv[1:] if not a.startswith("-")]
    verb = words[0] if words else ""
    fields = dict(w.split("=", 1) for w in words[2:] if "=" in w)
    if verb not in ("write", "revoke") or len(words) < 2 or not fields.get("secret"):
        return Result(err="usage: vault write|revoke creds/PRODUCER secret=SECRET\n", code=2)
    producer = words[1].removeprefix("creds/")
    try:
        svcs = services_or_fail(world)
        if verb == "write":
            svcs.issue_credential(producer, fields["secret"])
            return Result(f"Success! Data written to: creds/{producer}\n")
        svcs.revoke_credential(producer, fields["secret"])
        return Result(f"Success! Revoked credential for creds/{producer}\n")
    except WorldError as exc:
        return Result(err=f"Error {'writing' if verb == 'write' else 'revoking'} creds/{producer}: "
                          f"{error_text(exc)}\n", code=2)


@access_rule("vault")
def _vault_access(words: list[str], stdin: str | None) -> list[Access]:
    args = positional(words)
    fields = dict(w.split("=", 1) for w in args[2:] if "=" in w)
    action = {"write": "issue", "revoke": "revoke"}.get(args[0] if args else "")
    if not action or len(args) < 2:
        return []
    return [Access(action, credential_resource(args[1], fields.get("secret", "")))]
