"""The commands of the ``shell`` tool layer (all but ``sed``, which has its own module).

Each command takes the world and its argv (already split by ``cmdline.split``, shlex's rules) and returns a
``Result`` like a process would: stdout, stderr and an exit code. Messages imitate GNU
coreutils, grep and pytest closely enough that an agent used to them reads them the same
way, including the ways they are easy to misread. Every effect goes through the world's
primitives (read, write, delete, search, run a test module, submit).

Every command also declares, next to its implementation, what it does to what
(``access_rule``; read by ``harness.runtime.tools.access_rules``), so a command and its
access rule are added together.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.runtime.access import Access, CommandRule, file_resource, no_access, path_resource
from harness.world import TestFailure, World, WorldError
from harness.world.test_backends import TestBackend, run_tests


@dataclass(frozen=True)
class Result:
    out: str = ""
    err: str = ""
    code: int = 0
    tests_ran: bool = False  # a test run happened (it costs test time, whatever its verdict)


# -- access rules -----------------------------------------------------------------------------
COMMAND_ACCESS: dict[str, CommandRule] = {}


def access_rule(*names: str) -> Callable[[CommandRule], CommandRule]:
    """Declare what running the commands ``names`` does, to what: the rule gets the command's
    words (redirections removed; the shell maps those itself) and its here-document or None.
    Every command declares one (``no_access`` included), so none goes unauthorised by
    omission; a name declared twice is refused."""
    def register(rule: CommandRule) -> CommandRule:
        for name in names:
            if name in COMMAND_ACCESS:
                raise ValueError(f"shell command {name!r} already has an access rule")
            COMMAND_ACCESS[name] = rule
        return rule
    return register


def operands(words: list[str]) -> list[str]:
    """The words after the command that are not options."""
    return [w for w in words[1:] if not w.startswith("-")]


_VALUED = ("--last", "-n")  # options of the ops commands that take the next word as their value


def positional(words: list[str]) -> list[str]:
    """Operands of an ops command: ``metrics api latency_ms --last 5`` has two."""
    return [w for i, w in enumerate(words) if i and not w.startswith("-") and words[i - 1] not in _VALUED]


# -- the world's refusals ------------------------------------------------------------------------
def services_or_fail(world: World) -> Any:
    if world.services is None:
        raise WorldError("no services on this machine")
    return world.services


def error_text(exc: WorldError) -> str:
    return exc.message if exc.hint is None else f"{exc.message} ({exc.hint})"


# -- paths ----------------------------------------------------------------------------------
def norm(arg: str) -> str | None:
    """Workspace path of a command-line path ('' is the root), None if it leaves the root."""
    parts = [p for p in arg.replace("\\", "/").split("/") if p not in ("", ".")]
    return None if ".." in parts else "/".join(parts)


def expand(world: World, arg: str) -> tuple[str, list[tuple[str, str]]]:
    """Classify a path argument as 'file', 'dir' or 'missing', with (shown, path) pairs of
    the files it stands for. Files under a directory are shown prefixed by the argument as
    typed, as ``find``/``grep -r`` do (``./pkg/a.py`` for ``.``)."""
    key = norm(arg)
    ws = world.workspace
    if key is None:
        return "missing", []
    if key and ws.exists(key):
        return "file", [(arg, key)]
    files = ws.list(key)
    if not files:
        return "missing", []
    head = arg.rstrip("/")
    cut = len(key) + 1 if key else 0
    return "dir", [(f"{head}/{p[cut:]}" if head or arg else p, p) for p in files]


# -- file commands --------------------------------------------------------------------------
def ls(world: World, argv: list[str]) -> Result:
    paths = [a for a in argv[1:] if not a.startswith("-")]
    if not paths:
        files = world.workspace.list()
        return Result(out="".join(f + "\n" for f in files))
    out, err = [], []
    for arg in paths:
        kind, files = expand(world, arg)
        if kind == "missing":
            err.append(f"ls: cannot access '{arg}': No such file or directory\n")
        out.extend(shown + "\n" for shown, _ in files)
    return Result("".join(out), "".join(err), 2 if err else 0)


def cat(world: World, argv: list[str]) -> Result:
    out, err = [], []
    for arg in (a for a in argv[1:] if not (a.startswith("-") and len(a) > 1)):
        kind, files = expand(world, arg)
        if kind == "file":
            out.append(world.workspace.read(files[0][1]))
        elif kind == "dir":
            err.append(f"cat: {arg}: Is a directory\n")
        else:
            err.append(f"cat: {arg}: No such file or directory\n")
    return Result("".join(out), "".join(err), 1 if err else 0)


@access_rule("ls", "cat")
def _reads_operands(words: list[str], stdin: str | None) -> list[Access]:
    # No operand lists (or, for cat, prints) the whole workspace, unless a here-document is the input.
    return [Access("read", path_resource(p)) for p in (operands(words) or ([] if stdin is not None else [""]))]


def rm(world: World, argv: list[str]) -> Result:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    recursive, force = bool(set(flags) & {"r", "R"}), "f" in flags
    err = []
    for arg in (a for a in argv[1:] if not a.startswith("-")):
        kind, files = expand(world, arg)
        if norm(arg) == "" and kind != "missing":
            err.append(f"rm: refusing to remove '.' or '..' directory: skipping '{arg}'\n")
        elif kind == "missing":
            if not force:
                err.append(f"rm: cannot remove '{arg}': No such file or directory\n")
        elif kind == "dir" and not recursive:
            err.append(f"rm: cannot remove '{arg}': Is a directory\n")
        else:
            for _, path in files:
                world.workspace.delete(path)
    return Result("", "".join(err), 1 if err else 0)


@access_rule("rm")
def _deletes_operands(words: list[str], stdin: str | None) -> list[Access]:
    return [Access("delete", path_resource(p)) for p in operands(words)]


def echo(world: World, argv: list[str]) -> Result:
    args = argv[1:]
    newline = True
    while args and args[0] in ("-n", "-e", "-E"):
        newline = newline and args[0] != "-n"
        args = args[1:]
    return Result(" ".join(args) + ("\n" if newline else ""))


access_rule("echo")(no_access)  # prints only; where a redirect writes is the shell's to say


def submit(world: World, argv: list[str]) -> Result:
    world.submit({"text": " ".join(argv[1:])})
    return Result("submitted\n")


# -- grep -----------------------------------------------------------------------------------
_GREP_FLAGS = set("rRnlwEFicHhsq")
_GREP_VALUED = set("ABCm")  # take a value (context lines, max count): consumed, ignored
_GREP_USAGE = "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n"


def grep(world: World, argv: list[str]) -> Result:
    flags: set[str] = set()
    patterns: list[str] = []
    include: list[str] = []
    positional: list[str] = []
    args = iter(argv[1:])
    for tok in args:
        if tok == "--":
            positional.extend(args)
        elif tok.startswith("--"):
            name, _, value = tok[2:].partition("=")
            if name == "include":
                include.append(value or next(args, ""))
        elif tok.startswith("-") and len(tok) > 1:
            for i, c in enumerate(tok[1:], start=1):
                if c == "e" or c in _GREP_VALUED:
                    value = tok[i + 1:] or next(args, "")
                    if c == "e":
                        patterns.append(value)
                    break
                if c in _GREP_FLAGS:
                    flags.add(c)  # anything else is ignored, leniently
        else:
            positional.append(tok)
    if not patterns:
        if not positional:
            return Result(err=_GREP_USAGE, code=2)
        patterns.append(positional.pop(0))
    exprs = [re.escape(p) if "F" in flags else p for p in patterns]
    expr = exprs[0] if len(exprs) == 1 else "|".join(f"(?:{e})" for e in exprs)
    if "i" in flags:
        expr = f"(?i:{expr})"
    recursive = bool(flags & {"r", "R"})

    targets: list[tuple[str, str]] = []
    err: list[str] = []
    if not positional:
        targets = [(p, p) for p in world.workspace.list()]
    for arg in positional:
        kind, files = expand(world, arg)
        if kind == "missing":
            err.append(f"grep: {arg}: No such file or directory\n")
        elif kind == "dir" and not recursive:
            err.append(f"grep: {arg}: Is a directory\n")
        elif kind == "dir" and include:
            targets += [f for f in files if any(fnmatch.fnmatch(f[1].rsplit("/", 1)[-1], g) for g in include)]
        else:
            targets += files

    try:  # one pass over the workspace, then grouped per target, in target order
        hits = world.workspace.search(expr, regex=True, word="w" in flags, paths=[p for _, p in targets])
    except WorldError as exc:
        return Result(err=f"grep: {exc.message}\n", code=2)
    by_path: dict[str, list] = {}
    for h in hits:
        by_path.setdefault(h.path, []).append(h)
    out: list[str] = []
    total = len(hits)
    for shown, path in targets:
        found = by_path.get(path, [])
        if "c" in flags:
            out.append(f"{shown}:{len(found)}\n")
        elif "l" in flags:
            out.extend([f"{shown}\n"] if found else [])
        else:
            for h in found:
                out.append(f"{shown}:{h.line}:{h.text}\n" if "n" in flags else f"{shown}:{h.text}\n")
    code = 2 if err else (0 if total else 1)
    return Result("".join(out), "".join(err), code)


@access_rule("grep")
def _grep_access(words: list[str], stdin: str | None) -> list[Access]:
    # The first operand is the pattern; no file operand searches the whole workspace.
    return [Access("read", path_resource(p)) for p in (operands(words)[1:] or [""])]


# -- tests ----------------------------------------------------------------------------------
def _is_test_file(path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    return base.endswith(".py") and (base.startswith("test_") or base.endswith("_test.py"))


def _detail(f: TestFailure) -> str:
    first = f.message.splitlines()[0] if f.message else ""
    where = f" ({f.path}:{f.line})" if f.path else ""
    return f"{f.error_type}: {first}{where}" if first else f"{f.error_type}{where}"


_PYTEST_VALUED = ("-k", "-m", "-p", "-o", "-c", "--maxfail", "--rootdir")


def pytest(world: World, args: list[str], timeout_s: float,
           backend: TestBackend = "inprocess") -> Result:
    """``pytest [OPTIONS] [PATH[::TEST]]...``: options are accepted and ignored."""
    selected: list[tuple[str, str | None]] = []  # (module, test or None)
    err: list[str] = []
    any_path = False
    tokens = iter(args)
    for tok in tokens:
        if tok in _PYTEST_VALUED:
            next(tokens, None)
        if tok.startswith("-"):
            continue
        any_path = True
        path, _, test = tok.partition("::")
        kind, files = expand(world, path)
        if kind == "missing":
            err.append(f"ERROR: file or directory not found: {tok}\n")
        elif kind == "file":
            selected.append((files[0][1], test or None))
        else:
            selected += [(p, None) for _, p in files if _is_test_file(p)]
    if err:
        return Result(err="".join(err), code=4)
    if not any_path:
        selected = [(p, None) for p in world.workspace.list() if _is_test_file(p)]

    lines: list[str] = []
    failed = passed = errors = 0
    for module, test in selected:
        # A node id runs that one test (a real package's suite collects nothing else).
        report = run_tests(world, f"{module}::{test}" if test is not None else module, timeout_s, backend)
        if test is not None and report.collection_error is None and not report.over_budget \
                and report.collected == 0:
            return Result(err=f"ERROR: not found: {module}::{test}\n", code=4)
        if report.collection_error is not None:
            errors += 1
            lines.append(f"ERROR collecting {module} - {_detail(report.collection_error)}")
            continue
        for f in report.failures:
            lines.append(f"FAILED {module}::{f.test} - {_detail(f)}")
        if report.over_budget:
            errors += 1
            lines.append(f"ERROR {module} - Timeout: tests did not finish (step budget exhausted)")
        failed += len(report.failures)
        passed += len(report.passed)
    parts = [f"{failed} failed"] if failed else []
    parts += [f"{passed} passed"] if passed else []
    parts += [f"{errors} error{'s' if errors > 1 else ''}"] if errors else []
    lines.append(f"== {', '.join(parts) or 'no tests ran'} in 0.01s ==")
    code = 2 if errors else 1 if failed else 0 if passed else 5
    # The literal 0.01s: observations must never depend on wall time.
    return Result("\n".join(lines) + "\n", "", code, tests_ran=bool(selected))


def python(world: World, argv: list[str], timeout_s: float,
           backend: TestBackend = "inprocess") -> Result:
    """``python -m pytest ...``, or ``python FILE``: a test module runs its tests, any
    other module is imported as a script would be (silent unless it fails)."""
    prog = argv[0]
    args = argv[1:]
    if args[:2] == ["-m", "pytest"]:
        return pytest(world, args[2:], timeout_s, backend)
    if args[:1] == ["-m"]:
        return Result(err=f"{prog}: No module named {args[1] if len(args) > 1 else ''}\n", code=1)
    if not args or args[0].startswith("-"):
        return Result(err=f"{prog}: only 'python FILE' and 'python -m pytest' are available\n", code=2)
    kind, files = expand(world, args[0])
    if kind != "file":
        return Result(
            err=f"{prog}: can't open file '{args[0]}': [Errno 2] No such file or directory\n", code=2
        )
    path = files[0][1]
    if _is_test_file(path):
        return pytest(world, [args[0]], timeout_s, backend)
    report = run_tests(world, path, timeout_s, backend)
    failure = report.collection_error
    if failure is None and not report.over_budget:
        return Result()
    if failure is None:
        return Result(err=f"TimeoutError: {path} did not finish (step budget exhausted)\n", code=124)
    where = f'  File "{failure.path}", line {failure.line}\n' if failure.path else ""
    message = f"{failure.error_type}: {failure.message}" if failure.message else failure.error_type
    return Result(err=f"Traceback (most recent call last):\n{where}{message}\n", code=1)


@access_rule("pytest", "python", "python3")
def _executes_operands(words: list[str], stdin: str | None) -> list[Access]:
    return [Access("execute", file_resource(p)) for p in operands(words) if p != "pytest"]
