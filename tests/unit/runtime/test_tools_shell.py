"""The ``shell`` tool layer: one free-text command, GNU-like output, lenient parsing."""

from __future__ import annotations

import pytest

from harness.core.errors import ConfigError
from harness.runtime.tools import TOOL_LAYERS
from harness.runtime.tools.shell import ShellTools
from harness.world import Workspace, World

MOD = """\
class Foo:
    pass


FooBar = Foo
label = "Foo"  # Foo Foo
"""

USE = "from pkg.mod import Foo\nx = Foo(); y = Foo()\n"

TESTS = """\
from pkg.mod import Foo


def test_ok():
    assert Foo


def test_broken():
    assert 1 == 2, "numbers differ"


def test_raises():
    raise KeyError("k")
"""


def make_world(extra: dict[str, str] | None = None) -> World:
    files = {
        "pkg/__init__.py": "",
        "pkg/mod.py": MOD,
        "pkg/use.py": USE,
        "tests/test_mod.py": TESTS,
        "notes.txt": "a.b axb\nfoo FOO\n",
    }
    files.update(extra or {})
    return World(Workspace(files))


@pytest.fixture
def shell() -> ShellTools:
    return ShellTools()


@pytest.fixture
def world() -> World:
    return make_world()


def run(shell: ShellTools, world: World, command: str) -> tuple[str, bool]:
    obs = shell.call(world, "shell", {"command": command})
    assert obs.tool == "shell" and obs.data is None and obs.error is None
    return obs.text, obs.ok


# -- the tool itself --------------------------------------------------------------------------
def test_one_tool_with_the_contract_schema(shell):
    (spec,) = shell.specs()
    assert spec.name == "shell"
    assert spec.parameters == {
        "type": "object",
        "properties": {"command": {"type": "string"}},
        "required": ["command"],
    }
    assert TOOL_LAYERS.entry("shell").factory is ShellTools
    assert isinstance(TOOL_LAYERS.build("shell", {"test_timeout_s": 5}), ShellTools)
    with pytest.raises(ConfigError):
        TOOL_LAYERS.build("shell", {"verbose": True})


def test_unknown_command_is_127_text(shell, world):
    before = world.workspace.digest()
    obs = shell.call(world, "shell", {"command": "frobnicate --all"})
    assert obs.text == "bash: frobnicate: command not found\n"
    assert obs.ok is False and obs.applied is False
    assert world.workspace.digest() == before
    assert shell.cost_minutes("shell", obs) == shell.minutes_per_call


def test_unterminated_quote_and_operators_run_nothing(shell, world):
    before = world.workspace.digest()
    text, ok = run(shell, world, "sed -i 's/Foo/Bar/g pkg/mod.py")
    assert (text, ok) == ("bash: unexpected EOF while looking for matching quote\n", False)
    text, ok = run(shell, world, "grep -rn Foo . | head")
    assert not ok and "'|'" in text
    text, ok = run(shell, world, "rm pkg/mod.py && ls")
    assert not ok and "'&&'" in text
    text, ok = run(shell, world, "rm pkg/mod.py\nls")
    assert not ok and "'newline'" in text
    assert run(shell, world, "cat notes.txt\n") == ("a.b axb\nfoo FOO\n", True)
    assert world.workspace.digest() == before
    assert run(shell, world, "grep -cF '|' notes.txt") == ("notes.txt:0\n", False)  # quoted: fine


def test_missing_command_argument_is_text(shell, world):
    obs = shell.call(world, "shell", {})
    assert not obs.ok and obs.text.startswith("bash:") and obs.applied is False


# -- ls, cat, echo, rm --------------------------------------------------------------------------
def test_ls_is_recursive_like_find(shell, world):
    assert run(shell, world, "ls pkg") == ("pkg/__init__.py\npkg/mod.py\npkg/use.py\n", True)
    assert run(shell, world, "ls ./pkg")[0].splitlines()[0] == "./pkg/__init__.py"
    assert run(shell, world, "ls")[0].splitlines() == world.workspace.list()
    text, ok = run(shell, world, "ls src")
    assert (text, ok) == ("ls: cannot access 'src': No such file or directory\n", False)


def test_cat(shell, world):
    assert run(shell, world, "cat pkg/use.py notes.txt") == (USE + "a.b axb\nfoo FOO\n", True)
    assert run(shell, world, "cat pkg/nope.py") == ("cat: pkg/nope.py: No such file or directory\n", False)
    assert run(shell, world, "cat pkg") == ("cat: pkg: Is a directory\n", False)


def test_echo_redirect_and_the_truncation_trap(shell, world):
    assert run(shell, world, "echo hello world > out.txt") == ("", True)
    assert run(shell, world, "echo again >> out.txt") == ("", True)
    assert world.workspace.read("out.txt") == "hello world\nagain\n"
    # As in bash, '>' truncates the target before sed reads it.
    assert run(shell, world, "sed 's/a/b/' notes.txt > notes.txt") == ("", True)
    assert world.workspace.read("notes.txt") == ""
    assert run(shell, world, "echo 'a > b'") == ("a > b\n", True)


def test_rm(shell, world):
    assert run(shell, world, "rm pkg") == ("rm: cannot remove 'pkg': Is a directory\n", False)
    assert run(shell, world, "rm notes.txt") == ("", True)
    assert not world.workspace.exists("notes.txt")
    assert run(shell, world, "rm notes.txt")[1] is False
    assert run(shell, world, "rm -f notes.txt") == ("", True)
    assert run(shell, world, "rm -rf .")[1] is False and len(world.workspace) == 4
    assert run(shell, world, "rm -r tests") == ("", True)
    assert world.workspace.list("tests") == []


# -- grep --------------------------------------------------------------------------------------
def test_grep_output_formats(shell, world):
    assert run(shell, world, "grep -n Foo pkg/use.py") == (
        "pkg/use.py:1:from pkg.mod import Foo\npkg/use.py:2:x = Foo(); y = Foo()\n",
        True,
    )
    assert run(shell, world, "grep Foo pkg/use.py")[0].splitlines()[0] == "pkg/use.py:from pkg.mod import Foo"
    assert run(shell, world, "grep -rl Foo .") == ("./pkg/mod.py\n./pkg/use.py\n./tests/test_mod.py\n", True)
    assert run(shell, world, "grep -l Foo") == ("pkg/mod.py\npkg/use.py\ntests/test_mod.py\n", True)
    assert run(shell, world, "grep -c Foo pkg/mod.py pkg/use.py") == ("pkg/mod.py:3\npkg/use.py:2\n", True)


def test_grep_combined_flags_equal_separate_flags(shell, world):
    combined = run(shell, world, "grep -rnw Foo pkg")
    separate = run(shell, world, "grep -r -n -w Foo pkg")
    assert combined == separate
    assert combined[0].splitlines() == [
        "pkg/mod.py:1:class Foo:",
        "pkg/mod.py:5:FooBar = Foo",
        'pkg/mod.py:6:label = "Foo"  # Foo Foo',
        "pkg/use.py:1:from pkg.mod import Foo",
        "pkg/use.py:2:x = Foo(); y = Foo()",
    ]
    # -w drops the line where Foo only occurs inside a longer name.
    world.workspace.write("pkg/other.py", "FooBar = 1\n")
    assert "pkg/other.py" not in run(shell, world, "grep -rlw Foo pkg")[0]
    assert "pkg/other.py" in run(shell, world, "grep -rl Foo pkg")[0]


def test_grep_regex_fixed_case(shell, world):
    assert run(shell, world, "grep -c a.b notes.txt") == ("notes.txt:1\n", True)
    assert run(shell, world, "grep -o -F -n a.b notes.txt") == ("notes.txt:1:a.b axb\n", True)  # -o ignored
    assert run(shell, world, "grep -in foo notes.txt") == ("notes.txt:2:foo FOO\n", True)
    assert run(shell, world, "grep -E 'axb|nothing' notes.txt") == ("notes.txt:a.b axb\n", True)
    assert run(shell, world, "grep -e foo -e a.b notes.txt")[0].count("\n") == 2
    assert run(shell, world, "grep -rn --include=*.txt foo .") == ("./notes.txt:2:foo FOO\n", True)


def test_grep_errors_and_exit_codes(shell, world):
    assert run(shell, world, "grep nothing_here notes.txt") == ("", False)
    assert run(shell, world, "grep Foo pkg") == ("grep: pkg: Is a directory\n", False)
    assert run(shell, world, "grep Foo nope.py") == ("grep: nope.py: No such file or directory\n", False)
    assert run(shell, world, "grep")[0].startswith("Usage: grep")
    text, ok = run(shell, world, "grep -E '(' notes.txt")
    assert not ok and text.startswith("grep: ")


# -- sed --------------------------------------------------------------------------------------
def test_sed_first_match_per_line_without_g(shell, world):
    text, ok = run(shell, world, "sed 's/Foo/Bar/' pkg/use.py")
    assert ok and text == "from pkg.mod import Bar\nx = Bar(); y = Foo()\n"
    assert world.workspace.read("pkg/use.py") == USE  # no -i: printed only
    assert run(shell, world, "sed 's/Foo/Bar/g' pkg/use.py")[0] == "from pkg.mod import Bar\nx = Bar(); y = Bar()\n"
    assert run(shell, world, "sed 's/Foo/Bar/2' pkg/use.py")[0] == "from pkg.mod import Foo\nx = Foo(); y = Bar()\n"


def test_sed_in_place_with_quoted_word_boundaries(shell, world):
    assert run(shell, world, r"sed -i 's/\bFoo\b/Bar/g' pkg/mod.py") == ("", True)
    assert world.workspace.read("pkg/mod.py") == MOD.replace("class Foo", "class Bar").replace(
        "= Foo\n", "= Bar\n"
    ).replace('"Foo"  # Foo Foo', '"Bar"  # Bar Bar')
    assert "FooBar = Bar" in world.workspace.read("pkg/mod.py")


def test_sed_unquoted_backslashes_vanish_into_a_silent_no_op(shell, world):
    before = world.workspace.digest()
    assert run(shell, world, r"sed -i s/\bFoo\b/Bar/g pkg/mod.py") == ("", True)
    assert world.workspace.digest() == before  # the pattern was 'bFoob'
    # Double quotes keep the backslash, as in bash.
    assert run(shell, world, r'sed -i "s/\bFoo\b/Bar/g" pkg/use.py') == ("", True)
    assert world.workspace.read("pkg/use.py") == USE.replace("Foo", "Bar")


def test_sed_missing_final_delimiter_runs_anyway(shell, world):
    text, ok = run(shell, world, "sed 's/Foo/Bar' pkg/use.py")
    assert ok and text == "from pkg.mod import Bar\nx = Bar(); y = Foo()\n"
    assert run(shell, world, "sed -i 's|Foo|Baz' pkg/use.py") == ("", True)
    assert world.workspace.read("pkg/use.py").startswith("from pkg.mod import Baz\n")


def test_sed_replacement_syntax_and_flags(shell, world):
    assert run(shell, world, r"sed -E 's/(a)\.(b)/[\2\1&]/' notes.txt")[0] == "[baa.b] axb\nfoo FOO\n"
    assert run(shell, world, "sed 's/foo/bar/gI' notes.txt")[0] == "a.b axb\nbar bar\n"
    assert run(shell, world, "sed 's/foo/bar/gzq' notes.txt")[0] == "a.b axb\nbar FOO\n"  # unknown flags ignored
    assert run(shell, world, "sed -n 's/foo/bar/p' notes.txt") == ("bar FOO\n", True)
    assert run(shell, world, "sed -e 's/a/1/' -e 's/foo/2/' notes.txt")[0] == "1.b axb\n2 FOO\n"
    assert run(shell, world, "sed 's/a/1/;s/foo/2/' notes.txt")[0] == "1.b axb\n2 FOO\n"
    assert run(shell, world, "sed 's#a.b#x/y#' notes.txt")[0] == "x/y axb\nfoo FOO\n"


def test_sed_errors(shell, world):
    before = world.workspace.digest()
    assert run(shell, world, "sed -i '5d' notes.txt") == (
        "sed: -e expression #1, char 1: unknown command: `5'\n",
        False,
    )
    assert run(shell, world, "sed 'y/abc/xyz/' notes.txt")[0].endswith("unknown command: `y'\n")
    assert run(shell, world, "sed 's/foo' notes.txt") == (
        "sed: -e expression #1, char 5: unterminated `s' command\n",
        False,
    )
    assert "invalid reference \\1" in run(shell, world, r"sed 's/foo/\1/' notes.txt")[0]
    assert run(shell, world, "sed -i 's/a/b/' nope.txt") == (
        "sed: can't read nope.txt: No such file or directory\n",
        False,
    )
    assert world.workspace.digest() == before


# -- tests ----------------------------------------------------------------------------------
SUMMARY = [
    "FAILED tests/test_mod.py::test_broken - AssertionError: numbers differ (tests/test_mod.py:9)",
    "FAILED tests/test_mod.py::test_raises - KeyError: 'k' (tests/test_mod.py:13)",
    "== 2 failed, 1 passed in 0.01s ==",
]


@pytest.mark.parametrize(
    "command",
    ["python -m pytest tests/test_mod.py", "pytest -q tests/test_mod.py", "python tests/test_mod.py", "pytest"],
)
def test_pytest_summary(shell, world, command):
    obs = shell.call(world, "shell", {"command": command})
    assert obs.text.splitlines() == SUMMARY
    assert obs.ok is False
    assert shell.cost_minutes("shell", obs) == shell.minutes_per_test_run


def test_pytest_passing_selection_and_collection_error(shell, world):
    assert run(shell, world, "pytest tests/test_mod.py::test_ok") == ("== 1 passed in 0.01s ==\n", True)
    world.workspace.write("tests/test_bad.py", "from pkg.mod import Nope\n")
    text, ok = run(shell, world, "python -m pytest tests/test_bad.py")
    assert not ok
    assert text.splitlines() == [
        "ERROR collecting tests/test_bad.py - ImportError: cannot import name 'Nope' from 'pkg.mod' "
        "(pkg/mod.py) (tests/test_bad.py:1)",
        "== 1 error in 0.01s ==",
    ]
    text, ok = run(shell, world, "pytest tests/test_missing.py")
    assert not ok and text == "ERROR: file or directory not found: tests/test_missing.py\n"


def test_python_script_and_costs(shell, world):
    obs = shell.call(world, "shell", {"command": "python pkg/mod.py"})
    assert (obs.text, obs.ok) == ("", True)
    assert shell.cost_minutes("shell", obs) == shell.minutes_per_call
    world.workspace.write("pkg/bad.py", "1/0\n")
    text, ok = run(shell, world, "python pkg/bad.py")
    assert not ok and text.endswith("ZeroDivisionError: division by zero\n")
    assert run(shell, world, "python nope.py")[0].startswith("python: can't open file 'nope.py'")


def test_submit(shell, world):
    assert run(shell, world, "submit renamed Foo to Bar") == ("submitted\n", True)
    assert world.submission == {"text": "renamed Foo to Bar"}


def test_determinism(shell):
    for command in ["grep -rnw Foo .", r"sed -i 's/\bFoo\b/X/g' pkg/mod.py", "pytest", "nope"]:
        first, second = make_world(), make_world()
        a = shell.call(first, "shell", {"command": command})
        b = shell.call(second, "shell", {"command": command})
        assert a.model_dump() == b.model_dump()
        assert first.snapshot() == second.snapshot()


def test_a_missing_redirect_target_is_a_syntax_error_before_anything_opens():
    world = make_world()
    before = world.digest()
    obs = TOOL_LAYERS.build("shell").call(world, "shell", {"command": "echo hi > out.txt >"})
    assert not obs.applied and "syntax error" in obs.text and world.digest() == before


def test_a_failed_later_redirect_leaves_the_earlier_truncation_and_says_so():
    world = make_world({"notes.txt": "keep me\n"})
    obs = TOOL_LAYERS.build("shell").call(world, "shell", {"command": "echo hi > notes.txt > pkg"})
    assert "Is a directory" in obs.text and obs.applied  # bash opened notes.txt first
    assert world.workspace.read("notes.txt") == ""


def test_a_command_that_removes_its_own_output_file_leaves_it_gone():
    world = make_world()
    obs = TOOL_LAYERS.build("shell").call(world, "shell", {"command": "rm notes.txt > notes.txt"})
    assert obs.applied and not world.workspace.exists("notes.txt")
