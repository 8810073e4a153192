"""The ``typed`` tool layer: validation, structured errors, safe batch rename, test reports."""

from __future__ import annotations

import jsonschema
import pytest

from harness.core.errors import ConfigError
from harness.runtime.port import Observation
from harness.runtime.tools import TOOL_LAYERS
from harness.runtime.tools.typed import TypedToolOptions, TypedTools
from harness.world import Workspace, World
from harness.world.pycode import identifier_counts

MOD = """\
class Foo:
    '''A Foo, not FooBar.'''

    def size(self):
        return 1


FooBar = 2
foo_count = 3
label = "Foo"  # Foo is named in a string and in this comment


def make():
    return Foo()
"""

USE = """\
from pkg.mod import Foo, FooBar


def build(n):
    return [Foo() for _ in range(n)]  # Foo instances
"""

TESTS = """\
from pkg.mod import make
from pkg.use import build


def test_make():
    assert make().size() == 1


def test_build():
    assert len(build(2)) == 3, "expected three"


def test_types():
    raise TypeError("bad type")
"""

ORDER = [
    "list_files",
    "read_file",
    "search",
    "replace_in_file",
    "write_file",
    "rename_symbol",
    "run_tests",
    "submit",
]


def make_world(extra: dict[str, str] | None = None) -> World:
    files = {
        "pkg/__init__.py": "",
        "pkg/mod.py": MOD,
        "pkg/use.py": USE,
        "tests/test_pkg.py": TESTS,
        "README.md": "Foo is the main class.\n",
    }
    files.update(extra or {})
    return World(Workspace(files))


@pytest.fixture
def tools() -> TypedTools:
    return TypedTools()


@pytest.fixture
def world() -> World:
    return make_world()


def refused(obs: Observation, code: str, field: str | None = "unset") -> None:
    assert obs.ok is False
    assert obs.applied is False
    assert obs.data is None
    assert obs.error is not None, obs
    assert obs.error.code == code, obs.error
    if field != "unset":
        assert obs.error.field == field, obs.error


# -- registry and schemas ---------------------------------------------------------------
def test_registered_and_configurable():
    assert TOOL_LAYERS.entry("typed").factory is TypedTools
    layer = TOOL_LAYERS.build("typed", {"minutes_per_call": 1.0})
    assert isinstance(layer, TypedTools) and layer.minutes_per_call == 1.0
    with pytest.raises(ConfigError):
        TOOL_LAYERS.build("typed", {"minutes_per_cal": 1.0})
    with pytest.raises(ConfigError, match="test_timeout_s"):
        TOOL_LAYERS.build("typed", {"test_timeout_s": -1})


def test_specs_in_contract_order_with_annotations(tools):
    specs = tools.specs()
    assert [s.name for s in specs][: len(ORDER)] == ORDER  # workspace tools first; ops and data follow
    assert len({s.name for s in specs}) == len(specs)
    by_name = {s.name: s for s in specs}
    for name in ("list_files", "read_file", "search", "run_tests"):
        assert by_name[name].annotations.read_only
    assert by_name["write_file"].annotations.destructive
    assert not by_name["replace_in_file"].annotations.read_only
    assert not by_name["rename_symbol"].annotations.read_only


REQUIRED = {
    "list_files": [],
    "read_file": ["path"],
    "search": ["pattern"],
    "replace_in_file": ["path", "old", "new"],
    "write_file": ["path", "text"],
    "rename_symbol": ["old_name", "new_name"],
    "run_tests": ["path"],
    "submit": [],
}


@pytest.mark.parametrize("name", ORDER)
def test_every_schema_is_valid_json_schema_with_required(tools, name):
    schema = next(s for s in tools.specs() if s.name == name).parameters
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert sorted(schema.get("required", [])) == sorted(REQUIRED[name])
    # The schema the agent sees and the validator agree on a bad call.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"no_such_argument": 1}, schema)


# -- rejected calls touch nothing ---------------------------------------------------------
MALFORMED = [
    ("read_file", {}, "path"),  # missing
    ("read_file", {"path": 3}, "path"),  # wrong type
    ("read_file", {"path": "pkg/mod.py", "mode": "r"}, "mode"),  # extra
    ("write_file", {"path": "pkg/mod.py"}, "text"),
    ("write_file", {"path": "pkg/mod.py", "text": None}, "text"),
    ("replace_in_file", {"path": "pkg/mod.py", "old": "Foo", "new": "Baz", "expected_count": "1"}, "expected_count"),
    ("replace_in_file", {"path": "pkg/mod.py", "old": "", "new": "x"}, "old"),
    ("rename_symbol", {"old_name": "Foo"}, "new_name"),
    ("rename_symbol", {"old_name": "Foo", "new_name": "Baz", "path": ["pkg"]}, "path"),
    ("rename_symbol", {"old_name": "Foo", "new_name": "Baz", "paths": "pkg"}, "paths"),
    ("search", {"pattern": "Foo", "regex": "yes"}, "regex"),
    ("run_tests", {"path": ["tests/test_pkg.py"]}, "path"),
    ("submit", {"answer": "done"}, "answer"),
]


@pytest.mark.parametrize(("tool", "args", "field"), MALFORMED)
def test_malformed_call_is_rejected_before_touching_the_world(tools, world, tool, args, field):
    before = world.snapshot()
    obs = tools.call(world, tool, args)
    refused(obs, "invalid_arguments", field)
    assert world.snapshot() == before
    assert tools.cost_minutes(tool, obs) == tools.minutes_per_call


def test_non_dict_arguments_and_unknown_tool(tools, world):
    digest = world.workspace.digest()
    refused(tools.call(world, "read_file", None), "invalid_arguments")  # type: ignore[arg-type]
    refused(tools.call(world, "delete_everything", {}), "unknown_tool")
    assert world.workspace.digest() == digest


# -- reads ----------------------------------------------------------------------------------
def test_list_and_read(tools, world):
    assert tools.call(world, "list_files", {}).data == {"files": world.workspace.list()}
    assert tools.call(world, "list_files", {"prefix": "pkg"}).data["files"] == [
        "pkg/__init__.py",
        "pkg/mod.py",
        "pkg/use.py",
    ]
    assert tools.call(world, "read_file", {"path": "pkg/use.py"}).data == {"path": "pkg/use.py", "text": USE}
    refused(tools.call(world, "read_file", {"path": "pkg/nope.py"}), "not_found", "path")
    refused(tools.call(world, "read_file", {"path": "../etc/passwd"}), "invalid_path", "path")


def test_search_plain_word_paths(tools, world):
    data = tools.call(world, "search", {"pattern": "Foo"}).data
    assert data["count"] == len(data["hits"]) == 8
    assert data["files"] == ["README.md", "pkg/mod.py", "pkg/use.py"]
    word = tools.call(world, "search", {"pattern": "Foo", "word": True, "paths": ["pkg/use.py"]}).data
    assert [h["line"] for h in word["hits"]] == [1, 5]
    assert word["hits"][0] == {"path": "pkg/use.py", "line": 1, "text": "from pkg.mod import Foo, FooBar"}
    refused(tools.call(world, "search", {"pattern": "Foo", "paths": ["src"]}), "not_found", "paths")
    refused(tools.call(world, "search", {"pattern": "(", "regex": True}), "invalid_pattern", "pattern")


def test_search_identifier_only_keeps_files_where_it_is_code(tools):
    world = make_world({"docs/notes.py": "x = 'Foo'  # Foo\n", "broken.py": "def (:\n"})
    data = tools.call(world, "search", {"pattern": "Foo", "identifier": True}).data
    assert data["files"] == ["pkg/mod.py", "pkg/use.py"]
    assert {h["path"] for h in data["hits"]} == {"pkg/mod.py", "pkg/use.py"}
    assert data["skipped"] == ["broken.py"]


# -- writes -----------------------------------------------------------------------------
def test_replace_with_expected_count_is_all_or_nothing(tools, world):
    before = world.workspace.digest()
    obs = tools.call(world, "replace_in_file", {"path": "pkg/use.py", "old": "Foo", "new": "Baz", "expected_count": 1})
    refused(obs, "precondition_failed", "expected_count")
    assert "found 4" in obs.error.message
    assert world.workspace.digest() == before
    ok = tools.call(world, "replace_in_file", {"path": "pkg/use.py", "old": "Foo", "new": "Baz", "expected_count": 4})
    assert ok.ok and ok.data == {"path": "pkg/use.py", "replacements": 4}
    assert "Foo" not in world.workspace.read("pkg/use.py")
    rx = tools.call(world, "replace_in_file", {"path": "pkg/mod.py", "old": r"\bFoo\b", "new": "Baz", "regex": True})
    assert rx.data["replacements"] == 5
    refused(tools.call(world, "replace_in_file", {"path": "nope.py", "old": "a", "new": "b"}), "not_found", "path")


def test_write_file(tools, world):
    obs = tools.call(world, "write_file", {"path": "pkg/new.py", "text": "x = 1\n"})
    assert obs.ok and obs.data == {"path": "pkg/new.py", "chars": 6}
    assert world.workspace.read("pkg/new.py") == "x = 1\n"
    assert tools.call(world, "write_file", {"path": "./pkg/sub/y.py", "text": ""}).ok
    before = world.workspace.digest()
    refused(tools.call(world, "write_file", {"path": "pkg", "text": ""}), "precondition_failed", "path")
    refused(tools.call(world, "write_file", {"path": "pkg/mod.py/x", "text": ""}), "precondition_failed", "path")
    refused(tools.call(world, "write_file", {"path": "../x", "text": ""}), "invalid_path", "path")
    assert world.workspace.digest() == before


# -- rename_symbol ------------------------------------------------------------------------
def test_rename_symbol_renames_identifiers_only(tools, world):
    obs = tools.call(world, "rename_symbol", {"old_name": "Foo", "new_name": "Widget"})
    assert obs.ok, obs.error
    assert obs.data == {
        "old_name": "Foo",
        "new_name": "Widget",
        "files_changed": ["pkg/mod.py", "pkg/use.py"],
        "occurrences": 4,
        # Prose and data are not renamed, but the result names every place they mention Foo.
        "unrenamed_mentions": [
            {"path": "pkg/mod.py", "line": 2, "kind": "docstring"},
            {"path": "pkg/mod.py", "line": 10, "kind": "string"},
            {"path": "pkg/mod.py", "line": 10, "kind": "comment"},
            {"path": "pkg/use.py", "line": 5, "kind": "comment"},
        ],
        "unrenamed_mentions_total": 4,
    }
    mod = world.workspace.read("pkg/mod.py")
    assert "class Widget:" in mod and "return Widget()" in mod
    assert "FooBar = 2" in mod and "foo_count = 3" in mod
    assert "'''A Foo, not FooBar.'''" in mod
    assert 'label = "Foo"  # Foo is named in a string and in this comment' in mod
    assert "from pkg.mod import Widget, FooBar" in world.workspace.read("pkg/use.py")
    assert "# Foo instances" in world.workspace.read("pkg/use.py")
    assert world.workspace.read("README.md") == "Foo is the main class.\n"
    for path in ("pkg/mod.py", "pkg/use.py"):
        assert identifier_counts(world.workspace.read(path))["Foo"] == 0
    report = tools.call(world, "run_tests", {"path": "tests/test_pkg.py"}).data
    assert report["collection_error"] is None and "test_make" in report["passed"]


def test_rename_symbol_respects_paths(tools, world):
    obs = tools.call(world, "rename_symbol", {"old_name": "Foo", "new_name": "Widget", "paths": ["pkg/use.py"]})
    assert obs.data["files_changed"] == ["pkg/use.py"]
    assert "class Foo:" in world.workspace.read("pkg/mod.py")


@pytest.mark.parametrize(
    ("args", "code", "field"),
    [
        ({"old_name": "Foo", "new_name": "FooBar"}, "precondition_failed", "new_name"),  # collision
        ({"old_name": "Foo", "new_name": "make"}, "precondition_failed", "new_name"),
        ({"old_name": "Foo", "new_name": "Foo"}, "precondition_failed", "new_name"),
        ({"old_name": "Foo", "new_name": "class"}, "precondition_failed", "new_name"),
        ({"old_name": "Foo", "new_name": "2x"}, "precondition_failed", "new_name"),
        ({"old_name": "foo-bar", "new_name": "x"}, "precondition_failed", "old_name"),
        ({"old_name": "Nothing", "new_name": "Widget"}, "not_found", "old_name"),
        ({"old_name": "Foo", "new_name": "Widget", "paths": ["src"]}, "not_found", "paths"),
    ],
)
def test_rename_symbol_preconditions_change_nothing(tools, world, args, code, field):
    before = world.workspace.digest()
    refused(tools.call(world, "rename_symbol", args), code, field)
    assert world.workspace.digest() == before


def test_rename_symbol_refuses_when_a_relevant_file_does_not_parse(tools):
    world = make_world({"pkg/broken.py": "from pkg.mod import Foo\ndef oops(:\n"})
    before = world.workspace.digest()
    obs = tools.call(world, "rename_symbol", {"old_name": "Foo", "new_name": "Widget"})
    refused(obs, "precondition_failed", "paths")
    assert "pkg/broken.py" in obs.error.message
    assert world.workspace.digest() == before


def test_rename_symbol_ignores_unparsable_files_that_mention_neither_name(tools):
    world = make_world({"scratch.py": "def oops(:\n"})
    obs = tools.call(world, "rename_symbol", {"old_name": "Foo", "new_name": "Widget"})
    assert obs.ok and obs.data["files_changed"] == ["pkg/mod.py", "pkg/use.py"]
    assert world.workspace.read("scratch.py") == "def oops(:\n"


def test_rename_symbol_reaches_names_inside_fstrings(tools):
    world = make_world({"pkg/fmt.py": "from pkg.mod import Foo\nmsg = f'{Foo}'\n"})
    obs = tools.call(world, "rename_symbol", {"old_name": "Foo", "new_name": "Widget"})
    assert obs.ok
    assert world.workspace.read("pkg/fmt.py").endswith("f'{Widget}'\n")


def test_rename_symbol_is_transactional_when_the_postcondition_fails(tools, monkeypatch):
    import harness.runtime.tools.typed_rename as rename_module
    from harness.world.pyrefs import SymbolRename

    def misses_one(source, old, new):  # a faulty primitive that leaves the last use behind
        head, sep, tail = source.rpartition(old)
        return SymbolRename(head.replace(old, new) + sep + tail, head.count(old), 0, 0)

    monkeypatch.setattr(rename_module, "rename_symbol", misses_one)
    world = make_world({"pkg/two.py": "from pkg.mod import Foo\nx = Foo()\n"})
    before = world.workspace.digest()
    obs = tools.call(world, "rename_symbol", {"old_name": "Foo", "new_name": "Widget"})
    refused(obs, "postcondition_failed", "old_name")
    assert world.workspace.digest() == before


# -- tests and submit -----------------------------------------------------------------------
def test_run_tests_reports_failures_structured(tools, world):
    obs = tools.call(world, "run_tests", {"path": "tests/test_pkg.py"})
    assert obs.ok
    report = obs.data
    assert set(report) == {"module", "collected", "passed", "failures", "collection_error", "timed_out",
                           "over_budget", "ok"}
    assert report["collected"] == 3 and report["passed"] == ["test_make"] and report["ok"] is False
    failures = {f["test"]: f for f in report["failures"]}
    assert failures["test_build"] == {
        "test": "test_build",
        "error_type": "AssertionError",
        "message": "expected three",
        "path": "tests/test_pkg.py",
        "line": 10,
    }
    assert failures["test_types"]["error_type"] == "TypeError"
    assert tools.cost_minutes("run_tests", obs) == 2.0


def test_run_tests_collection_error_and_missing_module(tools):
    world = make_world({"tests/test_bad.py": "from pkg.mod import Nope\n"})
    report = tools.call(world, "run_tests", {"path": "tests/test_bad.py"}).data
    assert report["collection_error"]["error_type"] == "ImportError"
    assert report["collection_error"]["path"] == "tests/test_bad.py"
    missing = tools.call(world, "run_tests", {"path": "tests/test_nope.py"})
    refused(missing, "not_found", "path")
    assert tools.cost_minutes("run_tests", missing) == tools.minutes_per_call


def test_submit_and_costs(tools, world):
    obs = tools.call(world, "submit", {"answer": {"renamed": 4}})
    assert obs.ok and obs.data == {"submitted": True}
    assert world.submission == {"renamed": 4}
    assert tools.call(world, "submit", {}).ok and world.submission == {}
    assert tools.cost_minutes("submit", obs) == 0.5
    assert TypedTools(TypedToolOptions(minutes_per_call=1.5)).cost_minutes("read_file", obs) == 1.5


def test_determinism_same_world_same_call_same_observation(tools):
    calls = [
        ("search", {"pattern": "Foo", "word": True}),
        ("rename_symbol", {"old_name": "Foo", "new_name": "Widget"}),
        ("rename_symbol", {"old_name": "Foo", "new_name": "FooBar"}),
        ("run_tests", {"path": "tests/test_pkg.py"}),
        ("read_file", {"path": 1}),
    ]
    for tool, args in calls:
        first, second = make_world(), make_world()
        a, b = tools.call(first, tool, args), tools.call(second, tool, args)
        assert a.model_dump() == b.model_dump()
        assert first.snapshot() == second.snapshot()


def test_call_budgets_refuse_before_the_world_is_touched():
    from harness.runtime.tools.base import TOOL_LAYERS
    from harness.world import Workspace, World

    tools = TOOL_LAYERS.build("typed", {"max_calls": 3, "per_tool": {"write_file": 1}})
    world = World(workspace=Workspace({"a.py": "x = 1\n"}))
    assert tools.call(world, "write_file", {"path": "b.py", "text": "y"}).ok
    second = tools.call(world, "write_file", {"path": "c.py", "text": "z"})
    assert not second.applied and second.error.code == "budget_exhausted" and not world.workspace.exists("c.py")
    assert tools.call(world, "read_file", {"path": "a.py"}).ok
    assert tools.call(world, "read_file", {"path": "a.py"}).ok
    over = tools.call(world, "read_file", {"path": "a.py"})
    assert over.error.code == "budget_exhausted"


def test_a_bad_budget_is_a_config_error():
    from harness.core.errors import ConfigError
    from harness.runtime.tools.base import TOOL_LAYERS

    with pytest.raises(ConfigError, match="layers.tools.config.max_calls"):
        TOOL_LAYERS.build("typed", {"max_calls": -1}, where="layers.tools.config")
