"""The vendored sdists: read only when their bytes are the recorded ones, licence kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.core.errors import ConfigError
from harness.world.vendored import (
    dependency_files,
    load_manifest,
    package_tree,
    real_dir,
    workspace_files,
)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "real"
    (root / "vendor").mkdir(parents=True)
    shutil.copy(real_dir() / "packages.json", root / "packages.json")
    six = load_manifest().package("six").archive
    shutil.copy(real_dir() / "vendor" / six, root / "vendor" / six)
    return root


def test_every_manifest_entry_has_its_archive_with_the_recorded_hash_and_licence():
    manifest = load_manifest()
    assert len(manifest.packages) >= 5
    for package in manifest.packages:
        tree = package_tree(package.name)
        assert package.licence_file in tree
        assert any(path.startswith(t) for t in package.tests for path in tree), package.name


def test_a_package_tree_carries_its_vendored_dependencies_under_deps():
    tree = package_tree("inflect")
    assert "_deps/more_itertools/more_itertools/__init__.py" in tree
    assert "_deps/typeguard/typeguard/__init__.py" in tree


def test_a_missing_archive_is_a_one_line_config_error_naming_it(tmp_path):
    root = _copy(tmp_path)
    with pytest.raises(ConfigError, match=r"toolz-1\.2\.0\.tar\.gz of toolz 1\.2\.0 is missing") as err:
        package_tree("toolz", root)
    assert "\n" not in str(err.value)


def test_an_altered_archive_is_refused_before_anything_is_unpacked(tmp_path):
    root = _copy(tmp_path)
    archive = root / "vendor" / "six-1.17.0.tar.gz"
    data = bytearray(archive.read_bytes())
    data[-1] ^= 1
    archive.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match=r"six-1\.17\.0\.tar\.gz of six 1\.17\.0 is altered"):
        package_tree("six", root)


def test_an_unknown_package_names_the_known_ones():
    with pytest.raises(ConfigError, match="no vendored package 'numpy'"):
        load_manifest().package("numpy")


def test_the_workspace_holds_code_and_tests_but_not_dependencies_or_docs():
    files = workspace_files("inflect")
    assert "inflect/__init__.py" in files and "LICENSE" in files and "pytest.ini" in files
    assert not any(p.startswith(("_deps/", "docs/", ".github/")) for p in files)
    assert set(dependency_files("inflect")) == {p for p in package_tree("inflect") if p.startswith("_deps/")}
    assert dependency_files("six") == {}
