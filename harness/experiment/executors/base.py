"""What an executor is, the ``EXECUTORS`` registry, and checking an ``executor`` section.

An executor runs task jobs and yields their results as they finish. Results are the same
whichever runs them: each episode is a pure function of its inputs, and the writer (on
the driver, the only process that writes) does not depend on completion order.

``concurrency`` is the task jobs in flight per worker process: with 1 each process runs one
job at a time in its main thread; with more, each runs that many on threads, for an agent
whose episodes wait on a model. Left unset it is the agent's default (``default_concurrency``).

Executors are the modules of this package (``local``, ``ray_actors``), found by the
registry's folder scan; each registers itself with the pydantic model of its options,
which are the ``executor`` config section without its ``name``. A plug-in that needs an
optional package declares ``requires=<callable>`` (a ConfigError when it is missing), so
``validate_executor`` can tell at compose time, building nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from pydantic import BaseModel

from harness.agents.registry import AgentSpec, waits_on_model
from harness.core.errors import ConfigError
from harness.core.registry import Registry

Job = Any
Result = Any


class Executor(Protocol):
    """Runs ``fn`` on every job, yielding results as they finish (in any order)."""

    def __call__(self, fn: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[Result]: ...


class ExecutorSection(Protocol):
    """The ``executor`` config section (``config.ExecutorConfig``): a name and its options."""

    name: str

    def model_dump(self, **kwargs: Any) -> dict[str, Any]: ...


EXECUTORS: Registry[Executor] = Registry("executor", plugins="harness.experiment.executors", skip={"base"})


# No published source. An episode of a model agent waits seconds per answer and works
# milliseconds between answers (measured: ~5 ms of CPU per model turn, the mock agent on 20
# smoke tasks, 1.6 s over 328 turns), so 32 episodes at once keep a process's CPU mostly
# idle while it holds 32 requests in flight (32 x 5 ms = 0.16 s of work per round of answers).
MODEL_WAIT_CONCURRENCY = 32


def default_concurrency(agent: AgentSpec | Mapping[str, Any]) -> int:
    """``executor.concurrency`` left unset: ``MODEL_WAIT_CONCURRENCY`` for an agent whose
    registration says it waits on a model, else 1 (threads would only share one CPU)."""
    return MODEL_WAIT_CONCURRENCY if waits_on_model(agent) else 1


def concurrency_of(section: ExecutorSection, agent: AgentSpec | Mapping[str, Any]) -> int:
    """The task jobs a worker process runs at once: the section's, else the agent's default."""
    return section.model_dump().get("concurrency") or default_concurrency(agent)


def _options(section: ExecutorSection, where: str) -> dict[str, Any]:
    """The section's keys that the chosen executor declares. The section holds every
    executor's keys; one the executor does not take is refused unless it is left at its
    default (``executor.name=local executor.address=auto`` is a mistake, not a no-op)."""
    model = EXECUTORS.entry(section.name, where=f"{where}.name").options
    defaults = {k: f.default for k, f in getattr(type(section), "model_fields", {}).items()}
    out = {}
    for key, value in section.model_dump(exclude={"name"}).items():
        if key in model.model_fields:
            out[key] = value
        elif key not in defaults or value != defaults[key]:
            takes = ", ".join(sorted(model.model_fields)) or "none"
            raise ConfigError(f"invalid config value at {where}.{key}: the {section.name} executor has no option "
                              f"{key!r} (its options: {takes})")
    return out


def validate_executor(section: ExecutorSection, where: str = "executor") -> BaseModel:
    """The executor's validated options, building nothing: an unknown name is a
    ConfigError naming ``executor.name``, a bad option one naming ``executor.<key>``,
    a missing optional package one saying how to install it."""
    entry = EXECUTORS.entry(section.name, where=f"{where}.name")
    requires = entry.meta.get("requires")
    if requires is not None:
        requires()
    return EXECUTORS.options(section.name, _options(section, where), where=where)


def make_executor(section: ExecutorSection, where: str = "executor", *,
                  agent: AgentSpec | Mapping[str, Any] | None = None) -> Executor:
    """A ready executor; one that joins a cluster connects here (a ConfigError if it cannot).
    An unset ``concurrency`` becomes ``agent``'s default (1 without one)."""
    options = validate_executor(section, where)
    if agent is not None and "concurrency" in type(options).model_fields:
        options = options.model_copy(update={"concurrency": concurrency_of(section, agent)})
    return EXECUTORS.build(section.name, options, where=where)
