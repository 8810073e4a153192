"""The code-modification strategies hold only ``capacity`` of their own edits in mind and
recover the rest from the observability layer: a causal trace gives back a past call's
arguments (the replaced text), a text log gives lines cut at a terminal's width."""

from functools import cache
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from harness.agents.profile import AgentProfile
from harness.agents.reference.codemod_support import EditMemory, _args_from_line, _edit_from_args
from harness.agents.reference.errors import ErrorProcesses
from harness.runtime.observability import ActionEvent
from harness.runtime.observability.textlog import TextLogLayer
from tests.strategy_support import SHELL, TYPED, run, tasks

FAMILIES = ("dependency_upgrade", "extract_helper", "add_parameter")
FORCED = AgentProfile(slip_rate=0.5, context_capacity=2).model_dump()


@given(st.integers(1, 5), st.lists(st.sampled_from("abcdefgh"), max_size=30))
def test_edit_memory_holds_only_the_most_recent_files(capacity, edits):
    memory = EditMemory(capacity)
    for i, path in enumerate(edits):
        memory[path] = f"{path}{i}"
    recent = list(dict.fromkeys(reversed(edits)))[:capacity]
    assert sorted(memory.held) == sorted(recent)
    assert set(memory.forgotten()) == set(edits) - set(recent)
    for path in recent:  # what is held is the latest intent for that file
        assert memory.held[path] == f"{path}{len(edits) - 1 - edits[::-1].index(path)}"


def _logged(args: dict, tool: str = "replace_in_file") -> str:
    log = TextLogLayer()
    log.record(ActionEvent(tool=tool, args=args))
    return log.history("").text


def test_a_short_text_log_line_gives_back_the_edit_and_a_cut_one_does_not():
    short = _args_from_line(_logged({"path": "a.py", "old": "x = 1\n", "new": "x = 2\n"}))
    assert _edit_from_args("a.py", short).before == "x = 1\n"
    assert _edit_from_args("b.py", short) is None  # another file's edit says nothing about this one
    cut = _logged({"path": "a.py", "old": "x = 1\n" * 50, "new": "x = 2\n" * 50})
    assert cut.endswith("...") and _args_from_line(cut) is None


def test_a_heredoc_write_gives_back_only_what_was_written():
    command = "cat > pkg/a.py <<'EOF'\nimport os\nx = 1\nEOF"
    edit = _edit_from_args("pkg/a.py", {"command": command})
    assert edit.before is None and edit.after == "import os\nx = 1\n"


@cache
def _rates(tools: str) -> dict[str, float]:
    layers = TYPED if tools == "typed" else SHELL
    specs = [s for f in FAMILIES for s in tasks(f"code_modification/{f}", (3, 4, 5), 2)]
    rates = {}
    # Only the strategies' slips in what they write: the calls themselves never err here,
    # so what is measured is recovering forgotten edits, nothing else.
    with mock.patch.object(ErrorProcesses, "mistake", lambda self, changes=True: None):
        for obs in ("causal", "textlog"):
            chosen = {**layers, "observability": {"variant": obs}}
            rates[obs] = _rate(specs, chosen)
    return rates


def _rate(specs, chosen) -> float:
    episodes = [run(s, chosen, FORCED, repeat=r) for s in specs for r in range(2)]
    assert all(e.error is None for e in episodes)
    return sum(e.success for e in episodes) / len(episodes)


def test_with_typed_tools_a_causal_trace_recovers_forgotten_edits_a_text_log_cannot():
    rates = _rates("typed")
    assert rates["causal"] > rates["textlog"] + 0.25, rates


def test_with_shell_tools_the_causal_trace_does_no_worse():
    # A heredoc carries only the new text, so neither layer gives back what was replaced.
    rates = _rates("shell")
    assert rates["causal"] >= rates["textlog"], rates
