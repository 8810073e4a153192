"""Where a run's files are found: the checkout's folders, or an installed wheel's copies
(harness/_data), with $HARNESS_CONFIG_DIR above both."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core import resources
from harness.experiment import config as config_mod
from harness.experiment import runner
from harness.sandbox import box
from tests.conftest import ROOT


@pytest.fixture
def bundled(tmp_path, monkeypatch):
    """A package directory laid out as an installed wheel's: harness/_data/{configs,workloads}."""
    data = tmp_path / "site" / "harness" / "_data"
    (data / "configs").mkdir(parents=True)
    (data / "configs" / "config.yaml").write_text("defaults: []\n")
    (data / "workloads").mkdir()
    monkeypatch.setattr(resources, "BUNDLED_DIR", data)
    resources.installed.cache_clear()
    yield data
    resources.installed.cache_clear()


def test_a_checkout_reads_its_own_folders(monkeypatch):
    monkeypatch.delenv(config_mod.CONFIG_ENV, raising=False)
    assert not resources.installed()
    assert resources.data_root() == ROOT
    assert config_mod.config_dir() == ROOT / "configs"
    assert resources.data_path("paper", "claims.yaml") == ROOT / "paper" / "claims.yaml"
    assert box.PROJECT_DIR == ROOT  # a sandbox hides the whole checkout


def test_an_installed_package_reads_its_copies(bundled, monkeypatch):
    monkeypatch.delenv(config_mod.CONFIG_ENV, raising=False)
    assert resources.installed()
    assert config_mod.config_dir() == bundled / "configs"
    assert resources.data_path("workloads") == bundled / "workloads"  # manifests: beside configs, as in a checkout


def test_the_config_dir_variable_wins_over_the_copies(bundled, tmp_path, monkeypatch):
    own = tmp_path / "mine"
    own.mkdir()
    (own / "config.yaml").write_text("defaults: []\n")
    monkeypatch.setenv(config_mod.CONFIG_ENV, str(own))
    assert config_mod.config_dir() == own


def test_a_half_copied_bundle_is_not_taken_for_an_install(tmp_path, monkeypatch):
    (tmp_path / "_data" / "configs").mkdir(parents=True)  # no config.yaml: a checkout still reads its own
    monkeypatch.setattr(resources, "BUNDLED_DIR", tmp_path / "_data")
    resources.installed.cache_clear()
    try:
        assert resources.data_root() == ROOT
    finally:
        resources.installed.cache_clear()


def test_an_installed_run_records_the_distribution_version(bundled):
    assert runner.code_version() == f"{resources.DIST_NAME}=={resources.dist_version()}"


def test_the_checkout_records_its_commit():
    assert "==" not in runner.code_version()


def test_an_installed_package_is_hidden_inside_the_bound_site_packages(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    monkeypatch.setattr(box, "SITE_PACKAGES", str(site))
    monkeypatch.setattr(box, "PACKAGE_DIR", site / "harness")
    assert box.package_in_site(Path("/tmp/sb")) == ["/tmp/sb/site/harness"]
    monkeypatch.setattr(box, "PACKAGE_DIR", ROOT / "harness")  # a checkout: nothing of it is bound
    assert box.package_in_site(Path("/tmp/sb")) == []


def test_an_installed_package_ships_itself_to_a_cluster_not_its_site_packages(monkeypatch):
    from harness.experiment.executors import _ray_session

    monkeypatch.delenv(config_mod.CONFIG_ENV, raising=False)
    assert _ray_session.shipped_env()["working_dir"] == str(ROOT)  # a checkout ships itself
    monkeypatch.setattr(_ray_session, "installed", lambda: True)
    env = _ray_session.shipped_env()
    assert "working_dir" not in env and env["py_modules"] == [str(resources.PACKAGE_DIR)]
