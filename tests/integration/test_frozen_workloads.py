"""The committed W500 and S12 manifests: intact, reproducible from their configs, and valid.

If a family's generation changes, these tests fail until the manifests are regenerated
(`harness tasks generate --workload NAME --force`) and the change is visible in review.
"""

import json
import subprocess
import sys
from collections import Counter

import pytest

from harness.experiment.config import compose_config, config_dir
from harness.workload.manifest import ManifestEntry, read_manifest
from harness.workload.registry import get_family
from harness.workload.validation import validate_task
from harness.workload.workloads import WorkloadConfig, build_workload, generate_from_quotas

pytestmark = pytest.mark.slow
ROOT = config_dir().parent


def _cfg(name, limit=None):
    data = compose_config(["~experiment", f"workload={name}"] + ([f"workload.limit={limit}"] if limit else []))
    return WorkloadConfig(**data["workload"])


@pytest.mark.parametrize("name,total", [("w500", 500), ("s12", 600)])
def test_manifest_matches_its_config(name, total):
    cfg = _cfg(name)
    entries, _ = read_manifest(ROOT / cfg.manifest)
    assert len(entries) == total
    regenerated = [ManifestEntry.of(s) for s in generate_from_quotas(cfg)]
    assert [e.model_dump() for e in regenerated] == [e.model_dump() for e in entries], (
        f"{name} generation changed: regenerate with `harness tasks generate --workload {name} --force`")


def test_w500_is_stratified_as_the_report_says():
    entries, _ = read_manifest(ROOT / _cfg("w500").manifest)
    assert Counter(e.category for e in entries) == {"code_modification": 200, "code_review": 100,
                                                    "system_administration": 100, "data_analysis": 100}
    families = Counter((e.category, e.family) for e in entries)
    for cat in ("code_modification", "code_review", "system_administration", "data_analysis"):
        assert sum(1 for c, _ in families if c == cat) >= 5
    assert sum(e.sessions > 1 for e in entries) >= len(entries) / 4
    assert sum(bool(e.traps) for e in entries) >= len(entries) / 5


def test_s12_has_twelve_scenarios_of_fifty():
    entries, _ = read_manifest(ROOT / _cfg("s12").manifest)
    assert Counter(e.scenario for e in entries) == {s: 50 for s in {e.scenario for e in entries}}
    assert len({e.scenario for e in entries}) == 12


def test_worlds_are_identical_across_processes():
    tasks = build_workload(_cfg("w500", limit=40), base_dir=ROOT)
    here = {t.id: get_family(t.family).build_world(t).digest() for t in tasks}
    code = (
        "import json; from harness.workload.registry import get_family;"
        "from harness.workload.workloads import WorkloadConfig, build_workload;"
        "from harness.experiment.config import compose_config, config_dir;"
        "cfg = WorkloadConfig(**compose_config(['~experiment', 'workload=w500', 'workload.limit=40'])['workload']);"
        "print(json.dumps({t.id: get_family(t.family).build_world(t).digest() "
        "for t in build_workload(cfg, base_dir=config_dir().parent)}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(out.stdout) == here


@pytest.mark.parametrize("name,limit", [("w500", None), ("s12", 120)])
def test_every_task_is_a_fair_test(name, limit):
    problems = {t.id: v.problems for t in build_workload(_cfg(name, limit), base_dir=ROOT)
                if not (v := validate_task(t)).ok}
    assert not problems


@pytest.mark.parametrize("limit", [12, 24, 30])
def test_an_s12_slice_keeps_every_scenario(limit):
    """A small S12 run must still make a row of Table 4 for every scenario: the slice is
    stratified by scenario (largest remainder), not by category."""
    counts = Counter(t.scenario for t in build_workload(_cfg("s12", limit), base_dir=ROOT))
    assert len(counts) == 12 and sum(counts.values()) == limit
    assert max(counts.values()) - min(counts.values()) <= 1


def test_a_w500_slice_keeps_the_category_mix():
    counts = Counter(t.category for t in build_workload(_cfg("w500", 100), base_dir=ROOT))
    assert counts == {"code_modification": 40, "code_review": 20, "system_administration": 20, "data_analysis": 20}
