"""The workload's plug-in registries: families, checkers, world operations, world components.

Each is a ``harness.core.registry.Registry`` that finds its plug-ins by a folder scan, so
these tests pin what the scan must find, that a name is taken once, and that an unknown
name is a configuration error naming the known ones.
"""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.core.errors import ConfigError, TaskGenerationError
from harness.core.registry import PluginError
from harness.workload import CHECKERS, FAMILIES, family, get_checker, get_family, run_checkers
from harness.workload.gold import WORLD_OPS, apply_steps
from harness.workload.spec import CheckerRef
from harness.world import World
from harness.world.state import COMPONENTS

WORKLOADS = Path(__file__).resolve().parents[3] / "workloads"


def _manifest_families() -> set[str]:
    return {json.loads(line)["family"] for name in ("w500", "s12", "real")
            for line in (WORKLOADS / name / "manifest.jsonl").read_text().splitlines() if line.strip()}


def test_discovery_finds_every_family_of_the_frozen_workloads():
    wanted = _manifest_families()
    assert len(wanted) == 29
    assert set(FAMILIES.names()) == wanted


def test_every_family_lives_in_a_module_named_after_it():
    for name in FAMILIES.names():
        module = sys.modules[type(get_family(name)).__module__]
        assert Path(module.__file__).stem == name.split("/", 1)[1], name


def test_the_families_package_registers_nothing_by_itself():
    """Importing the package must not import its families (that made the import circle)."""
    code = ("import sys, harness.workload.families; "
            "print(sorted(m for m in sys.modules if m.startswith('harness.workload.families.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_family_name_is_taken_once():
    taken = FAMILIES.names()[0]

    class Twin:
        name = taken
        category = taken.split("/")[0]

    with pytest.raises(PluginError, match="registered twice"):
        family(Twin)
    assert type(get_family(taken)) is not Twin


def test_a_checker_name_is_taken_once():
    CHECKERS.discover()  # the twin must meet the real one, not come first
    with pytest.raises(PluginError, match="registered twice"):
        CHECKERS.register("tests_pass")(lambda world, spec: (True, "twin"))
    assert get_checker("tests_pass").__module__ == "harness.workload.checkers.code"


def test_a_world_operation_name_is_taken_once():
    WORLD_OPS.discover()
    with pytest.raises(PluginError, match="registered twice"):
        WORLD_OPS.register("write")(lambda world, args: None)


def test_an_unknown_family_is_a_config_error_listing_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown task family 'nope/nothing'; known: .*data_analysis/join_pitfalls"):
        get_family("nope/nothing")


def test_an_unknown_checker_is_a_config_error_listing_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown checker 'no_such_checker'; known: .*tests_pass"):
        get_checker("no_such_checker")
    spec = SimpleNamespace(checkers=[CheckerRef(name="no_such_checker")])  # all run_checkers reads
    with pytest.raises(ConfigError, match="unknown checker"):  # a harness error, never a failed task
        run_checkers(World(), spec)


def test_discovery_finds_every_checker_world_operation_and_component():
    assert len(CHECKERS.names()) == 39
    assert {"tests_pass", "findings_match", "answer_value", "doc_fields_csv", "diagnosis",
            "config_reverted", "signature_has_param", "suite_passes", "approves"} <= set(CHECKERS.names())
    assert WORLD_OPS.names() == ["delete", "delete_host_file", "deploy", "health_check", "issue_credential",
                                 "replace", "restart_service", "revoke_credential", "rollback",
                                 "rotate_credential", "sql_write", "stop_service", "submit", "write",
                                 "write_config"]
    assert COMPONENTS.names() == ["datasets", "services", "suite"]


def test_an_unknown_world_operation_is_still_a_generation_error():
    with pytest.raises(TaskGenerationError, match=r"unknown world operation 'melt'; known: \['delete'"):
        apply_steps(World(), [{"op": "melt"}])
