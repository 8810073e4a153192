"""Screening and its frozen files: bad input is named and nothing is run or written."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from harness.core.errors import ConfigError
from harness.workload.real.screen import baseline, load_screened, planned_runs, screen_all
from harness.world.vendored import load_manifest, real_dir


def _six_with_a_failing_test(tmp_path: Path) -> Path:
    """A copy of the vendored six whose own suite fails before any mutation."""
    root = tmp_path / "real"
    (root / "vendor").mkdir(parents=True)
    source = real_dir() / "vendor" / "six-1.17.0.tar.gz"
    out = io.BytesIO()
    with tarfile.open(source, "r:gz") as tar, tarfile.open(fileobj=out, mode="w:gz") as new:
        for member in tar.getmembers():
            data = tar.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if member.name.endswith("/test_six.py"):
                data += b"\n\ndef test_zz_broken():\n    assert 1 == 2\n"
                member.size = len(data)
            new.addfile(member, io.BytesIO(data) if data is not None else None)
    (root / "vendor" / "six-1.17.0.tar.gz").write_bytes(out.getvalue())
    manifest = json.loads((real_dir() / "packages.json").read_text())
    for p in manifest["packages"]:
        if p["name"] == "six":
            p["sha256"] = hashlib.sha256(out.getvalue()).hexdigest()
    (root / "packages.json").write_text(json.dumps(manifest))
    return root


def test_a_package_whose_suite_fails_before_any_mutation_is_refused_by_name(tmp_path):
    root = _six_with_a_failing_test(tmp_path)
    with pytest.raises(ConfigError, match=r"own test suite of six 1\.17\.0 fails before any mutation .*"
                                          r"test_zz_broken"):
        baseline(load_manifest(root).package("six"), root)


def test_an_unknown_package_is_refused_before_anything_runs():
    with pytest.raises(ConfigError, match="no vendored package nosuch"):
        screen_all(packages=("nosuch",))


def test_the_frozen_screening_is_refused_when_altered(tmp_path):
    for name in ("mutants.jsonl", "mutants.sha256"):
        shutil.copy(real_dir() / name, tmp_path / name)
    assert len(load_screened(tmp_path)) >= 100
    data = (tmp_path / "mutants.jsonl").read_bytes()
    (tmp_path / "mutants.jsonl").write_bytes(data.replace(b'"new":"', b'"new":" ', 1))
    with pytest.raises(ConfigError, match="does not match its recorded sha256"):
        load_screened(tmp_path)
    (tmp_path / "mutants.jsonl").unlink()
    with pytest.raises(ConfigError, match="no screening at"):
        load_screened(tmp_path)


def test_the_frozen_screening_records_what_was_screened_and_killed():
    stats = json.loads((real_dir() / "screening.json").read_text())
    assert set(stats["packages"]) == {p.name for p in load_manifest().packages}
    killed = sum(p["killed"] for p in stats["packages"].values())
    assert killed == len(load_screened())
    for p in stats["packages"].values():
        assert p["killed"] + p["survived"] + p["endless"] + p["no_report"] == p["screened"]
    assert planned_runs(1) > 0


@pytest.mark.parametrize("args, message", [
    (["tasks", "screen"], "a screening is frozen"),
    (["tasks", "screen", "--force", "--package", "nosuch"], "no vendored package nosuch"),
    (["tasks", "screen", "--force", "--workers", "0"], "--workers must be at least 1"),
])
def test_screen_command_bad_input_is_one_line_and_exit_2(cli, args, message):
    before = (real_dir() / "mutants.jsonl").read_bytes()
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert (real_dir() / "mutants.jsonl").read_bytes() == before
