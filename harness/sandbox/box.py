"""A sandbox for commands that touch the host: a subprocess in a confined, throwaway root.

Layout: a fresh temporary *parent* directory (owned by the harness) holding ``root/``,
where the workspace snapshot is materialized and the command runs, and harness-owned
helpers (the test runner). The parent is removed on close, so anything the command
leaves in or beside ``root`` disappears with it.

Confinement, from strongest to weakest, chosen once per process by probing what this
machine allows (``isolation()``), and reported in every result, never assumed:

* ``privileged`` (the harness runs as root): ``unshare --net --mount``, every mount
  re-mounted read-only except ``root``, the project directory hidden under an empty
  tmpfs, then ``setpriv`` drops to uid/gid ``nobody`` with no capabilities and
  ``no_new_privs``. The interpreter is bind-mounted into the parent because its own
  install directory may not be reachable by ``nobody``. RLIMIT_NPROC binds (it is
  ignored for real root).
* ``userns`` (unprivileged user namespaces): the same without the uid change; the
  process keeps the caller's uid, so RLIMIT_NPROC is not set (it would count the
  harness's own processes).
* ``net`` / ``none``: fewer guarantees, flagged as such.

Never confined, in any mode: *reads* of world-readable files outside the hidden
directories (``/etc/passwd`` is readable), CPU time beyond RLIMIT_CPU and the wall-clock
limit, and the host's kernel itself. This is a process sandbox, not a VM.

The workspace is the source of truth: a run does not change the world. ``read_back``
exists to inspect what a run left behind; it returns only regular files inside ``root``
and never follows a symlink.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import WorldError
from harness.core.resources import PACKAGE_DIR, installed

NOBODY = 65534
# What a sandbox hides of the harness itself (families, gold generators, manifests): the
# checkout, or an installed package's own directory (its data copied inside it).
PROJECT_DIR = PACKAGE_DIR if installed() else PACKAGE_DIR.parent
_PRELUDE = Path(__file__).with_name("prelude.sh")
SITE_PACKAGES = sysconfig.get_paths()["purelib"]


@dataclass(frozen=True)
class SandboxLimits:
    memory_bytes: int = 1 << 30
    file_bytes: int = 16 << 20
    open_files: int = 64
    processes: int = 64
    output_bytes: int = 256 << 10


@dataclass(frozen=True)
class Isolation:
    mode: str  # privileged | userns | net | none
    network_isolated: bool
    filesystem_confined: bool  # writes outside root fail
    processes_limited: bool  # RLIMIT_NPROC actually binds


@dataclass(frozen=True)
class SandboxResult:
    exit_code: int | None  # negative: killed by that signal
    stdout: str
    stderr: str
    timed_out: bool
    killed_by_limit: bool  # ended by a resource-limit signal, not by our timeout
    duration_s: float
    network_isolated: bool
    filesystem_confined: bool
    output_truncated: bool


# -- paths -------------------------------------------------------------------------------
def safe_relpath(path: str) -> str:
    """A relative POSIX path that stays inside its root; refuses anything else."""
    if not path or path.startswith(("/", "\\")) or "\0" in path:
        raise WorldError(f"refused path {path!r}", "paths must be relative to the workspace")
    parts = path.replace("\\", "/").split("/")
    if any(p == ".." for p in parts):
        raise WorldError(f"refused path {path!r}", "'..' may not leave the workspace")
    clean = [p for p in parts if p not in ("", ".")]
    if not clean:
        raise WorldError(f"refused path {path!r}")
    return "/".join(clean)


def _inside(root: Path, candidate: str) -> bool:
    real = os.path.realpath(candidate)
    return real == str(root) or real.startswith(str(root) + os.sep)


# -- isolation modes ---------------------------------------------------------------------
def _interpreter_home() -> Path:
    return Path(sys._base_executable).resolve().parents[1]  # type: ignore[attr-defined]


def _interpreter_relpath() -> str:
    exe = Path(sys._base_executable).resolve()  # type: ignore[attr-defined]
    return str(exe.relative_to(_interpreter_home()))


# Top-level directories the sandboxed process needs (the system, and /tmp where sandboxes
# live); every other one is hidden under an empty tmpfs: other checkouts of the project,
# home directories, data. What must stay reachable in place (the interpreter and the
# third-party packages, unless bind-mounted into the sandbox) keeps its directory.
SYSTEM_DIRS = frozenset({"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc", "sys",
                         "tmp", "run", "var", "boot"})


def hidden_dirs(mode: str) -> list[str]:
    """The directories a sandbox hides: the project, and the top-level ones it does not need."""
    keep = set(SYSTEM_DIRS)
    if mode != "privileged":  # the interpreter and site-packages are used where they are
        keep |= {Path(p).resolve().parts[1] for p in (_interpreter_home(), SITE_PACKAGES) if len(Path(p).parts) > 1}
    top = sorted(str(d) for d in Path("/").iterdir()
                 if d.is_dir() and not d.is_symlink() and d.name not in keep and ":" not in d.name)
    project = str(PROJECT_DIR)
    inside = any(project == t or project.startswith(t + "/") for t in top)
    return top if inside else [*top, project]


def package_in_site(parent: Path) -> list[str]:
    """An installed harness lies inside the site-packages bound into the sandbox (``parent/site``):
    hidden there as well as in place. A checkout's package is not in site-packages."""
    site = Path(SITE_PACKAGES).resolve()
    return [str(parent / "site" / PACKAGE_DIR.relative_to(site))] if PACKAGE_DIR.is_relative_to(site) else []


def _wrap(mode: str, parent: Path, root: Path, argv: list[str], network: bool = False) -> list[str]:
    if mode in ("privileged", "userns"):
        # A pid namespace whose init dies with unshare: a kill reaches even setsid() children.
        ns = ["unshare", *([] if network else ["--net"]), "--mount", "--pid", "--fork", "--kill-child",
              "--mount-proc"]
        ns += ["--map-root-user"] if mode == "userns" else []
        drop = "1" if mode == "privileged" else "0"
        pyhome = str(_interpreter_home()) if mode == "privileged" else ""
        hide = [*hidden_dirs(mode), *package_in_site(parent)]
        return [*ns, "sh", str(_PRELUDE), str(parent), str(root), ":".join(hide), pyhome,
                drop, SITE_PACKAGES, *argv]
    if mode == "net" and not network:
        return ["unshare", "--net", "--map-root-user", *argv]
    return argv


def python_argv(mode: str, parent: Path) -> list[str]:
    """The interpreter as the sandboxed process must name it (stdlib only, isolated)."""
    if mode == "privileged":
        exe = str(parent / "py" / _interpreter_relpath())
    else:
        exe = sys._base_executable  # type: ignore[attr-defined]
    return [exe, "-I", "-S", "-B"]


def site_dir(mode: str, parent: Path) -> str:
    """Where the harness's third-party packages are visible inside the sandbox."""
    return str(parent / "site") if mode in ("privileged", "userns") else SITE_PACKAGES


def _python_env(mode: str, parent: Path) -> dict[str, str]:
    if mode != "privileged":
        return {}
    # The interpreter's rpath names its real install directory, unreachable for nobody.
    return {"LD_LIBRARY_PATH": str(parent / "py" / "lib")}


_PROBE = """
import os, socket, sys
port, outside = int(sys.argv[1]), sys.argv[2]
s = socket.socket(); s.settimeout(2)
net = s.connect_ex(("127.0.0.1", port)) != 0
try:
    open(outside, "w").write("x"); fs = False
except OSError:
    fs = True
print(f"net={int(net)} fs={int(fs)} uid={os.getuid()}")
"""


def _probe(mode: str) -> Isolation | None:
    if mode != "none" and shutil.which("unshare") is None:
        return None
    if mode == "privileged" and (os.geteuid() != 0 or shutil.which("setpriv") is None):
        return None
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        with Sandbox({}, mode=mode) as box:
            outside = box.parent / "escape_probe"
            argv = [*python_argv(mode, box.parent), "-c", _PROBE,
                    str(server.getsockname()[1]), str(outside)]
            result = box.run(argv, timeout_s=20)
            escaped = outside.exists()
    except OSError:
        return None
    finally:
        server.close()
    if result.exit_code != 0 or "net=" not in result.stdout:
        return None
    fields = dict(kv.split("=") for kv in result.stdout.split())
    return Isolation(
        mode=mode,
        network_isolated=fields["net"] == "1",
        filesystem_confined=fields["fs"] == "1" and not escaped,
        processes_limited=mode == "privileged" and fields["uid"] != "0",
    )


_PROBE_LOCK = threading.RLock()  # threads asking at once wait for the one probe


def isolation() -> Isolation:
    """The strongest mode that works here, probed once per process."""
    with _PROBE_LOCK:
        return _isolation()


@functools.cache
def _isolation() -> Isolation:
    for mode in ("privileged", "userns", "net"):
        found = _probe(mode)
        if found is not None:
            return found
    return Isolation("none", False, False, False)


# -- the sandbox -------------------------------------------------------------------------
class Sandbox:
    """A throwaway root holding a workspace snapshot; ``run`` executes a command in it."""

    def __init__(self, files: dict[str, str], *, limits: SandboxLimits | None = None,
                 mode: str | None = None):
        self.limits = limits or SandboxLimits()
        self.mode = mode
        self.parent = Path(tempfile.mkdtemp(prefix="harness-sandbox-")).resolve()
        self.root = self.parent / "root"
        self.root.mkdir()
        try:
            for path, text in files.items():
                self.write(path, text)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self.parent, ignore_errors=True)

    @property
    def isolation(self) -> Isolation:
        if self.mode is None:
            return isolation()
        return Isolation(self.mode, False, False, False)  # a probe run: claims nothing

    def _mode(self) -> str:
        return self.mode if self.mode is not None else isolation().mode

    def write(self, path: str, text: str) -> None:
        rel = safe_relpath(path)
        target = self.root / rel
        if not _inside(self.root, str(target.parent)):
            raise WorldError(f"refused path {path!r}", "it resolves outside the workspace")
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_NOFOLLOW: a symlink already at the target is refused, not written through.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        if not _inside(self.root, str(target)):
            target.unlink()
            raise WorldError(f"refused path {path!r}", "it resolves outside the workspace")

    def read_back(self) -> dict[str, str]:
        """Regular files under root, by relative path; symlinks are skipped, never followed."""
        out: dict[str, str] = {}
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
            for name in filenames:
                full = os.path.join(dirpath, name)
                if os.path.islink(full) or not _inside(self.root, full):
                    continue
                try:
                    fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                except OSError:
                    continue
                with os.fdopen(fd, "rb") as fh:
                    if not os.path.isfile(full):
                        continue
                    data = fh.read(self.limits.file_bytes)
                out[os.path.relpath(full, self.root).replace(os.sep, "/")] = data.decode(
                    "utf-8", "replace")
        return dict(sorted(out.items()))

    # -- running -------------------------------------------------------------------------
    def _prepare_ownership(self, mode: str) -> None:
        if mode in ("privileged", "userns"):
            (self.parent / "site").mkdir(exist_ok=True)
        if mode != "privileged":
            return
        (self.parent / "py").mkdir(exist_ok=True)
        os.chmod(self.parent, 0o755)
        for dirpath, _, filenames in os.walk(self.root):
            os.chown(dirpath, NOBODY, NOBODY)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), NOBODY, NOBODY, follow_symlinks=False)

    def _env(self, mode: str) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.root),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            **_python_env(mode, self.parent),
        }

    def _preexec(self, timeout_s: float, mode: str):
        lim = self.limits
        cpu = max(1, int(timeout_s) + 1)
        settings = [
            (resource.RLIMIT_CPU, (cpu, cpu + 1)),
            (resource.RLIMIT_AS, (lim.memory_bytes, lim.memory_bytes)),
            (resource.RLIMIT_FSIZE, (lim.file_bytes, lim.file_bytes)),
            (resource.RLIMIT_NOFILE, (lim.open_files, lim.open_files)),
            (resource.RLIMIT_CORE, (0, 0)),
        ]
        if mode == "privileged":
            settings.append((resource.RLIMIT_NPROC, (lim.processes, lim.processes)))

        def apply() -> None:  # runs in the child between fork and exec
            for which, value in settings:
                # A limit the OS refuses is left unset; the tests show which ones bind.
                with contextlib.suppress(ValueError, OSError):
                    resource.setrlimit(which, value)

        return apply

    def run(self, argv: list[str], timeout_s: float = 10.0) -> SandboxResult:
        mode = self._mode()
        self._prepare_ownership(mode)
        start = time.perf_counter()
        proc = subprocess.Popen(
            _wrap(mode, self.parent, self.root, argv),
            cwd=self.root, env=self._env(mode), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=self._preexec(timeout_s, mode), start_new_session=True,
        )
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc.pid)
            out, err = _drain(proc)
        kill_group(proc.pid)  # stragglers that outlived their leader
        return self._result(proc.returncode, out, err, timed_out, time.perf_counter() - start)

    def spawn(self, argv: list[str], *, cpu_seconds: float, network: bool = False) -> subprocess.Popen:
        """A long-lived confined process with its stdin and stdout as pipes (a protocol
        channel) and its stderr in ``parent/stderr.log``; the caller kills it
        (``kill_group(proc.pid)``), which in a pid namespace takes everything it started."""
        mode = self._mode()
        self._prepare_ownership(mode)
        with open(self.parent / "stderr.log", "wb") as stderr:
            return subprocess.Popen(
                _wrap(mode, self.parent, self.root, argv, network=network),
                cwd=self.root, env=self._env(mode), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=stderr, preexec_fn=self._preexec(cpu_seconds, mode), start_new_session=True,
            )

    def _result(self, code: int, out: bytes, err: bytes, timed_out: bool,
                duration: float) -> SandboxResult:
        cap = self.limits.output_bytes
        iso = self.isolation
        limit_signals = (-signal.SIGXCPU, -signal.SIGXFSZ, -signal.SIGKILL)
        return SandboxResult(
            exit_code=code,
            stdout=out[:cap].decode("utf-8", "replace"),
            stderr=err[:cap].decode("utf-8", "replace"),
            timed_out=timed_out,
            killed_by_limit=not timed_out and code in limit_signals,
            duration_s=duration,
            network_isolated=iso.network_isolated,
            filesystem_confined=iso.filesystem_confined,
            output_truncated=len(out) > cap or len(err) > cap,
        )


def _drain(proc: subprocess.Popen) -> tuple[bytes, bytes]:
    # A process that left our group may still hold the pipes: stop waiting after a grace.
    try:
        return proc.communicate(timeout=2.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()
        return b"", b""


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
