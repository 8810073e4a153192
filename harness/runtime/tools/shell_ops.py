"""Operations commands of the ``shell`` layer: services, heredocs, submit (remote hosts and
credentials, ``ssh`` and ``vault``, are in ``shell_hosts``).

Conventions (documented to the agent in ``SHELL_SPEC``):

* a service's config is the file ``/etc/NAME/NAME.conf``; ``cat``, ``grep``, ``sed -i``,
  ``>`` and heredoc writes reach it (a write takes effect at the next restart).

Outputs imitate systemctl, journalctl and curl closely enough to be read the
same way, including the ways they are easy to misread (``curl`` without ``-f`` exits 0 on
a 503; ``journalctl -u`` for a unit that does not exist prints ``-- No entries --``).
Every effect is one world primitive; nothing here re-implements what the world does. Each
command declares its access rule (``shell_commands.access_rule``) beside its implementation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from harness.runtime.access import Access, CommandRule, no_access, service_resource
from harness.runtime.tools.shell_commands import (
    Result,
    access_rule,
    error_text,
    norm,
    positional,
    services_or_fail,
)
from harness.runtime.tools.shell_hosts import ssh, vault
from harness.runtime.tools.shell_psql import psql
from harness.runtime.tools.shell_ticket import ticket
from harness.world import Workspace, World, WorldError

Command = Callable[[World, list[str]], Result]
StdinCommand = Callable[[World, list[str], str], Result]


# -- heredocs -------------------------------------------------------------------------------
_HEREDOC = re.compile(r"<<(-?)[ \t]*(?:'([^'\n]*)'|\"([^\"\n]*)\"|\\?([A-Za-z_]\w*))")


def _first_unquoted(text: str) -> re.Match[str] | None:
    """The first ``<<`` outside quotes. The quote state is carried from one candidate to
    the next: rescanning from the start for each was quadratic on a long line."""
    i, quote = 0, None
    for m in _HEREDOC.finditer(text):
        while i < m.start():
            ch = text[i]
            if quote is None and ch == "\\":
                i += 1
            elif quote is None and ch in "'\"":
                quote = ch
            elif ch == quote:
                quote = None
            i += 1
        if quote is None:
            return m
    return None


def split_heredoc(line: str) -> tuple[str, str] | None:
    """``cmd <<'EOF'\\nbody\\nEOF`` -> (``cmd``, ``body\\n``); None if the first line has no
    unquoted ``<<``. The body is literal (no expansion, as with a quoted delimiter). Text
    after the terminator is kept on the command, so the one-command rule refuses it; a
    missing terminator ends the body at the end of input, as bash does (with a warning)."""
    first, _, rest = line.partition("\n")
    m = _first_unquoted(first)
    if m is None:
        return None
    strip_tabs, delim = m.group(1) == "-", next(g for g in m.groups()[1:] if g is not None)
    head = (first[:m.start()] + first[m.end():]).strip()
    body: list[str] = []
    lines = rest.split("\n") if rest else []
    for i, raw in enumerate(lines):
        text = raw.lstrip("\t") if strip_tabs else raw
        if text == delim:
            after = "\n".join(lines[i + 1:]).strip()
            return (f"{head}\n{after}" if after else head), "".join(t + "\n" for t in body)
        body.append(text)
    return head, "".join(t + "\n" for t in body)


# -- service config files -----------------------------------------------------------------------
def _config_path(name: str) -> str:
    return f"etc/{name}/{name}.conf"


def with_config_files(world: World, words: list[str], execute: Callable[[World], Any]) -> Any:
    """Run ``execute`` on a world whose workspace also shows every service config as
    ``/etc/NAME/NAME.conf`` when a word names something under /etc; changed configs go back
    through ``write_config`` (a removed one becomes empty), other file changes to the
    workspace. Without such a word the real world is used as it is."""
    svcs = world.services
    keys = [norm(w) for w in words]
    if svcs is None or not any(k == "etc" or (k or "").startswith("etc/") for k in keys):
        return execute(world)
    mounted = {_config_path(n): n for n in svcs.names()}
    before_files = world.workspace.snapshot()
    before_configs = {p: svcs.read_config(n) for p, n in mounted.items()}
    scratch = World(Workspace({**before_files, **before_configs}), world.submission, world.parts, world.thread)
    outcome = execute(scratch)
    after = scratch.workspace.snapshot()
    for path, name in mounted.items():
        if after.get(path, "") != before_configs[path]:
            svcs.write_config(name, after.get(path, ""))
    for path in sorted((set(before_files) | set(after)) - set(mounted)):
        if path not in after:
            world.workspace.delete(path)
        elif before_files.get(path) != after[path]:
            world.workspace.write(path, after[path])
    world.submission = scratch.submission
    return outcome


# -- systemctl / journalctl -----------------------------------------------------------------------
_ACTIVE = {"running": ("active", "running"), "degraded": ("active", "degraded"),
           "stopped": ("inactive", "dead"), "failed": ("failed", "failed")}


def _unit(arg: str) -> str:
    return arg[: -len(".service")] if arg.endswith(".service") else arg


def _services(world: World) -> Any:
    return world.services


def systemctl(world: World, argv: list[str]) -> Result:
    words = [a for a in argv[1:] if not a.startswith("-")]
    verb, units = (words[0], [_unit(u) for u in words[1:]]) if words else ("list-units", [])
    svcs = _services(world)
    if svcs is None:
        return Result(err="System has not been booted with systemd as init system (PID 1). Can't operate.\n",
                      code=1)
    if verb in ("list-units", "list"):
        return _list_units(svcs)
    action = _SYSTEMCTL.get(verb)
    if action is None:
        return Result(err=f"Unknown command verb {verb}.\n", code=1)
    if not units:
        return Result(err="Too few arguments.\n", code=1)
    out, err, code = [], [], 0
    for name in units:
        if name not in svcs.services:
            err.append(_NOT_FOUND[verb].format(verb=verb, unit=f"{name}.service"))
            code = 4 if verb == "status" else 5
            continue
        r = action(svcs, name)
        out.append(r.out)
        err.append(r.err)
        code = code or r.code
    return Result("".join(out), "".join(err), code)


@access_rule("systemctl")
def _systemctl_access(words: list[str], stdin: str | None) -> list[Access]:
    args = [w for w in words[1:] if not w.startswith("-")]
    verb = args[0] if args else "list-units"
    action = {"status": "read", "restart": "restart", "start": "restart", "stop": "stop"}.get(verb)
    if verb in ("list-units", "list"):
        return [Access("read", "service:")]
    return [Access(action, service_resource(u)) for u in args[1:]] if action else []


_NOT_FOUND = {"status": "Unit {unit} could not be found.\n"}
_NOT_FOUND.update({v: "Failed to {verb} {unit}: Unit {unit} not found.\n" for v in ("restart", "start", "stop")})


def _list_units(svcs: Any) -> Result:
    rows = [(f"{n}.service", *_ACTIVE[svcs.status(n)["status"]], f"{n} {svcs.status(n)['version']}")
            for n in svcs.names()]
    width = max([len(r[0]) for r in rows] + [4])
    lines = [f"{'UNIT':<{width}} LOAD   ACTIVE   SUB       DESCRIPTION"]
    lines += [f"{u:<{width}} loaded {a:<8} {s:<9} {d}" for u, a, s, d in rows]
    return Result("\n".join(lines) + f"\n\n{len(rows)} loaded units listed.\n")


def _status(svcs: Any, name: str) -> Result:
    st = svcs.status(name)
    active, sub = _ACTIVE[st["status"]]
    dot = "●" if active == "active" else "×" if active == "failed" else "○"
    lines = [f"{dot} {name}.service - {name}",
             f"     Loaded: loaded (/etc/{name}/{name}.conf; enabled)",
             f"     Active: {active} ({sub})",
             f"    Version: {st['version']}  Restarts: {st['restarts']}",
             f"       Host: {st['host'] or '-'}",
             f"   Requires: {', '.join(st['depends_on']) or '-'}", ""]
    lines += svcs.tail_logs(name, 10)
    return Result("\n".join(lines) + "\n", code=0 if active == "active" else 3)


def _start_failed(name: str) -> Result:
    return Result(err=f"Job for {name}.service failed because the control process exited with error code.\n"
                      f"See \"systemctl status {name}.service\" and \"journalctl -xeu {name}.service\" for "
                      "details.\n", code=1)


def _restart(svcs: Any, name: str) -> Result:
    return Result() if svcs.restart(name) else _start_failed(name)


def _start(svcs: Any, name: str) -> Result:
    # Starting an active unit is a no-op in systemd: no restart happens.
    if svcs.status(name)["status"] in ("running", "degraded"):
        return Result()
    return _restart(svcs, name)


def _stop(svcs: Any, name: str) -> Result:
    svcs.stop(name)
    return Result()


_SYSTEMCTL: dict[str, Callable[[Any, str], Result]] = {
    "status": _status, "restart": _restart, "start": _start, "stop": _stop,
}


def journalctl(world: World, argv: list[str]) -> Result:
    opts, _ = _options(argv[1:], valued={"-u", "--unit", "-n", "--lines", "-g", "--grep"})
    unit = opts.get("-u") or opts.get("--unit")
    svcs = _services(world)
    if not unit or svcs is None:
        return Result(err="journalctl: give a unit with -u UNIT\n", code=1)
    name = _unit(unit)
    if name not in svcs.services:
        return Result("-- No entries --\n")
    n_text = opts.get("-n") or opts.get("--lines") or "0"
    if not n_text.isdigit():
        return Result(err=f"Failed to parse lines '{n_text}'.\n", code=1)
    lines = svcs.tail_logs(name, int(n_text), opts.get("-g") or opts.get("--grep"))
    return Result("".join(ln + "\n" for ln in lines) or "-- No entries --\n")


@access_rule("journalctl")
def _journalctl_access(words: list[str], stdin: str | None) -> list[Access]:
    for i, w in enumerate(words):
        if w in ("-u", "--unit") and i + 1 < len(words):
            return [Access("read", service_resource(words[i + 1]))]
        if w.startswith("--unit="):
            return [Access("read", service_resource(w.split("=", 1)[1]))]
        if w.startswith("-u") and len(w) > 2:
            return [Access("read", service_resource(w[2:]))]
    return []


def _options(args: list[str], valued: set[str]) -> tuple[dict[str, str], list[str]]:
    """(valued options, positional words): ``-x V``, ``--xx V``, ``--xx=V`` and ``-xV``; the
    last wins. Other flags are ignored, as most tools' unknown-but-harmless flags would be."""
    out: dict[str, str] = {}
    positional: list[str] = []
    it = iter(args)
    for tok in it:
        key, eq, value = tok.partition("=")
        if key in valued:
            out[key] = value if eq else next(it, "")
        elif tok[:2] in valued and len(tok) > 2 and not tok.startswith("--"):
            out[tok[:2]] = tok[2:]
        elif not tok.startswith("-"):
            positional.append(tok)
    return out, positional


# -- telemetry and health ------------------------------------------------------------------------
def _first_service(action: str) -> CommandRule:
    """The rule of a command whose first operand is the service it acts on."""
    def rule(words: list[str], stdin: str | None) -> list[Access]:
        args = positional(words)
        return [Access(action, service_resource(args[0]))] if args else []
    return rule


def metrics(world: World, argv: list[str]) -> Result:
    opts, words = _options(argv[1:], valued={"--last", "-n"})
    if len(words) != 2:
        return Result(err="usage: metrics SERVICE METRIC [--last N]\n", code=2)
    last = opts.get("--last") or opts.get("-n") or "0"
    if not last.isdigit():
        return Result(err=f"metrics: invalid --last value '{last}'\n", code=2)
    try:
        values = services_or_fail(world).query_metrics(words[0], words[1], int(last) or None)
    except WorldError as exc:
        return Result(err=f"metrics: {error_text(exc)}\n", code=1)
    start = -len(values)
    rows = [f"{start + i:>6}  {v:g}" for i, v in enumerate(values)]
    return Result("\n".join([f"{'t':>6}  {words[1]}", *rows]) + "\n")


access_rule("metrics")(_first_service("read"))


def traces(world: World, argv: list[str]) -> Result:
    words = [a for a in argv[1:] if not a.startswith("-")]
    try:
        spans = services_or_fail(world).traces(words[0] if words else None)
    except WorldError as exc:
        return Result(err=f"traces: {error_text(exc)}\n", code=1)
    return Result("".join(" ".join(f"{k}={v}" for k, v in s.items()) + "\n" for s in spans))


@access_rule("traces")
def _traces_access(words: list[str], stdin: str | None) -> list[Access]:
    args = positional(words)
    return [Access("read", service_resource(args[0] if args else ""))]  # no service: every span


def healthcheck(world: World, argv: list[str]) -> Result:
    words = [a for a in argv[1:] if not a.startswith("-")]
    if not words:
        return Result(err="usage: healthcheck SERVICE\n", code=2)
    try:
        h = services_or_fail(world).health_check(_unit(words[0]))
    except WorldError as exc:
        return Result(err=f"healthcheck: {error_text(exc)}\n", code=1)
    verdict = "healthy" if h["healthy"] else "UNHEALTHY"
    return Result(f"{h['service']}: {verdict} (status {h['status']}, version {h['version']}, "
                  f"error_rate {h['error_rate']:g})\n", code=0 if h["healthy"] else 1)


access_rule("healthcheck")(_first_service("read"))


_URL = re.compile(r"^(?:https?://)?([^/:]+)(?::\d+)?(/.*)?$")


def curl(world: World, argv: list[str]) -> Result:
    fail = any(a.startswith("-") and not a.startswith("--") and "f" in a for a in argv[1:]) or "--fail" in argv
    urls = [a for a in argv[1:] if not a.startswith("-")]
    m = _URL.match(urls[0]) if urls else None
    svcs = world.services
    if m is None:
        return Result(err="curl: (3) URL using bad/illegal format or missing URL\n", code=3)
    host, path = m.group(1).removesuffix(".internal"), m.group(2) or "/"
    if svcs is None or host not in svcs.services:
        return Result(err=f"curl: (6) Could not resolve host: {m.group(1)}\n", code=6)
    if path.rstrip("/") != "/health":
        return Result(err="curl: (22) The requested URL returned error: 404\n", code=22) if fail else \
            Result('{"error": "not found"}\n')
    h = svcs.health_check(host)
    if fail and not h["healthy"]:
        return Result(err="curl: (22) The requested URL returned error: 503\n", code=22)
    body = {"status": "ok" if h["healthy"] else "unavailable", "version": h["version"],
            "error_rate": h["error_rate"]}
    return Result(json.dumps(body) + "\n")


@access_rule("curl")
def _curl_access(words: list[str], stdin: str | None) -> list[Access]:
    urls = positional(words)
    m = re.match(r"^(?:https?://)?([^/:]+)", urls[0]) if urls else None
    return [Access("read", service_resource(m.group(1).removesuffix(".internal")))] if m else []


# -- deployments ------------------------------------------------------------------------------
def deploy(world: World, argv: list[str]) -> Result:
    words = [a for a in argv[1:] if not a.startswith("-")]
    if len(words) != 2:
        return Result(err="usage: deploy SERVICE VERSION\n", code=2)
    return _start_attempt(world, "deploy", words[0], lambda s: s.deploy(words[0], words[1]))


def rollback(world: World, argv: list[str]) -> Result:
    words = [a for a in argv[1:] if not a.startswith("-")]
    if len(words) != 1:
        return Result(err="usage: rollback SERVICE\n", code=2)
    return _start_attempt(world, "rollback", words[0], lambda s: s.rollback(words[0]))


access_rule("deploy", "rollback")(_first_service("deploy"))


def _start_attempt(world: World, prog: str, name: str, act: Callable[[Any], bool]) -> Result:
    try:
        svcs = services_or_fail(world)
        started = act(svcs)
    except WorldError as exc:
        return Result(err=f"{prog}: {error_text(exc)}\n", code=1)
    st = svcs.status(name)
    if started:
        return Result(f"{prog}: {name} is now at version {st['version']} ({st['status']})\n")
    return Result(err=f"{prog}: {name} {st['version']} failed to start: see journalctl -u {name}\n", code=1)


# -- stdin-taking commands and submit --------------------------------------------------------------
def cat_stdin(world: World, argv: list[str], stdin: str, cat: Command) -> Result:
    """``cat`` with a here-document: no file arguments (or ``-``) means copy stdin."""
    files = [a for a in argv[1:] if not (a.startswith("-") and len(a) > 1)]
    if not files or files == ["-"]:
        return Result(stdin)
    return cat(world, argv)


def submit(world: World, argv: list[str], stdin: str | None = None) -> Result:
    """``submit TEXT`` records ``{"text": TEXT}``; a TEXT that is a JSON object is the
    answer itself, so structured answers can be given (also from a here-document)."""
    text = " ".join(argv[1:]) if len(argv) > 1 or stdin is None else stdin.strip()
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    world.submit(answer if isinstance(answer, dict) else {"text": text})
    return Result("submitted\n")


access_rule("submit")(no_access)  # the answer is the episode's outcome, not a resource


COMMANDS: dict[str, Command] = {
    "systemctl": systemctl, "journalctl": journalctl, "metrics": metrics, "traces": traces,
    "healthcheck": healthcheck, "curl": curl, "deploy": deploy, "rollback": rollback, "ssh": ssh,
    "vault": vault, "psql": lambda w, argv: psql(w, argv, None), "submit": submit, "ticket": ticket,
}
STDIN_COMMANDS: dict[str, StdinCommand] = {"psql": psql, "submit": submit, "ticket": ticket}
