"""Error types. Each message says what was wrong and what to do about it.

``UserInputError`` and its subclasses are the user's mistakes: the CLI prints them in one
or two lines and exits with code 2, leaving stored results untouched. Everything else is
a harness bug and keeps its traceback.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base class of every error the harness raises on purpose."""

    def __init__(self, message: str, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\n  hint: {hint}")


class UserInputError(HarnessError):
    """Bad input from the user: a config, an override, a path, an id."""

    exit_code = 2


class ConfigError(UserInputError):
    """A configuration that cannot be run (unknown preset, malformed override, bad value)."""


class StoreError(UserInputError):
    """A results store that cannot be used as given (not a DuckDB file, unknown run)."""


class StoreBusyError(StoreError):
    """The store is being written by a running experiment in another process."""


class ResumeConflictError(UserInputError):
    """A run id that already exists with a different configuration."""


class WallClockTimeout(HarnessError):
    """A wall-clock backstop fired (a test run that the deterministic step budget could not
    stop). Wall time depends on the machine, so this is the harness's failure, recorded as a
    ``harness_error`` episode, never a verdict on the agent's work."""


class TaskGenerationError(ConfigError):
    """A task family was asked for parameters it cannot build (a workload config error)."""


class WorldError(HarnessError):
    """An operation the world refuses (missing file, bad pattern, a path that leaves the
    workspace). Tools turn it into an observation for the agent; it never ends an episode
    by itself."""
