import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores the same examples every run (a red build must mean a change broke
# something); local runs explore new ones, which is how edge cases get found.
# No deadlines: a test's wall time on a loaded 2-core machine says nothing about correctness
# (a 200 ms deadline failed a correct statistics test at 276 ms while other jobs ran).
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("local", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "local"))

ROOT = Path(__file__).resolve().parents[1]
HARNESS = [sys.executable, "-m", "harness.cli.main"]


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 300):
    """Run the real `harness` command in a subprocess; returns CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*HARNESS, *args], cwd=cwd or ROOT, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def substitute():
    """``substitute(REGISTRY, entry)``: a throw-away plug-in in place of its name until the
    test ends (the registry proper refuses a name twice)."""
    with contextlib.ExitStack() as stack:
        yield lambda registry, entry: stack.enter_context(registry.substituted(entry))
