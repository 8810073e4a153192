"""The report's DAG drawing names each tool whole (on two lines) rather than cutting it."""

from harness.paper.dag import TOOL_CHARS, _tool_lines


def test_long_tool_names_break_after_an_underscore_and_stay_whole():
    assert _tool_lines("shell") == "shell"
    assert _tool_lines("replace_in_file") == "replace_in_\nfile"
    assert _tool_lines("delete_host_file").replace("\n", "") == "delete_host_file"
    assert all(len(line) <= TOOL_CHARS for line in _tool_lines("list_host_files").splitlines())


def test_a_name_longer_than_two_lines_is_cut_with_a_mark():
    out = _tool_lines("a" * 40)
    assert out.count("\n") == 1 and out.endswith("…")
