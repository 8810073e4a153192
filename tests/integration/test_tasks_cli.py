"""`harness tasks` on a frozen manifest: generate, refuse to overwrite, detect tampering,
refuse unknown families, validate, show, stats."""

import hashlib
import json
import shutil

import pytest

from harness.experiment.config import config_dir
from tests.conftest import run_cli

pytestmark = pytest.mark.slow

TINY = """name: tiny
seed: 0
limit: null
manifest: workloads/tiny/manifest.jsonl
families:
  - family: code_modification/rename_symbol
    count: 6
    difficulties: [1, 3, 5]
"""


@pytest.fixture
def project(tmp_path):
    """A copy of configs/ with a tiny frozen workload; manifests land beside it."""
    configs = tmp_path / "configs"
    shutil.copytree(config_dir(), configs)
    (configs / "workload" / "tiny.yaml").write_text(TINY)
    return tmp_path, {"HARNESS_CONFIG_DIR": str(configs)}


def _cli(env, *args):
    return run_cli(*args, env=env)


def test_generate_validate_show_stats(project):
    root, env = project
    proc = _cli(env, "tasks", "generate", "--workload", "tiny")
    assert proc.returncode == 0, proc.stderr
    manifest = root / "workloads" / "tiny" / "manifest.jsonl"
    lines = manifest.read_text().splitlines()
    assert len(lines) == 6 and {json.loads(x)["difficulty"] for x in lines} == {1, 3, 5}
    assert (root / "workloads" / "tiny" / "manifest.sha256").read_text().strip() == hashlib.sha256(
        manifest.read_bytes()).hexdigest()

    again = _cli(env, "tasks", "generate", "--workload", "tiny")
    assert again.returncode == 2 and "--force" in again.stderr
    forced = _cli(env, "tasks", "generate", "--workload", "tiny", "--force")
    assert forced.returncode == 0 and manifest.read_text().splitlines() == lines  # deterministic

    valid = _cli(env, "tasks", "validate", "--workload", "tiny", "--workers", "1")
    assert valid.returncode == 0, valid.stderr
    assert "6/6 tasks valid" in valid.stderr
    shown = _cli(env, "tasks", "show", json.loads(lines[0])["id"], "--workload", "tiny")
    assert shown.returncode == 0 and "textual_replace" in shown.stdout
    stats = _cli(env, "tasks", "stats", "--workload", "tiny")
    assert stats.returncode == 0 and "rename_symbol" in stats.stdout


def test_tampered_manifest_is_refused(project):
    root, env = project
    assert _cli(env, "tasks", "generate", "--workload", "tiny").returncode == 0
    manifest = root / "workloads" / "tiny" / "manifest.jsonl"
    manifest.write_text(manifest.read_text().replace('"difficulty":5', '"difficulty":4', 1))
    for args in (["tasks", "validate", "--workload", "tiny"], ["run", "workload=tiny", "conditions=[tools_typed]",
                                                               "compare=null", f"store.path={root}/r.duckdb"]):
        proc = _cli(env, *args)
        assert proc.returncode == 2, proc.stderr
        assert "does not match its recorded hash" in proc.stderr and "Traceback" not in proc.stderr
    assert not (root / "r.duckdb").exists()


def test_unknown_family_in_manifest_is_refused(project):
    root, env = project
    assert _cli(env, "tasks", "generate", "--workload", "tiny").returncode == 0
    manifest = root / "workloads" / "tiny" / "manifest.jsonl"
    manifest.write_text(manifest.read_text().replace("code_modification/rename_symbol", "code_modification/nope", 1))
    (root / "workloads" / "tiny" / "manifest.sha256").write_text(hashlib.sha256(manifest.read_bytes()).hexdigest())
    proc = _cli(env, "tasks", "validate", "--workload", "tiny")
    assert proc.returncode == 2 and "unknown task family 'code_modification/nope'" in proc.stderr


def test_missing_task_id(project):
    _, env = project
    assert _cli(env, "tasks", "generate", "--workload", "tiny").returncode == 0
    proc = _cli(env, "tasks", "show", "no-such-task", "--workload", "tiny")
    assert proc.returncode == 2 and "no task 'no-such-task'" in proc.stderr and "Traceback" not in proc.stderr
