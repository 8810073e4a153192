"""Run a test module of the workspace in-process against the workspace's own modules.

The workspace's Python files are served by an import hook placed first on
``sys.meta_path`` for the duration of one run; every module it loaded is removed from
``sys.modules`` afterwards, so runs never see each other's code. Compiled code objects
are cached by content hash, because a run re-imports the whole package.

A test is a top-level ``test_*`` function; it passes when it returns without raising.

Two limits. The one that decides is deterministic: a budget of executed lines of
workspace code (``max_steps``, counted by a trace function that follows only workspace
frames), so a loop that never ends fails the same way on an idle and on a loaded machine
(``over_budget``). The wall clock is only a backstop for what the count cannot see (a
sleep, a loop inside a C function): ``SIGALRM`` in the main thread. Signals reach only the
main thread, so on another one (an executor running several episodes at once per process)
the trace function that counts the steps also reads the clocks, every ``CLOCK_EVERY``
calls and lines: the run's own CPU time against the limit (the other threads' turns at
the interpreter lock are not the run's), and the wall clock against ``THREAD_WALL_FACTOR``
times it, for code that keeps sleeping in naps. One blocking C call is not stopped there.
When a limit fires the report says ``timed_out``, which the harness treats as its own
failure, never as a failed test.

The import hook, ``sys.modules`` and the root logger are the process's, so one run at a
time per process holds them (``_RUN_LOCK``); its wall clock starts once it holds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.abc
import importlib.util
import logging
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from types import CodeType, ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the sandbox runner loads this file without the package
    from harness.world.workspace import Workspace

_RUN_LOCK = threading.Lock()  # one run at a time per process: they share sys.modules and sys.meta_path
# Off the main thread (no published source for either): the clocks are read every this many
# traced calls and lines (reading the thread's CPU clock is a system call), and the wall
# clock may run to this many times the limit, room for the turns of the other episodes'
# threads at the interpreter lock, which a wall clock counts.
CLOCK_EVERY = 256
THREAD_WALL_FACTOR = 10
_CODE_CACHE: dict[tuple[str, str], CodeType] = {}
_CODE_CACHE_LIMIT = 20_000
FILENAME_PREFIX = "ws://"
# Where this interpreter's standard library lies: in a sandbox, under a directory with a
# random name. A message naming it ("cannot import name 'X' from 'contextlib' (<path>)")
# says "<stdlib>/contextlib.py" instead, so what a run shows does not vary run to run or
# between the sandbox and the harness process.
STDLIB_DIR = os.path.dirname(contextlib.__file__) + os.sep


@dataclass(frozen=True)
class TestFailure:
    test: str
    error_type: str
    message: str
    path: str | None = None  # workspace path of the innermost workspace frame
    line: int | None = None


@dataclass
class TestReport:
    module: str
    collected: int = 0
    passed: list[str] = field(default_factory=list)
    failures: list[TestFailure] = field(default_factory=list)
    collection_error: TestFailure | None = None
    timed_out: bool = False  # the wall-clock backstop fired: not a verdict on the code
    over_budget: bool = False  # the deterministic step budget ran out: the code did not finish
    # Evidence for a verifier outside the run (never shown to the agent): per test, the
    # lines of the test module it executed, and the first line of the code it called.
    lines: dict[str, list[int]] = field(default_factory=dict)
    origins: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.collection_error is None
            and not self.timed_out
            and not self.over_budget
            and not self.failures
            and self.collected > 0
        )

    def to_dict(self) -> dict:
        return {
            "module": self.module,
            "collected": self.collected,
            "passed": list(self.passed),
            "failures": [f.__dict__ for f in self.failures],
            "collection_error": None if self.collection_error is None else self.collection_error.__dict__,
            "timed_out": self.timed_out,
            "over_budget": self.over_budget,
            "ok": self.ok,
        }

    def to_wire(self) -> dict:
        """What a sandboxed run sends back: what the agent sees plus the evidence."""
        return {**self.to_dict(), "lines": {k: list(v) for k, v in self.lines.items()},
                "origins": dict(self.origins)}


DEFAULT_MAX_STEPS = 2_000_000  # lines of workspace code per test-module run


class _Timeout(BaseException):
    """BaseException so a test's own ``except Exception`` cannot swallow it."""


class _OverBudget(BaseException):
    """The step budget ran out (BaseException for the same reason as ``_Timeout``)."""


class _StepBudget:
    """Counts executed lines of workspace code and stops the run past ``limit``.

    Only frames of workspace code are traced line by line (their file names carry
    ``FILENAME_PREFIX``); the harness's and the standard library's frames cost one call
    event each. The count is a property of the code and its inputs alone."""

    def __init__(self, limit: int, watch: str | None = None, seconds: float | None = None):
        self.limit = int(limit)
        self.left = self.limit
        self.watch = watch  # the test module's file name: its executed lines are recorded
        self.current: set[int] | None = None  # the running test's executed lines
        self.seconds = seconds  # the backstop read here, off the main thread (see the module's doc)
        self.timed_out = False  # set even when the code swallows the exception it raised

    def __enter__(self):
        self.previous = sys.gettrace()
        if self.seconds is not None:
            self._events = 0
            self._cpu_end = time.thread_time() + self.seconds
            self._wall_end = time.monotonic() + self.seconds * THREAD_WALL_FACTOR
            sys.settrace(self._call_timed)
        elif self.limit > 0:
            sys.settrace(self._call)
        return self

    def __exit__(self, *exc):
        sys.settrace(self.previous)
        return False

    def _call(self, frame, event, arg):
        return self._line if frame.f_code.co_filename.startswith(FILENAME_PREFIX) else None

    def _line(self, frame, event, arg):
        if event == "line":
            self.left -= 1
            if self.left < 0:
                raise _OverBudget()
            if self.current is not None and frame.f_code.co_filename == self.watch:
                self.current.add(frame.f_lineno)
        return self._line

    def _call_timed(self, frame, event, arg):
        self._tick()
        return self._line_timed if frame.f_code.co_filename.startswith(FILENAME_PREFIX) else None

    def _line_timed(self, frame, event, arg):
        if event == "line":
            self._tick()
        if self.limit > 0:  # else no step budget: the clocks alone
            self._line(frame, event, arg)
        return self._line_timed

    def _tick(self) -> None:
        self._events += 1
        if self._events % CLOCK_EVERY == 0 and (
                time.thread_time() > self._cpu_end or time.monotonic() > self._wall_end):
            self.timed_out = True
            raise _Timeout()


def module_name_for(path: str) -> str | None:
    if not path.endswith(".py"):
        return None
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


class _WorkspaceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, workspace: Workspace):
        self.sources: dict[str, tuple[str, bool]] = {}
        for path in workspace.list():
            name = module_name_for(path)
            if name is not None:
                self.sources[name] = (path, path.endswith("__init__.py"))
        # Directories holding Python files are namespace packages even without __init__.
        for name in list(self.sources):
            parts = name.split(".")
            for i in range(1, len(parts)):
                self.sources.setdefault(".".join(parts[:i]), ("", True))
        self.workspace = workspace
        self.loaded: set[str] = set()

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.sources:
            return None
        ws_path, is_pkg = self.sources[fullname]
        spec = importlib.util.spec_from_loader(fullname, self, is_package=is_pkg)
        if spec is not None and ws_path:
            spec.origin = FILENAME_PREFIX + ws_path
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module: ModuleType) -> None:
        self.loaded.add(module.__name__)
        ws_path, _ = self.sources[module.__name__]
        if not ws_path:
            return
        source = self.workspace.read(ws_path)
        module.__file__ = FILENAME_PREFIX + ws_path
        exec(_compile(ws_path, source), module.__dict__)


def _compile(path: str, source: str) -> CodeType:
    key = (path, hashlib.sha1(source.encode()).hexdigest())
    code = _CODE_CACHE.get(key)
    if code is None:
        if len(_CODE_CACHE) > _CODE_CACHE_LIMIT:
            _CODE_CACHE.clear()
        code = compile(source, FILENAME_PREFIX + path, "exec", dont_inherit=True)
        _CODE_CACHE[key] = code
    return code


def _describe(test: str, exc: BaseException) -> TestFailure:
    path, line = None, None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(FILENAME_PREFIX):
            path, line = frame.filename[len(FILENAME_PREFIX):], frame.lineno
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(FILENAME_PREFIX):
        path, line = exc.filename[len(FILENAME_PREFIX):], exc.lineno
    message = str(exc).replace(FILENAME_PREFIX, "").replace(STDLIB_DIR, "<stdlib>/")[:300]  # as the agent knows them
    return TestFailure(test, type(exc).__name__, message, path, line)


class _Alarm:
    """SIGALRM-based limit in the main thread; a no-op elsewhere (see ``_StepBudget``)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.active = seconds > 0 and threading.current_thread() is threading.main_thread()
        self.fired = False  # set even when the code swallows the exception it raised

    def __enter__(self):
        if self.active:
            def _raise(signum, frame):
                self.fired = True
                raise _Timeout()

            self.previous = signal.signal(signal.SIGALRM, _raise)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def run_test_module(workspace: Workspace, test_path: str, timeout_s: float = 10.0,
                    max_steps: int = DEFAULT_MAX_STEPS) -> TestReport:
    """Import ``test_path`` from the workspace and call each ``test_*`` function."""
    report = TestReport(module=test_path)
    name = module_name_for(test_path)
    if name is None or not workspace.exists(test_path):
        report.collection_error = TestFailure("<collect>", "FileNotFoundError", f"no test module {test_path}")
        return report
    finder = _WorkspaceFinder(workspace)
    with _RUN_LOCK:
        shadowed = {k: sys.modules.pop(k) for k in list(sys.modules) if k in finder.sources}
        sys.meta_path.insert(0, finder)
        alarm = _Alarm(timeout_s)
        off_main = timeout_s > 0 and not alarm.active
        budget = _StepBudget(max_steps, FILENAME_PREFIX + test_path, seconds=timeout_s if off_main else None)
        try:
            with alarm, _isolated_logging(), budget:
                _collect_and_run(name, report, budget)
        except _Timeout:
            report.timed_out = True
        except _OverBudget:
            report.over_budget = True
        finally:
            report.timed_out = report.timed_out or alarm.fired or budget.timed_out
            sys.meta_path.remove(finder)
            for k in finder.loaded | set(finder.sources):
                sys.modules.pop(k, None)
            sys.modules.update(shadowed)
    return report


@contextlib.contextmanager
def _isolated_logging():
    """Workspace code may configure logging (``basicConfig``, handlers, levels); that must
    not outlive the test run in this process, or its records would leak into the harness."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    known = set(logging.Logger.manager.loggerDict)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in set(logging.Logger.manager.loggerDict) - known:
            logging.Logger.manager.loggerDict.pop(name, None)


def _collect_and_run(name: str, report: TestReport, budget: _StepBudget) -> None:
    try:
        module = importlib.import_module(name)
    except (_Timeout, _OverBudget):
        raise
    except BaseException as exc:  # noqa: BLE001 - any import failure is a collection error
        report.collection_error = _describe("<collect>", exc)
        return
    tests = [(k, v) for k, v in vars(module).items() if k.startswith("test_") and callable(v)]
    report.collected = len(tests)
    for test_name, fn in tests:
        code = getattr(fn, "__code__", None)
        from_module = code is not None and code.co_filename == budget.watch
        report.origins[test_name] = code.co_firstlineno if from_module else -1
        budget.current = executed = set()
        try:
            fn()
        except (_Timeout, _OverBudget):
            raise
        except BaseException as exc:  # noqa: BLE001 - a test may raise anything, even SystemExit
            report.failures.append(_describe(test_name, exc))
        else:
            report.passed.append(test_name)
        finally:
            budget.current = None
            report.lines[test_name] = sorted(executed)
