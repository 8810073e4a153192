"""Executors are a typed registry: the ``executor`` config section is checked (name and
options) at config time, and a name cannot be registered twice. ``executor.concurrency``
left unset is the agent's default, read from its registration."""

from types import MappingProxyType

import pytest

from harness.agents.registry import AGENTS, validate_agent
from harness.core.errors import ConfigError
from harness.core.registry import Entry, PluginError
from harness.experiment.config import ExecutorConfig, build_run_config
from harness.experiment.executors import (
    EXECUTORS,
    MODEL_WAIT_CONCURRENCY,
    LocalExecutor,
    LocalOptions,
    make_executor,
    validate_executor,
)


def _square(x: int) -> int:
    return x * x


def test_local_is_registered_with_its_options():
    assert EXECUTORS.names() == ["local", "ray"]
    assert validate_executor(ExecutorConfig(workers=3)) == LocalOptions(workers=3, start_method="forkserver")


@pytest.mark.parametrize("workers", [1, 2])
def test_local_runs_every_job_with_any_worker_count(workers):
    executor = make_executor(ExecutorConfig(workers=workers, start_method="fork"))
    assert isinstance(executor, LocalExecutor)
    assert sorted(executor(_square, range(6))) == [0, 1, 4, 9, 16, 25]


def test_unknown_executor_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"executor\.name: unknown executor 'slurm'; known: local, ray"):
        validate_executor(ExecutorConfig(name="slurm"))


def test_bad_executor_option_names_the_key():
    with pytest.raises(ConfigError, match=r"executor\.workers"):
        EXECUTORS.options("local", {"workers": 0}, where="executor")


def test_unknown_executor_is_refused_when_the_config_is_composed():
    with pytest.raises(ConfigError, match=r"executor\.name: unknown executor 'slurm'"):
        build_run_config(["experiment=smoke", "workload.limit=2", "executor.name=slurm"])


def test_an_executor_name_registered_twice_is_refused():
    with pytest.raises(PluginError, match="registered twice"):
        EXECUTORS.register("local", options=LocalOptions)(type("OtherLocal", (), {}))
    assert EXECUTORS.entry("local").factory is LocalExecutor


# -- executor.concurrency -----------------------------------------------------------------------
def _concurrency(section: ExecutorConfig, agent) -> int:
    return make_executor(section, agent=validate_agent(agent)).options.concurrency


def test_concurrency_left_unset_is_the_agent_s_default():
    assert _concurrency(ExecutorConfig(workers=2), {"name": "reference"}) == 1
    assert _concurrency(ExecutorConfig(workers=2), {"name": "mock"}) == MODEL_WAIT_CONCURRENCY == 32
    assert _concurrency(ExecutorConfig(workers=2), {"name": "llm"}) == 32
    assert _concurrency(ExecutorConfig(workers=2, concurrency=4), {"name": "mock"}) == 4  # said: kept
    assert _concurrency(ExecutorConfig(workers=2, concurrency=3), {"name": "reference"}) == 3


def test_the_default_comes_from_the_agent_s_registration_not_its_name(substitute):
    waits = AGENTS.entry("mock")
    substitute(AGENTS, Entry("model_waiter", waits.factory, waits.options, MappingProxyType({"waits_on_model": True})))
    substitute(AGENTS, Entry("plain", waits.factory, waits.options))
    assert _concurrency(ExecutorConfig(), {"name": "model_waiter"}) == MODEL_WAIT_CONCURRENCY
    assert _concurrency(ExecutorConfig(), {"name": "plain"}) == 1


@pytest.mark.parametrize("value", ["0", "-3"])
def test_concurrency_below_one_is_refused_at_compose_time_naming_the_key(value):
    with pytest.raises(ConfigError, match=r"executor\.concurrency") as info:
        build_run_config(["experiment=smoke", "workload.limit=2", f"executor.concurrency={value}"])
    assert "\n" not in info.value.message


def test_one_thread_per_worker_keeps_the_process_pool():
    assert sorted(LocalExecutor(LocalOptions(workers=2, start_method="fork", concurrency=1))(_square, range(5))) \
        == [0, 1, 4, 9, 16]
