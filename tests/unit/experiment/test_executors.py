"""Executors are a typed registry: the ``executor`` config section is checked (name and
options) at config time, and a name cannot be registered twice."""

import pytest

from harness.core.errors import ConfigError
from harness.core.registry import PluginError
from harness.experiment.config import ExecutorConfig, build_run_config
from harness.experiment.executors import (
    EXECUTORS,
    LocalExecutor,
    LocalOptions,
    make_executor,
    validate_executor,
)


def _square(x: int) -> int:
    return x * x


def test_local_is_registered_with_its_options():
    assert EXECUTORS.names() == ["local"]
    assert validate_executor(ExecutorConfig(workers=3)) == LocalOptions(workers=3, start_method="forkserver")


@pytest.mark.parametrize("workers", [1, 2])
def test_local_runs_every_job_with_any_worker_count(workers):
    executor = make_executor(ExecutorConfig(workers=workers, start_method="fork"))
    assert isinstance(executor, LocalExecutor)
    assert sorted(executor(_square, range(6))) == [0, 1, 4, 9, 16, 25]


def test_unknown_executor_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"executor\.name: unknown executor 'slurm'; known: local"):
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
