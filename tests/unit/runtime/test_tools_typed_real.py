"""The typed ``rename_symbol`` on excerpts of real packages (``tests/data/realsyntax``):
star imports, ``__all__``, decorators, doctests, string references, files that do not
parse; and the ``no_identifier`` checker agreeing with what the tool did."""

from __future__ import annotations

import pytest

from harness.runtime.port import Observation
from harness.runtime.tools.typed import TypedTools
from harness.workload.checkers.code import no_identifier
from harness.world import Workspace, World, run_test_module
from harness.world.pycode import identifier_counts
from tests.realsyntax import package


def world_of(name: str, extra: dict[str, str] | None = None) -> World:
    return World(Workspace({**package(name), **(extra or {})}))


def rename(world: World, old: str, new: str, **more) -> Observation:
    return TypedTools().call(world, "rename_symbol", {"old_name": old, "new_name": new, **more})


def test_star_imports_across_modules_and_the_suite_still_passes():
    world = world_of("toolz")
    obs = rename(world, "frequencies", "count_values")
    assert obs.ok, obs.error
    ws = world.workspace
    # toolz/__init__.py re-exports by `from .itertoolz import *`: it names nothing, and the
    # test module reaches the new name through `from toolz import *` because __all__ moved.
    assert obs.data == {"old_name": "frequencies", "new_name": "count_values",
                        "files_changed": ["toolz/itertoolz.py", "toolz/recipes.py", "toolz/tests/test_star.py"],
                        "occurrences": 8, "all_entries": 1, "doctest_names": 1}
    assert "__all__ = ('remove', 'first', 'count_values')" in ws.read("toolz/itertoolz.py")
    assert ">>> count_values(['cat', 'cat', 'ox'" in ws.read("toolz/itertoolz.py")
    assert ws.read("toolz/__init__.py") == package("toolz")["toolz/__init__.py"]
    assert run_test_module(ws, "toolz/tests/test_star.py").ok
    assert no_identifier(world, None, "frequencies")[0]


def test_a_rename_the_star_import_hides_is_still_found_in_its_users():
    world = world_of("toolz")
    obs = rename(world, "countby", "count_by")
    assert obs.ok and obs.data["doctest_names"] == 2 and obs.data["all_entries"] == 1
    assert identifier_counts(world.workspace.read("toolz/tests/test_star.py"))["count_by"] == 3
    # The "See Also" list of another function's docstring is prose: reported, not renamed.
    assert obs.data["unrenamed_mentions"] == [{"path": "toolz/itertoolz.py", "line": 41, "kind": "docstring"}]
    assert run_test_module(world.workspace, "toolz/tests/test_star.py").ok


def test_attribute_uses_and_the_checker_agree():
    world = world_of("six")
    obs = rename(world, "add_metaclass", "with_meta")
    assert obs.ok and obs.data["files_changed"] == ["six.py", "test_six.py"]
    assert obs.data["occurrences"] == 4  # the def and three `six.add_metaclass(Meta)(X)`
    assert "X = six.with_meta(Meta)(X)" in world.workspace.read("test_six.py")
    assert no_identifier(world, None, "add_metaclass") == (True, "`add_metaclass` appears in none of 2 Python files")
    assert run_test_module(world.workspace, "test_six.py").ok


def test_reprs_a_doctest_compares_are_reported_as_doctest_output():
    world = world_of("boltons")
    obs = rename(world, "OrderedMultiDict", "OMDict")
    assert obs.ok and obs.data["all_entries"] == 1 and obs.data["doctest_names"] == 1
    kinds = {(m["line"], m["kind"]) for m in obs.data["unrenamed_mentions"]}
    assert kinds == {(39, "docstring"), (46, "docstring"), (55, "doctest_output"), (59, "doctest_output"),
                     (63, "doctest_output")}
    assert obs.data["unrenamed_mentions_total"] == 5


@pytest.mark.parametrize("old", ["fromkeys", "type_checked_classmethod", "type_checked_staticmethod",
                                 "unannotated_property", "typechecked"])
def test_decorated_definitions_are_renamed(old):
    world = world_of("boltons" if old == "fromkeys" else "typeguard")
    obs = rename(world, old, "renamed", skip_unparsable=True)
    assert obs.ok, obs.error
    assert no_identifier(world, None, old, paths=obs.data["files_changed"])[0]
    assert any("def renamed(" in world.workspace.read(p) for p in obs.data["files_changed"])


def test_a_file_that_does_not_parse_refuses_the_call_and_names_its_line():
    world = world_of("typeguard")
    before = world.workspace.digest()
    obs = rename(world, "typechecked", "type_checked")
    assert not obs.ok and not obs.applied and obs.error.code == "precondition_failed"
    assert obs.error.message.startswith("tests/dummymodule_py312.py does not parse (SyntaxError: invalid syntax "
                                        "(line 5)); nothing changed")
    assert "skip_unparsable" in obs.error.message
    assert world.workspace.digest() == before


def test_skipping_unparsable_files_renames_the_rest_together_and_says_so():
    world = world_of("typeguard")
    py312 = world.workspace.read("tests/dummymodule_py312.py")
    obs = rename(world, "typechecked", "type_checked", skip_unparsable=True)
    assert obs.ok
    assert obs.data["skipped"] == [{"path": "tests/dummymodule_py312.py",
                                    "reason": "SyntaxError: invalid syntax (line 5)"}]
    assert obs.data["files_changed"] == ["src/typeguard/__init__.py", "src/typeguard/_decorators.py",
                                         "tests/dummymodule.py"]
    assert world.workspace.read("tests/dummymodule_py312.py") == py312
    assert "from ._decorators import type_checked as type_checked" in world.workspace.read("src/typeguard/__init__.py")


def test_a_python2_file_is_refused_too():
    world = world_of("six", {"test_py2.py": 'import six\nprint "add_metaclass"\n'})
    obs = rename(world, "add_metaclass", "with_meta")
    assert obs.error.code == "precondition_failed" and "test_py2.py does not parse" in obs.error.message
    obs = rename(world, "add_metaclass", "with_meta", skip_unparsable=True)
    assert obs.ok and [s["path"] for s in obs.data["skipped"]] == ["test_py2.py"]


def test_skipping_keeps_the_rest_all_or_nothing(monkeypatch):
    import harness.runtime.tools.typed_rename as rename_module
    from harness.world.pyrefs import SymbolRename

    real = rename_module.rename_symbol

    def breaks_the_second(source, old, new):  # a faulty primitive: one file ends up unparsable
        done = real(source, old, new)
        if "@overload" not in source:
            return done
        return SymbolRename(done.text + "def (\n", done.identifiers, done.all_entries, done.doctest_names)

    monkeypatch.setattr(rename_module, "rename_symbol", breaks_the_second)
    world = world_of("typeguard")
    before = world.workspace.digest()
    obs = rename(world, "typechecked", "type_checked", skip_unparsable=True)
    assert obs.error.code == "postcondition_failed" and not obs.applied
    assert "src/typeguard/_decorators.py no longer parses" in obs.error.message
    assert world.workspace.digest() == before


def test_string_references_are_reported_not_renamed_and_the_list_is_capped():
    many = "".join(f"x{i} = getattr(obj, 'typechecked')\n" for i in range(25))
    world = world_of("typeguard", {"tests/strings.py": "from typeguard import typechecked\n" + many})
    obs = rename(world, "typechecked", "type_checked", skip_unparsable=True)
    assert obs.ok
    assert obs.data["unrenamed_mentions_total"] == 25
    assert obs.data["unrenamed_mentions"] == [{"path": "tests/strings.py", "line": i, "kind": "string"}
                                              for i in range(2, 22)]
    assert identifier_counts(world.workspace.read("tests/strings.py"))["type_checked"] == 1


def test_a_plain_rename_says_exactly_what_it_always_said():
    world = World(Workspace({"pkg/a.py": "def old(x):\n    return x\n", "pkg/b.py": "from pkg.a import old\ny = old(1)\n"}))
    obs = rename(world, "old", "new")
    assert obs.data == {"old_name": "old", "new_name": "new", "files_changed": ["pkg/a.py", "pkg/b.py"],
                        "occurrences": 3}


def test_a_name_already_exported_is_a_collision():
    world = World(Workspace({"pkg/__init__.py": "from pkg.a import *\n__all__ = ['Book']\n",
                             "pkg/a.py": "class Ledger:\n    pass\n"}))
    obs = rename(world, "Ledger", "Book")
    assert obs.error.code == "precondition_failed" and obs.error.field == "new_name"
    assert "pkg/__init__.py" in obs.error.message


def test_a_name_only_an_unparsable_file_uses_is_not_found_and_says_why():
    world = world_of("typeguard")
    obs = rename(world, "ParametrizedClass", "Parametrised", skip_unparsable=True)
    assert obs.error.code == "not_found"
    assert obs.error.message == "'ParametrizedClass' is not an identifier in any .py file (of those that parse; 1 do not)"


def test_names_of_other_libraries_are_renamed_like_every_identifier_but_flagged():
    # toolz calls `itertools.groupby` beside its own `groupby`, and imports itertools' `count`.
    extra = {"toolz/sandbox.py": "import itertools\nimport os.path as osp\nimport toolz.itertoolz\n"
                                 "from itertools import first as it_first\n\n\n"
                                 "def f(seq):\n    return itertools.first(seq), osp.first, toolz.itertoolz.first(seq)\n"}
    world = world_of("toolz", extra)
    obs = rename(world, "first", "head")
    assert obs.ok
    assert "itertools.head(seq), osp.head, toolz.itertoolz.head(seq)" in world.workspace.read("toolz/sandbox.py")
    assert obs.data["foreign_references"] == [{"path": "toolz/sandbox.py", "line": 4, "module": "itertools"},
                                              {"path": "toolz/sandbox.py", "line": 8, "module": "itertools"},
                                              {"path": "toolz/sandbox.py", "line": 8, "module": "os.path"}]
    assert no_identifier(world, None, "first")[0]  # what the checker counts, the tool renamed
