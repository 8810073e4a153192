"""The environments agents act on, and the primitive operations on them.

Every tool variant calls these same primitives: variants differ in interface and
guarantees, never in what the world does.
"""

from harness.world.state import World
from harness.world.testrun import TestFailure, TestReport, run_test_module
from harness.world.workspace import SearchHit, Workspace, WorldError

__all__ = [
    "SearchHit",
    "TestFailure",
    "TestReport",
    "Workspace",
    "World",
    "WorldError",
    "run_test_module",
]
