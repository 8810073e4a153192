"""The ``ray`` executor's config, checked at compose time without starting Ray: its options,
keys that belong to another executor, Ray missing, and a cluster address nobody answers on
(refused in seconds, before anything is stored). Runs on Ray: tests/integration/test_ray_cli.py."""

import socket
import sys

import pytest

from harness.core.errors import ConfigError
from harness.experiment.config import ExecutorConfig, build_run_config
from harness.experiment.executors import EXECUTORS, make_executor, validate_executor
from harness.experiment.executors.ray_actors import RayExecutor, RayOptions

SMALL = ["experiment=smoke", "workload.limit=2", "executor.name=ray"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ray_is_registered_with_its_options():
    assert EXECUTORS.entry("ray").factory is RayExecutor
    cfg = build_run_config([*SMALL, "executor.workers=2", "executor.address=ray://head:10001"])
    assert validate_executor(cfg.executor) == RayOptions(workers=2, address="ray://head:10001")
    assert build_run_config(["experiment=smoke", "workload.limit=2", "executor=ray"]).executor.name == "ray"


def test_the_executor_is_not_part_of_the_config_hash():
    local = build_run_config(["experiment=smoke", "workload.limit=2"])
    ray = build_run_config([*SMALL, "executor.address=auto", "executor.workers=3"])
    assert local.config_hash() == ray.config_hash()


@pytest.mark.parametrize(("override", "message"), [
    ("executor.workers=0", r"executor\.workers"),
    ("executor.lost_worker_retries=-1", r"executor\.lost_worker_retries"),
    ("executor.address=http://head:8265", r"executor\.address: .*expected auto, ray://host:port"),
    ("executor.address=head", r"executor\.address"),
    ("executor.start_method=spawn", r"executor\.start_method: the ray executor has no option 'start_method'"),
])
def test_a_bad_ray_option_is_refused_by_key(override, message):
    with pytest.raises(ConfigError, match=message):
        build_run_config([*SMALL, override])


def test_a_ray_option_given_to_the_local_executor_is_refused():
    with pytest.raises(ConfigError, match=r"executor\.address: the local executor has no option 'address'"):
        build_run_config(["experiment=smoke", "workload.limit=2", "executor.address=auto"])


def test_ray_missing_is_one_config_error_with_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ConfigError) as info:
        build_run_config(SMALL)
    assert "executor.name=ray needs Ray, which is not installed" in info.value.message
    assert "\n" not in info.value.message and "pip install" in info.value.hint
    validate_executor(ExecutorConfig())  # the local executor needs no Ray


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_an_address_nobody_answers_on_is_refused_before_ray_is_asked(scheme):
    address = f"{scheme}127.0.0.1:{_free_port()}"
    with pytest.raises(ConfigError, match=rf"executor\.address={address}: no Ray cluster answers there") as info:
        make_executor(ExecutorConfig(name="ray", address=address))
    assert "ray start --head" in info.value.hint  # the probe's refusal: Ray's own connect waits for minutes


def test_what_a_cluster_is_sent_keeps_every_module_of_the_package_and_drops_the_checkout_s_extras():
    """Ray's own matcher over the shipped folder: ``paper/`` (claims) and ``tests/`` stay home,
    ``harness/paper`` (a subpackage of the same name) goes along."""
    pytest.importorskip("ray")
    from ray._private.runtime_env.packaging import _get_excludes

    from harness.experiment.executors import _ray_session as session

    env = session.shipped_env()
    if "working_dir" not in env:
        pytest.skip("an installed package ships the package folder alone")
    root = session.PROJECT_ROOT
    excluded = _get_excludes(root, env["excludes"])
    for kept in ["harness/paper/figures.py", "harness/experiment/runner.py", "configs/config.yaml"]:
        assert not excluded(root / kept), kept
    for dropped in ["paper/claims.yaml", "tests/conftest.py", ".git/HEAD", "results/x.duckdb",
                    "harness/__pycache__/api.cpython-311.pyc"]:
        assert excluded(root / dropped), dropped
