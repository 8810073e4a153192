"""The human-oriented tool layer: one free-text ``shell`` command, text in, text out.

The command line is split by ``cmdline.split`` (shlex's POSIX rules, in linear time),
which is what makes this layer lenient in the realistic way: an unquoted backslash
vanishes, so ``s/\\bFoo\\b/Bar/g`` typed without quotes silently becomes the pattern
``bFoob``. Errors are text, as in a terminal; the exit code shows up only as
``Observation.ok``. One simple command per call (no pipes, lists or substitutions);
stdout may be redirected to a file with ``>``/``>>``.

``applied`` is False only when no command ran at all (a line bash would refuse, an
unknown command, a line over ``max_command_chars``); everything else ran, whatever it
printed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.runtime.port import Observation, ToolSpec
from harness.runtime.tools import cmdline
from harness.runtime.tools import shell_commands as cmd
from harness.runtime.tools import shell_ops as ops
from harness.runtime.tools.base import TOOL_LAYERS, ToolCosts
from harness.runtime.tools.shell_commands import Result
from harness.runtime.tools.shell_sed import sed
from harness.world import World

SHELL_SPEC = ToolSpec(
    name="shell",
    description=(
        "Run one shell command in the repository (no pipes). Available: ls [PATH], "
        "cat PATH..., grep [-rnlwEFic] PATTERN [PATH...], sed [-i] [-E] 's/PAT/REP/FLAGS' PATH..., "
        "python -m pytest PATH, python PATH, echo TEXT > PATH, rm PATH, "
        "cat > PATH <<'EOF' (lines, then EOF) to write a multi-line file, "
        "submit TEXT or submit '{JSON object}' (also from <<'EOF'). "
        "Services: systemctl list-units | status|restart|start|stop NAME, journalctl -u NAME [-n N] [--grep TEXT], "
        "config file /etc/NAME/NAME.conf (cat, grep, sed -i, >, heredoc; applied at restart), "
        "metrics NAME METRIC [--last N], traces [NAME], healthcheck NAME, curl -s http://NAME/health, "
        "deploy NAME VERSION, rollback NAME. Hosts: ssh HOST ls [-l] [PATH], ssh HOST df, ssh HOST rm [-rf] PATH. "
        "Credentials: vault write creds/PRODUCER secret=S, vault revoke creds/PRODUCER secret=S. "
        "Tables: psql -c 'SQL', psql -c '\\dt', psql -c '\\d TABLE', psql <<'EOF' (script). "
        "The task's ticket (kept across sessions): ticket show [--grep TEXT], ticket comment TEXT, "
        "ticket comment <<'EOF'."
    ),
    parameters={
        "type": "object",
        "properties": {"command": {"type": "string"}},
        "required": ["command"],
    },
)

_REDIRECT = re.compile(r"^(\d?)(>>?)(&\d)?(.*)$")


class ShellLimits(BaseModel):
    """What one command may be, so that no line an agent sends can stall the harness."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # No published source: a guard against abuse, not a property of any real shell (Linux's
    # ARG_MAX is commonly 2 MB). 100,000 is ~14x the longest command a W500 or S12 gold
    # solution sends (a 7 kB file through a heredoc), and is parsed in tens of milliseconds.
    max_command_chars: int = Field(100_000, ge=1)


class ShellToolOptions(ToolCosts, ShellLimits):
    """Everything ``layers.tools.config`` may say to the shell layer: costs and limits."""


@TOOL_LAYERS.register("shell", options=ShellToolOptions)
class ShellTools:
    """A small POSIX-like shell over the world. Stateless (no working directory)."""

    def __init__(self, options: ShellToolOptions | None = None):
        costs = options or ShellToolOptions()
        self.limits: ShellLimits = costs
        self.minutes_per_call = costs.minutes_per_call
        self.minutes_per_test_run = costs.minutes_per_test_run
        self.test_timeout_s = costs.test_timeout_s
        timeout = self.test_timeout_s
        self._commands: dict[str, Callable[[World, list[str]], Result]] = {
            "ls": cmd.ls,
            "cat": cmd.cat,
            "grep": cmd.grep,
            "sed": sed,
            "rm": cmd.rm,
            "echo": cmd.echo,
            "submit": cmd.submit,
            "pytest": lambda w, argv: cmd.pytest(w, argv[1:], timeout, costs.test_runner),
            "python": lambda w, argv: cmd.python(w, argv, timeout, costs.test_runner),
            "python3": lambda w, argv: cmd.python(w, argv, timeout, costs.test_runner),
            **ops.COMMANDS,
        }
        self._stdin_commands: dict[str, ops.StdinCommand] = {
            **ops.STDIN_COMMANDS,
            "cat": lambda w, argv, stdin: ops.cat_stdin(w, argv, stdin, cmd.cat),
        }

    # -- ToolLayer --------------------------------------------------------------------
    def specs(self) -> list[ToolSpec]:
        return [SHELL_SPEC]

    def call(self, world: World, tool: str, args: dict[str, Any]) -> Observation:
        if tool != "shell":
            return Observation(
                tool=tool, ok=False, text=f"unknown tool {tool!r}; the only tool is 'shell'", applied=False,
                minutes=self.minutes_per_call
            )
        command = args.get("command") if isinstance(args, dict) else None
        if not isinstance(command, str):
            return Observation(tool="shell", ok=False, text="bash: no command given\n", applied=False,
                               minutes=self.minutes_per_call)
        result, ran = self.run(world, command)
        minutes = self.minutes_per_test_run if result.tests_ran else self.minutes_per_call
        return Observation(tool="shell", ok=result.code == 0, text=result.out + result.err, applied=ran,
                           minutes=minutes)

    def cost_minutes(self, tool: str, observation: Observation) -> float:
        return observation.minutes if tool == "shell" else self.minutes_per_call

    def precheck(self, tool: str, args: dict[str, Any]) -> Observation | None:
        """The refusal of a command over the size limit, before anyone parses it (the
        session asks first, so no access list or policy judgement is built for it)."""
        command = args.get("command") if isinstance(args, dict) else None
        if tool != "shell" or not isinstance(command, str) or len(command) <= self.limits.max_command_chars:
            return None
        result, _ = self.run(None, command)  # type: ignore[arg-type] - refused before the world is read
        return Observation(tool="shell", ok=False, text=result.out + result.err, applied=False,
                           minutes=self.minutes_per_call)

    # -- the shell ----------------------------------------------------------------------
    def run(self, world: World, line: str) -> tuple[Result, bool]:
        """Execute one command line: (result, whether a command ran)."""
        limit = self.limits.max_command_chars
        if len(line) > limit:
            return Result(err=f"bash: command refused: {len(line):,} characters, the limit is {limit:,}\n",
                          code=2), False
        line = line.strip()
        line, stdin = ops.split_heredoc(line) or (line, None)
        operator = _unquoted_operator(line)
        if operator:
            return Result(
                err=f"bash: '{operator}' is not available: this shell runs one simple command "
                "per call (no pipes, lists, background jobs or substitutions)\n",
                code=2,
            ), False
        try:
            argv = cmdline.split(line)
        except ValueError:
            return Result(err="bash: unexpected EOF while looking for matching quote\n", code=2), False
        # splitting drops the quotes, so '>' is only a redirection if the raw line has one unquoted.
        argv, redirects = _split_redirects(argv) if _has_unquoted(line, ">") else (argv, [])
        if not argv:
            if redirects:
                return Result(err="bash: syntax error near unexpected token `newline'\n", code=2), False
            return Result(), False
        run = self._commands.get(argv[0])
        if run is None:
            return Result(err=f"bash: {argv[0]}: command not found\n", code=127), False
        with_stdin = self._stdin_commands.get(argv[0]) if stdin is not None else None

        def execute(w: World) -> tuple[Result, bool]:
            before = w.workspace.digest() if len(redirects) > 1 else None
            prepared = _prepare_redirects(w, redirects)
            if isinstance(prepared, Result):
                # an open failure after an earlier target was truncated did change the world
                return prepared, before is not None and w.workspace.digest() != before
            result = with_stdin(w, argv, stdin) if with_stdin else run(w, argv)
            return _finish_redirects(w, redirects, result), True

        # Service configs appear as files under /etc only for commands that name /etc.
        return ops.with_config_files(world, [*argv[1:], *(t for _, _, t in redirects)], execute)


# -- quoting and redirection --------------------------------------------------------------------
def _unquoted(line: str):
    """Yield (index, char) of the characters of ``line`` outside quotes and escapes."""
    quote = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote == "'":
            quote = None if ch == "'" else quote
        elif ch == "\\":
            i += 1  # the next character is escaped (in double quotes too, near enough)
        elif quote == '"':
            quote = None if ch == '"' else quote
        elif ch in "'\"":
            quote = ch
        else:
            yield i, ch
        i += 1


def _has_unquoted(line: str, char: str) -> bool:
    return any(ch == char for _, ch in _unquoted(line))


def _unquoted_operator(line: str) -> str | None:
    previous = ""
    for i, ch in _unquoted(line):
        if ch in "|;`" or (ch == "&" and previous != ">") or (ch == "$" and line[i + 1:i + 2] == "("):
            if ch in "|&" and line[i + 1:i + 2] == ch:
                return ch * 2
            return "$(" if ch == "$" else ch
        if ch in "<\n":
            return "newline" if ch == "\n" else ch
        previous = ch
    return None


def _split_redirects(argv: list[str]) -> tuple[list[str], list[tuple[int, str, str]]]:
    """Separate ``[N]>PATH``, ``>>PATH``, ``N>&M`` from the arguments: (argv, [(fd, op, target)])."""
    words, redirects = [], []
    tokens = iter(argv)
    for tok in tokens:
        m = _REDIRECT.match(tok)
        if not m:
            words.append(tok)
            continue
        fd, op, dup, target = m.groups()
        if dup:
            continue  # 2>&1: stdout and stderr are one text already
        target = target or next(tokens, "")
        redirects.append((int(fd or 1), op, target))
    return words, redirects


def _prepare_redirects(world: World, redirects: list[tuple[int, str, str]]) -> Result | None:
    """Open the targets as bash does before the command runs: ``>`` truncates, so
    ``sed ... f > f`` empties ``f`` exactly as in life. A missing target is a syntax
    error found before anything is opened; a target that cannot be opened stops the
    line, after the ones before it were opened (and truncated), as in bash."""
    if any(target == "" for _, _, target in redirects):
        return Result(err="bash: syntax error near unexpected token `newline'\n", code=2)
    for fd, op, target in redirects:
        if target == "/dev/null" or fd not in (1, 2):
            continue
        path = cmd.norm(target)
        if not path:
            return Result(err=f"bash: {target}: No such file or directory\n", code=1)
        if not world.workspace.exists(path) and world.workspace.list(path):
            return Result(err=f"bash: {target}: Is a directory\n", code=1)
        if op == ">" or not world.workspace.exists(path):
            world.workspace.write(path, "")
    return None


def _finish_redirects(world: World, redirects: list[tuple[int, str, str]], result: Result) -> Result:
    streams = {1: result.out, 2: result.err}
    for fd, _, target in redirects:
        if fd not in streams:
            continue
        path = cmd.norm(target) or target
        # The command may have removed its own output file (``rm f > f``): bash writes into
        # the unlinked file, so the output is gone and nothing reappears.
        if target != "/dev/null" and world.workspace.exists(path):
            world.workspace.write(path, world.workspace.read(path) + streams[fd])
        streams[fd] = ""
    return Result(streams[1], streams[2], result.code, tests_ran=result.tests_ran)
