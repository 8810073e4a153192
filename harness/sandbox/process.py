"""The harness's half of a long-lived sandboxed process (a test server, an agent process).

The process runs a script in a ``Sandbox`` (``harness.sandbox.box``) with
``child.py`` beside it (as ``sandbox_child``) and speaks newline-delimited JSON over its stdin/stdout.
Every wait for an answer has a wall-clock deadline kept here, outside the code it
limits: when it passes, the whole sandbox (a pid namespace) is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.sandbox.box import (
    Sandbox,
    SandboxLimits,
    isolation,
    kill_group,
    python_argv,
    site_dir,
)

CHILD = Path(__file__).with_name("child.py")
CHILD_NAME = "sandbox_child.py"  # what the script inside imports it as


class ProcessGone(Exception):
    """The sandboxed process died, hung past its deadline, or broke the protocol."""


class SandboxProcess:
    """``prepare(parent)`` puts what the script needs into the sandbox's parent directory
    (readable, not writable, by the sandboxed process); ``argv(python, parent, site)``
    gives the command line."""

    def __init__(self, script: Path, prepare: Callable[[Path], None],
                 args: Callable[[Path, str], list[str]], *, limits: SandboxLimits | None = None,
                 cpu_seconds: float = 3600.0, network: bool = False, startup_seconds: float = 60.0):
        self.box = Sandbox({}, limits=limits)
        self.buf = b""
        self.proc = None
        try:
            parent, mode = self.box.parent, isolation().mode
            shutil.copy(script, parent / script.name)
            shutil.copy(CHILD, parent / CHILD_NAME)
            prepare(parent)
            _readable(parent, self.box.root)
            argv = [*python_argv(mode, parent), str(parent / script.name), *args(parent, site_dir(mode, parent))]
            self.proc = self.box.spawn(argv, cpu_seconds=cpu_seconds, network=network)
            self.hello = self.receive(startup_seconds)
        except BaseException:
            self.close()
            raise

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError) as exc:
            raise ProcessGone(f"the sandboxed process is gone ({exc}); {self.stderr_tail()}") from None

    def receive(self, seconds: float) -> dict[str, Any]:
        """The next message; past ``seconds`` of wall clock the process is killed."""
        deadline = time.monotonic() + seconds
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.close()
                raise ProcessGone(f"no answer within {seconds:g} s of wall clock; the process was killed")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise ProcessGone(f"the sandboxed process died; {self.stderr_tail()}")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        try:
            message = json.loads(line)
        except ValueError:
            raise ProcessGone(f"the sandboxed process sent a line that is not JSON: {line[:200]!r}") from None
        if not isinstance(message, dict):
            raise ProcessGone(f"the sandboxed process sent {line[:200]!r}, not a message")
        return message

    def stderr_tail(self) -> str:
        try:
            text = (self.box.parent / "stderr.log").read_bytes()[-2000:].decode("utf-8", "replace")
        except OSError:
            return "no output"
        lines = [ln for ln in text.strip().splitlines() if ln.strip()]
        return f"its last output: {lines[-1][:300]}" if lines else "no output"

    def close(self) -> None:
        if self.proc is not None:
            kill_group(self.proc.pid)
            for pipe in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    pipe.close()
            self.proc.wait()
        self.box.close()


def _readable(parent: Path, root: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(parent):
        if Path(dirpath) == root:
            continue
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):  # chmod would follow it, out of the sandbox
                os.chmod(path, 0o644)
