"""The checkers of the real families: the package's own suite (plus hidden tests) decides,
deleting tests cannot turn it green, and a review of a clean change must approve it."""

from __future__ import annotations

from harness.workload.checkers.review import approves
from harness.workload.checkers.suite import suite_passes
from harness.world import World
from harness.world.components.suite import Suite
from harness.world.vendored import workspace_files
from harness.world.workspace import Workspace

SIX_GREEN = 198


def _six(**changes: str) -> World:
    files = {**workspace_files("six"), **changes}
    return World(Workspace(files), parts={"suite": Suite("six")})


def test_the_released_tree_passes_and_a_bug_fails_naming_the_test():
    assert suite_passes(_six(), None, expected=SIX_GREEN)[0]
    source = workspace_files("six")["six.py"]
    broken = source.replace("def b(s):\n        return s.encode(\"latin-1\")",
                            "def b(s):\n        return s.encode(\"utf-8\")", 1)
    assert broken != source
    ok, why = suite_passes(_six(**{"six.py": broken}), None, expected=SIX_GREEN)
    assert not ok and "test_six.py::" in why


def test_deleting_tests_cannot_make_the_suite_green():
    ok, why = suite_passes(_six(**{"test_six.py": "def test_nothing():\n    pass\n"}), None, expected=SIX_GREEN)
    assert not ok and f"released suite has {SIX_GREEN}" in why


def test_hidden_tests_run_beside_the_suite_and_never_enter_the_workspace():
    world = _six()
    hidden = {"_acceptance/test_new.py": "import six\n\n\ndef test_new():\n    assert six.b('x', post=len) == 1\n"}
    ok, why = suite_passes(world, None, expected=SIX_GREEN + 1, hidden=hidden)
    assert not ok and "_acceptance/test_new.py::test_new" in why
    assert not world.workspace.exists("_acceptance/test_new.py")


def test_a_world_without_a_suite_fails_with_its_reason():
    assert suite_passes(World(), None, expected=1) == (False, "the world holds no package suite to run")


def test_approving_needs_an_explicit_empty_list():
    world = World()
    assert not approves(world, None)[0]
    world.submit({"findings": []})
    assert approves(world, None) == (True, "the change was approved")
    world.submit({"findings": [{"file": "a.py", "line": 3}]})
    assert approves(world, None) == (False, "1 findings on a change with no issue: a.py:3")
