"""``cmdline.split``: shlex's words and errors, in linear time; the shell layer uses it."""

from __future__ import annotations

import shlex

import pytest

from harness.runtime.tools import cmdline
from harness.runtime.tools.access_rules import shell_accesses
from harness.runtime.tools.shell import ShellToolOptions, ShellTools
from harness.runtime.tools.shell_ops import split_heredoc
from harness.world import Workspace, World

CASES = [
    "",
    " \t\r\n ",
    "ls -l pkg",
    "a'b c'd",
    "'' \"\" x''",
    r'"a\"b\\c\$d\`e\nf"',  # in double quotes only \\ and \" are escapes
    r"s/\bFoo\b/Bar/g",  # unquoted backslashes vanish: the layer's documented leniency
    "a\\\nb",  # an escaped newline stays in the word
    "#not a comment #x",
    "é ß 漢字 🙂 \u00a0x\u2028y",  # only ' \t\r\n' separate words
    "echo 'it''s'",
    "x\\ y \\'z\\\"",
]


@pytest.mark.parametrize("line", CASES)
def test_words_are_shlex_words(line):
    assert cmdline.split(line) == shlex.split(line, posix=True)


@pytest.mark.parametrize(("line", "message"), [
    ("echo 'open", "No closing quotation"),
    ('echo "open', "No closing quotation"),
    ('echo "open\\"', "No closing quotation"),
    ("echo trailing\\", "No escaped character"),
    ('echo "trailing\\', "No escaped character"),
    ("'a' \"b\" 'c", "No closing quotation"),
])
def test_errors_are_shlex_errors(line, message):
    with pytest.raises(ValueError) as ours:
        cmdline.split(line)
    with pytest.raises(ValueError) as theirs:
        shlex.split(line, posix=True)
    assert str(ours.value) == str(theirs.value) == message


@pytest.mark.parametrize("shape", ["one word", "many words", "quoted", "escapes"])
def test_a_five_megabyte_line_is_split(shape):
    n = 5_000_000
    line = {
        "one word": "a" * n,
        "many words": "ab " * (n // 3),
        "quoted": "'" + "a b" * (n // 3) + "'",
        "escapes": '"' + '\\"x' * (n // 3) + '"',
    }[shape]
    words = cmdline.split(line)
    assert sum(map(len, words)) > n // 2


def test_a_heredoc_search_over_a_long_quoted_line_finishes():
    # every '<<' sits inside quotes: each used to rescan the line from its start
    line = "cat '" + "<<EOF " * 50_000 + "'"
    assert split_heredoc(line) is None
    assert split_heredoc("cat > f '<<x' <<'EOF'\nbody\nEOF") == ("cat > f '<<x'", "body\n")


def test_the_shell_and_the_access_map_split_the_same_way():
    world = World(Workspace({"pkg/a.py": "class Foo:\n    pass\n"}))
    result, ran = ShellTools().run(world, r"sed -i s/\bFoo\b/Bar/g pkg/a.py")
    assert ran and result.code == 0
    assert world.workspace.read("pkg/a.py") == "class Foo:\n    pass\n"  # pattern became 'bFoob'
    result, ran = ShellTools().run(world, "echo 'unclosed")
    assert not ran and "unexpected EOF while looking for matching quote" in result.err
    assert [a.resource for a in shell_accesses("cat 'pkg/a b.py' pkg/c.py")] == ["file:pkg/a b.py", "file:pkg/c.py"]
    assert shell_accesses("cat 'unclosed") == []


def test_a_sed_expression_with_a_long_flag_run_parses():
    # flags were collected a character at a time: quadratic on a long run
    shell = ShellTools(ShellToolOptions(max_command_chars=10_000_000))
    world = World(Workspace({"f.txt": "aaa\n"}))
    result, ran = shell.run(world, "sed s/a/b/" + "g" * 2_000_000 + " f.txt")
    assert ran and result.out == "bbb\n"
