"""An outside agent in its own sandboxed process, reached only through the port.

``agent=custom`` builds an ``OutOfProcessAgent``: a proxy whose ``run`` generator sends the
brief, the tool list and the agent's stream state to an agent process
(``process_main.py``) and turns each JSON line it answers with into a port ``Action``.
The driver, the task spec, its judges and every registry stay in this process; the
agent process sees a port kit (the port's own modules, nothing else of the harness), its
own package and the third-party packages, in the sandbox of ``harness.sandbox.box``:
the project directory hidden, writes confined to a throwaway root, no network unless
``agent.network`` says so, and the sandbox's resource limits.

Limits are enforced from here, where the agent's code cannot reach them: an answer that
does not come within ``limits.action_seconds`` kills the agent process (and everything
it started) and ends the episode as the agent's error; so does a dead process, a line
that is not a port action, or any exception the agent raises, of any kind.

One agent process per worker thread and agent configuration serves every run as a fork
server, so the import of the agent's package is paid once; each run is a fresh fork, and
what a run leaves behind (processes, files) is removed before the next (see
``process_main``). Per thread, because a process serves one run at a time and episodes
may run at once on a worker's threads (``executor.concurrency``).
"""

from __future__ import annotations

import atexit
import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from harness.core.errors import ConfigError
from harness.core.models import Brief
from harness.core.rng import AgentStreams
from harness.runtime.port import Action, AgentRun, Observation, ToolSpec
from harness.sandbox.box import SandboxLimits
from harness.sandbox.process import ProcessGone, SandboxProcess

_HARNESS = Path(__file__).resolve().parents[2]
PORT_KIT = ("__init__.py", "core/models.py", "core/rng.py", "core/hashing.py", "runtime/port.py")
_MAIN = Path(__file__).with_name("process_main.py")
_ACTION = TypeAdapter(Action)


class AgentLimits(BaseModel):
    """Wall-clock and memory limits of an outside agent (no published source: set so a
    model-backed agent's slowest answer fits, and a hung one is noticed within a minute)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action_seconds: float = Field(60.0, gt=0)  # one answer: the wait for its next action
    # one episode, its answers and the actions it asks for: checked by the driver between actions
    episode_seconds: float = Field(1800.0, gt=0)
    startup_seconds: float = Field(60.0, gt=0)  # importing the agent's package
    memory_mb: int = Field(2048, ge=64)


class OutsideSettings(BaseModel):
    """``agent.*`` for ``agent=custom`` (see configs/agent/custom.yaml); the import path is
    checked here, without importing it, so a wrong one fails before anything runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "custom"
    import_path: str | None = None  # required: None only so that its absence gets its own message
    options: dict[str, Any] = Field(default_factory=dict)
    network: bool = False  # an agent that calls its own model needs it
    limits: AgentLimits = AgentLimits()

    @model_validator(mode="after")
    def _importable(self) -> OutsideSettings:
        if not self.import_path:
            raise ConfigError("agent=custom needs agent.import_path=package.module:Class")
        _check_import_path(self.import_path)
        return self


class AgentProcessError(Exception):
    """The agent process failed: it raised, died, hung or said something that is not an
    action. Raised inside the agent's generator, so the driver records an agent error."""


def _agent_dir(import_path: str) -> Path | None:
    """The directory holding the agent's top-level package or module, found without
    importing it (importing would run the agent's code in this process)."""
    import importlib.util

    top = import_path.partition(":")[0].split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin in (None, "built-in", "frozen"):
        if spec is not None and spec.submodule_search_locations:
            return Path(list(spec.submodule_search_locations)[0]).parent
        return None
    origin = Path(spec.origin)
    return origin.parent.parent if origin.name == "__init__.py" else origin.parent


def _check_import_path(import_path: str) -> None:
    module, sep, attr = str(import_path).partition(":")
    if not sep or not module or not attr or not all(p.isidentifier() for p in [*module.split("."), attr]):
        raise ConfigError(f"agent.import_path must look like package.module:Class, got {import_path!r}")
    if _agent_dir(import_path) is None:
        raise ConfigError(f"cannot import {module.split('.')[0]!r} for agent.import_path={import_path}: "
                          "no such module on the path")
    if module.split(".")[0] == "harness":
        raise ConfigError("agent.import_path names a module of the harness; an outside agent lives "
                          "in its own package (it sees only harness.runtime.port)")


class _Process:
    """The sandboxed agent process (a fork server, one per worker and configuration)."""

    current: _Run | None = None  # the run its child serves; one at a time

    def __init__(self, settings: OutsideSettings):
        self.settings = settings
        limits = settings.limits
        try:
            self.sandbox = SandboxProcess(
                _MAIN, self._prepare, self._args, limits=SandboxLimits(memory_bytes=limits.memory_mb << 20),
                # CPU time is counted per process, and this one lives across episodes: the
                # wall clocks here are the limits; this only stops a runaway server.
                cpu_seconds=limits.episode_seconds * 1000, network=settings.network,
                startup_seconds=limits.startup_seconds)
        except ProcessGone as exc:
            raise ConfigError(f"cannot start the agent process for {settings.import_path}: {exc}") from None
        hello = self.sandbox.hello
        if hello.get("op") != "hello":
            self.sandbox.close()
            raise ConfigError(_describe(hello, f"cannot import {settings.import_path} in the agent process"))
        self.probe = bool(hello.get("probe"))

    def _prepare(self, parent: Path) -> None:
        for rel in PORT_KIT:
            target = parent / "kit" / "harness" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(_HARNESS / rel, target)
        for pkg in ("core", "runtime"):  # empty: the kit's packages import nothing else
            (parent / "kit" / "harness" / pkg / "__init__.py").write_text("")
        (parent / "agent").mkdir()
        source = _agent_dir(self.settings.import_path)
        top = self.settings.import_path.split(":")[0].split(".")[0]
        for entry in (top, f"{top}.py"):
            if source is not None and (source / entry).exists():
                copy = shutil.copytree if (source / entry).is_dir() else shutil.copy
                copy(source / entry, parent / "agent" / entry)

    def _args(self, parent: Path, site: str) -> list[str]:
        return [str(parent / "kit"), str(parent / "agent"), site, self.settings.import_path,
                json.dumps(self.settings.options)]

    def alive(self) -> bool:
        return self.sandbox.alive()

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.sandbox.send(message)
        except ProcessGone as exc:
            raise AgentProcessError(f"the agent process is gone: {exc}") from None

    def receive(self, seconds: float) -> dict[str, Any]:
        try:
            return self.sandbox.receive(seconds)
        except ProcessGone as exc:
            if "no answer within" in str(exc):
                raise AgentProcessError(f"the agent did not answer within {seconds:g} s of wall clock; "
                                        "its process was killed") from None
            raise AgentProcessError(f"the agent process failed: {exc}") from None

    def stderr_tail(self) -> str:
        return self.sandbox.stderr_tail()

    def close(self) -> None:
        self.sandbox.close()


def _describe(message: dict[str, Any], what: str) -> str:
    """One line for the episode's ``error``; the agent process's own traceback after it,
    so the stored traceback shows where in the agent's code it happened."""
    if message.get("op") == "error":
        first = f"{message.get('type')}: {message.get('message')}".splitlines()[0][:500]
        remote = str(message.get("traceback") or "").strip()
        return f"{what}: {first}" + (f"\n--- in the agent process ---\n{remote}" if remote else "")
    return f"{what}: unexpected message {str(message)[:200]}"


_PROCESSES: dict[tuple[str, int], _Process] = {}  # (configuration, thread) -> its agent process
_PROCESSES_LOCK = threading.Lock()


def _process(settings: OutsideSettings) -> _Process:
    key = (settings.model_dump_json(), threading.get_ident())
    with _PROCESSES_LOCK:
        proc = _PROCESSES.get(key)
    if proc is None or not proc.alive():
        if proc is not None:
            proc.close()
        proc = _Process(settings)  # only this thread uses its key: no one starts it twice
        with _PROCESSES_LOCK:
            _PROCESSES[key] = proc
    return proc


@atexit.register
def close_all() -> None:
    with _PROCESSES_LOCK:
        procs = list(_PROCESSES.values())
        _PROCESSES.clear()
    for proc in procs:
        proc.close()


class _Run:
    """One run (a session's agent, or one probe) in a forked child of the agent process."""

    def __init__(self, settings: OutsideSettings, request: dict[str, Any]):
        self.settings = settings
        self.proc = _process(settings)
        earlier = self.proc.current
        if earlier is not None and earlier.open:  # abandoned mid-run: its child still waits
            earlier.kill()
            self.proc = _process(settings)
        self.proc.current = self
        self.proc.send(request)
        self.open = True

    def receive(self) -> dict[str, Any]:
        message = self.proc.receive(self.settings.limits.action_seconds)
        if message.get("op") == "error":
            self.finish()
            raise AgentProcessError(_describe(message, "the agent raised"))
        if message.get("op") == "exited":
            self.open = False
            raise AgentProcessError(f"the agent's process ended (status {message.get('status')}) "
                                    f"without a reply; {self.proc.stderr_tail()}")
        return message

    def finish(self) -> None:
        """Wait for the child's end (the fork server says so); a child that does not end is killed."""
        if not self.open:
            return
        self.open = False
        try:
            message = self.proc.receive(10.0)
        except AgentProcessError:
            return
        if message.get("op") != "exited":
            self.kill()

    def kill(self) -> None:
        self.open = False
        self.proc.close()


def _observation_json(obs: Observation | None) -> dict[str, Any] | None:
    return None if obs is None else obs.model_dump(mode="json")


class OutOfProcessAgent:
    """The port's ``Agent`` for an agent whose code runs in its own sandboxed process."""

    def __init__(self, settings: OutsideSettings):
        self.settings = settings
        if _process(settings).probe:
            self.answer_probe = self._answer_probe

    @staticmethod
    def _rng(rng: AgentStreams) -> tuple[Any, dict[str, Any]]:
        streams = rng._streams  # the harness's own object: the process gets its agent.* state
        state = {k: v for k, v in streams.state().items() if k.startswith("agent.")}
        return streams, {"root_seed": streams.root_seed, "task_id": streams.task_id,
                         "repeat": streams.repeat, "state": state}

    def run(self, brief: Brief, tools: list[ToolSpec], rng: AgentStreams) -> AgentRun:
        streams, rng_spec = self._rng(rng)
        run = _Run(self.settings, {"op": "start", "brief": brief.model_dump(mode="json"),
                                   "tools": [t.model_dump(mode="json") for t in tools], "rng": rng_spec})
        try:
            while True:
                message = run.receive()
                if message.get("rng") is not None:
                    streams.rewind(message["rng"], "agent.")  # the draws the agent made there
                if message.get("op") == "done":
                    run.finish()
                    return
                if message.get("op") != "action":
                    raise AgentProcessError(_describe(message, "the agent process broke the protocol"))
                try:
                    action = _ACTION.validate_python(message.get("action"))
                except ValidationError as exc:
                    raise AgentProcessError(f"the agent sent something that is not a port action: "
                                            f"{str(exc).splitlines()[0]}") from None
                observation = yield action
                run.proc.send({"op": "observation", "observation": _observation_json(observation)})
        finally:
            if run.open:
                try:
                    run.proc.send({"op": "close"})
                    run.finish()
                except AgentProcessError:
                    run.kill()

    def _answer_probe(self, question: str, brief: Brief, recall: Callable[[str, int], list[str]]) -> str:
        request = {"op": "start", "brief": brief.model_dump(mode="json"), "tools": [], "probe": question,
                   "rng": {"root_seed": 0, "task_id": brief.task_id, "repeat": 0, "state": {}}}
        run = _Run(self.settings, request)
        while True:
            message = run.receive()
            if message.get("op") == "recall":
                items = recall(str(message.get("query", "")), int(message.get("k", 5)))
                run.proc.send({"op": "recalled", "items": [str(i) for i in items]})
            elif message.get("op") == "answer":
                run.finish()
                return str(message.get("text", ""))
            else:
                run.kill()
                raise AgentProcessError(_describe(message, "the agent broke the probe protocol"))
