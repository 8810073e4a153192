"""The adapter's parts: tool schemas, tool-call parsing, the conversation window, the
recorder, the mock model."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.agents.llm.conversation import (
    Conversation,
    estimate_tokens,
    render_observation,
    system_prompt,
)
from harness.agents.llm.mock import MockModel
from harness.agents.llm.recording import Recorder, ReplayMiss, request_hash
from harness.agents.llm.schemas import CONTROL_TOOLS, RAW_ARGUMENTS, function_tools, parse_tool_call
from harness.runtime.port import (
    Call,
    GiveUp,
    Observation,
    Recall,
    Submit,
    Think,
    ToolError,
    ToolSpec,
)
from harness.runtime.tools.shell import SHELL_SPEC
from harness.runtime.tools.typed import TypedTools

TYPED = TypedTools().specs()


def _names(tools):
    return [t["function"]["name"] for t in tools]


def test_shell_layer_offers_one_shell_tool_plus_the_ports_actions():
    names = _names(function_tools([SHELL_SPEC]))
    assert names == ["shell", *CONTROL_TOOLS]


def test_typed_layer_offers_its_schemas_and_a_layer_tool_wins_a_name_clash():
    clash = ToolSpec(name="think", description="the layer's own", parameters={"type": "object"})
    tools = function_tools([*TYPED, clash])
    names = _names(tools)
    assert names.count("think") == 1 and "read_file" in names and "finish" in names
    assert next(t for t in tools if t["function"]["name"] == "read_file")["function"]["parameters"] == next(
        s.parameters for s in TYPED if s.name == "read_file")


def test_port_actions_parse_into_their_actions():
    assert parse_tool_call("finish", '{"answer": {"x": 1}}', TYPED).action == Submit(answer={"x": 1})
    assert parse_tool_call("give_up", '{"reason": "stuck"}', TYPED).action == GiveUp(reason="stuck")
    assert parse_tool_call("recall", '{"query": "q"}', TYPED).action == Recall(query="q", k=5)
    assert isinstance(parse_tool_call("think", '{"step": "s", "confidence": 0.5}', TYPED).action, Think)
    assert parse_tool_call("read_file", '{"path": "a.py"}', TYPED).action == Call(tool="read_file", args={"path": "a.py"})


def test_malformed_json_for_a_shell_goes_in_as_typed():
    parsed = parse_tool_call("shell", '{"command": "grep -rn x', [SHELL_SPEC])
    assert parsed.malformed
    assert parsed.action == Call(tool="shell", args={"command": '{"command": "grep -rn x'})


def test_malformed_json_for_a_typed_tool_is_refused_by_the_layer_as_invalid_arguments():
    parsed = parse_tool_call("read_file", '{"path": "a.py"', TYPED)
    assert parsed.malformed and parsed.action.args == {RAW_ARGUMENTS: '{"path": "a.py"'}
    from harness.world import World

    obs = TypedTools().call(World(), "read_file", parsed.action.args)
    assert not obs.ok and not obs.applied and obs.error.code == "invalid_arguments"


def test_a_port_action_with_unusable_arguments_becomes_a_call_the_layer_refuses():
    parsed = parse_tool_call("recall", '{"k": 3}', TYPED)  # no query
    assert parsed.malformed and isinstance(parsed.action, Call) and parsed.action.tool == "recall"


@given(name=st.sampled_from(["shell", "read_file", "finish", "think", "nope", "recall"]), raw=st.text(max_size=60))
def test_parsing_never_raises_whatever_the_model_sends(name, raw):
    parsed = parse_tool_call(name, raw, [SHELL_SPEC, *TYPED])
    assert parsed.action.kind in {"call", "submit", "give_up", "think", "remember", "recall", "history", "telemetry"}


def test_observations_render_as_json_when_structured_and_as_text_otherwise():
    structured = Observation(tool="t", ok=False, error=ToolError(code="invalid_arguments", message="bad"))
    assert json.loads(render_observation(structured, 1000)) == {
        "ok": False, "error": {"code": "invalid_arguments", "message": "bad"}}
    assert render_observation(Observation(tool="shell", ok=True, text="a\nb\n"), 1000) == "a\nb\n"
    long = render_observation(Observation(tool="shell", ok=True, text="x" * 500), 100)
    assert long.startswith("x" * 100) and "400 more characters" in long


def test_every_category_has_a_prompt_file_and_unknown_ones_fall_back():
    for category in ("code_modification", "code_review", "system_administration", "data_analysis"):
        assert "finish" in system_prompt(category)
    assert system_prompt("no_such_category") == system_prompt("default")


def _turn(conv: Conversation, i: int, size: int) -> None:
    conv.add_assistant({"content": "", "tool_calls": [{"id": f"c{i}", "type": "function",
                                                      "function": {"name": "shell", "arguments": "{}"}}]})
    conv.add_tool(f"c{i}", "shell", "y" * size)


@given(sizes=st.lists(st.integers(min_value=0, max_value=3000), min_size=1, max_size=30),
       window=st.integers(min_value=1500, max_value=8000))
def test_the_window_keeps_tool_results_with_their_calls_and_fits(sizes, window):
    conv = Conversation("system", "brief", window)
    for i, size in enumerate(sizes):
        _turn(conv, i, size)
        conv.fit(reserve=100)
        messages = conv.messages()
        assert messages[0]["role"] == "system" and messages[1]["content"] == "brief"
        calls = {c["id"] for m in messages if m["role"] == "assistant" for c in m.get("tool_calls", [])}
        results = {m["tool_call_id"] for m in messages if m["role"] == "tool"}
        assert calls == results  # no orphan on either side
        assert f"c{i}" in calls  # the latest turn always stays
        if len(conv.turns) > 1:
            assert estimate_tokens(messages) + 100 <= window


def test_recorder_answers_a_repeated_request_from_the_recording_and_charges_it_once():
    sent = []

    def send(body):
        sent.append(body)
        return {"choices": [{"message": {"role": "assistant", "content": "hi"}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 2}}

    rec = Recorder()
    first, new1 = rec.complete({"q": 1}, send)
    again, new2 = rec.complete({"q": 1}, send)
    assert (new1, new2) == (True, False) and len(sent) == 1 and first == again
    assert (first.prompt_tokens, first.completion_tokens) == (10, 2)


def test_replay_serves_the_recording_and_a_miss_names_the_request():
    body = {"model": "m", "messages": [{"role": "user", "content": "hello there"}]}
    rec = Recorder(known={request_hash(body): {"choices": [{"message": {"content": "ok"}}]}}, offline=True)
    exchange, _ = rec.complete(body, send=None)
    assert exchange.response["choices"][0]["message"]["content"] == "ok"
    other = {**body, "temperature": 0.5}
    with pytest.raises(ReplayMiss, match=request_hash(other)) as info:
        rec.complete(other, send=lambda b: pytest.fail("replay must not call the network"))
    assert "hello there" in str(info.value)


def test_mock_model_is_deterministic_and_counts_tokens_from_the_request():
    model = MockModel("default")
    body = {"model": "mock", "messages": [{"role": "system", "content": "s"},
                                          {"role": "user", "content": "Task category: code_review\nx"}],
            "tools": function_tools([SHELL_SPEC])}
    a, b = model.complete(body), model.complete(json.loads(json.dumps(body)))
    assert a == b
    assert a["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "shell"
    assert a["usage"]["prompt_tokens"] == len(json.dumps(body, sort_keys=True, separators=(",", ":"))) // 4
    typed = model.complete({**body, "tools": function_tools(TYPED)})
    assert typed["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "list_files"
