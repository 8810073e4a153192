"""The driver's Ray: start a local one or join a cluster, once per process.

Ray is optional (``pip install -e '.[ray]'``): nothing here imports it at module level,
and ``require_ray`` turns its absence into a one-line ConfigError at compose time.
Joining a cluster ships this checkout to the workers through Ray's runtime environment
(``working_dir``: the package and ``configs/``), so every worker runs the driver's code
whatever is installed on its machine besides the dependencies.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.core.errors import ConfigError, HarnessError
from harness.core.resources import PACKAGE_DIR, installed
from harness.experiment.config import CONFIG_ENV, config_dir

INSTALL_HINT = "pip install 'ray[client]>=2.9,<3' (or: pip install -e '.[ray]')"
ADDRESS = re.compile(r"^(auto|(ray://)?(?P<host>[^\s:/]+):(?P<port>\d{1,5}))$")
NAMESPACE = "harness"
PROJECT_ROOT = PACKAGE_DIR.parent  # the checkout (or, installed, the site-packages holding harness/)
# Not shipped to a cluster: results, caches, and what only a developer or the paper uses.
# gitignore syntax: a leading / anchors a name at the shipped folder's root ("paper" alone
# would also drop harness/paper from the workers).
CHECKOUT_EXCLUDES = ["/.git", "/.venv", "/results", "/tests", "/notebooks", "/paper", "/benchmarks", "/outputs",
                     "/multirun", "/dist", "/build"]
EXCLUDES = ["**/__pycache__", "*.duckdb", "*.duckdb.wal", ".hypothesis", ".pytest_cache", ".ruff_cache",
            "*.egg-info"]
PROBE_TIMEOUT_S = 5.0
START_ATTEMPTS = 2

_joined: tuple[str | None, int | None] | None = None  # (address, local CPUs) of the Ray this process set up
_generation = 0  # counts the Ray sessions this process set up (actors live no longer than theirs)


def require_ray() -> ModuleType:
    """The ``ray`` module, or a ConfigError with the install command."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(f"executor.name=ray needs Ray, which is not installed ({exc})", hint=INSTALL_HINT) from None
    return ray


def check_address(address: str | None) -> str | None:
    """``None`` (a local Ray), ``auto``, ``ray://host:port`` or ``host:port``."""
    if address is not None and not ADDRESS.match(address.strip()):
        raise ValueError("expected auto, ray://host:port or host:port (or leave it unset for a local Ray)")
    return address.strip() if address else None


def connect(address: str | None, workers: int | None) -> Any:
    """Start a local Ray with ``workers`` CPUs (address None) or join the cluster at
    ``address``; a later call with the same arguments reuses it (a sweep's runs share one
    Ray). A Ray that someone else initialized in this process is used as it is."""
    global _joined, _generation
    ray = require_ray()
    wanted = (address, workers or os.cpu_count() or 1) if address is None else (address, None)
    if ray.is_initialized():
        if _joined in (None, wanted):
            return ray
        ray.shutdown()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a research run reports nothing anywhere
    quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False, "namespace": NAMESPACE}
    if address is None:
        _start_local(ray, wanted[1], quiet)
    else:
        _probe(address)
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")  # not a screenful of retries before the one line
        try:
            ray.init(address=address, runtime_env=shipped_env(), **quiet)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            raise ConfigError(f"executor.address={address}: cannot join the Ray cluster: {first_line(exc)}",
                              hint=_AUTH_HINT) from None
    _joined = wanted
    _generation += 1
    return ray


def _start_local(ray: Any, cpus: int, quiet: dict[str, Any]) -> None:
    """``ray.init`` for a local Ray, tried again once if it timed out starting: on a busy
    machine Ray's agent process can miss the raylet's fixed wait for it (15 s in some
    versions), and the second start finds its imports cached."""
    for attempt in range(START_ATTEMPTS):
        try:
            ray.init(num_cpus=cpus, include_dashboard=False, **quiet)
            return
        except Exception as exc:
            ray.shutdown()
            if "timed out during startup" not in str(exc):
                raise
            if attempt + 1 == START_ATTEMPTS:
                raise HarnessError(f"a local Ray did not start in time ({START_ATTEMPTS} tries): {first_line(exc)}",
                                   hint="the machine is busy; try again, or run with executor.name=local") from exc


def generation() -> int:
    return _generation


def shutdown() -> None:
    """Stop (or leave) the Ray this process set up; the next ``connect`` starts afresh."""
    global _joined, _generation
    ray = require_ray()
    if ray.is_initialized():
        ray.shutdown()
    _joined = None
    _generation += 1


def worker_count(ray: Any, address: str | None, workers: int | None) -> int:
    """Actors to start: ``workers``, else every CPU of the local machine or the cluster."""
    if workers:
        return workers
    if address is None:
        return os.cpu_count() or 1
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def worker_config_dir(address: str | None) -> str:
    """What a worker's ``HARNESS_CONFIG_DIR`` is set to: the driver's configs directory on
    this machine; on a cluster its path inside the shipped working directory (or, for a
    directory outside the checkout, shipped beside it, its name on the worker's path)."""
    configs = config_dir().resolve()
    if address is None:
        return str(configs)
    return str(configs.relative_to(PROJECT_ROOT)) if configs.is_relative_to(PROJECT_ROOT) else configs.name


def resolve_config_dir(value: str) -> None:
    """On the worker: make ``value`` (from ``worker_config_dir``) an absolute
    ``HARNESS_CONFIG_DIR``, looking in the working directory and then the module path."""
    import sys

    if os.path.isabs(value):
        os.environ[CONFIG_ENV] = value
        return
    for base in (os.getcwd(), *sys.path):
        candidate = Path(base or ".") / value
        if (candidate / "config.yaml").is_file():
            os.environ[CONFIG_ENV] = str(candidate.resolve())
            return


def shipped_env() -> dict[str, Any]:
    """The runtime environment that brings this checkout to a cluster's workers (an installed
    package: the package alone, its configs inside it; never the whole site-packages)."""
    if installed():
        env: dict[str, Any] = {"py_modules": [str(PACKAGE_DIR)], "excludes": EXCLUDES}
    else:
        env = {"working_dir": str(PROJECT_ROOT), "excludes": [*CHECKOUT_EXCLUDES, *EXCLUDES]}
    configs = config_dir().resolve()
    if not configs.is_relative_to(PROJECT_ROOT):
        env["py_modules"] = [*env.get("py_modules", []), str(configs)]
    return env


_JOIN_HINT = ("start one with `ray start --head` (then executor.address=auto on that machine), "
              "or leave executor.address unset for a local Ray")
_AUTH_HINT = ("is the address the head's (ray start --head prints it)? A cluster with token authentication "
              "needs RAY_AUTH_MODE=token here and its token (~/.ray/auth_token or RAY_AUTH_TOKEN)")


def _probe(address: str) -> None:
    """A host:port that nobody answers on is refused in seconds (Ray itself would wait
    for minutes); ``auto`` is Ray's own look-up of a cluster on this machine, which is quick."""
    match = ADDRESS.match(address)
    if match is None or match["host"] is None:
        return
    try:
        socket.create_connection((match["host"], int(match["port"])), timeout=PROBE_TIMEOUT_S).close()
    except OSError as exc:
        raise ConfigError(f"executor.address={address}: no Ray cluster answers there ({first_line(exc)})",
                          hint=_JOIN_HINT) from None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
