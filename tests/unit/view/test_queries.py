"""harness view's queries and DAG: what each page is built from, read from a small store."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.store import reader
from harness.view import dag, queries
from harness.view.queries import EpisodeKey, NotFound
from tests.view_store import RUN, add_missing_episode, make_store


@pytest.fixture
def db(tmp_path):
    return str(make_store(tmp_path / "view.duckdb"))


def test_run_page_counts_stored_planned_and_successes_per_condition(db):
    data = queries.run_page(db, RUN, {})
    assert data.info["status"] == "running" and data.info["episodes_done"] == 3
    got = data.conditions.set_index("condition")[["stored", "planned", "successes"]].to_dict("index")
    assert got == {"A": {"stored": 2, "planned": 2, "successes": 1}, "B": {"stored": 1, "planned": 2, "successes": 0}}


def test_every_call_reads_the_store_afresh(db):
    assert queries.run_page(db, RUN, {}).conditions.set_index("condition").loc["B", "stored"] == 1
    add_missing_episode(db)
    assert queries.run_page(db, RUN, {}).conditions.set_index("condition").loc["B", "stored"] == 2
    assert queries.runs(db).episodes_done.tolist() == [4]


@pytest.mark.parametrize(("params", "want"), [
    ({}, {("A", "t1"), ("A", "t2"), ("B", "t1")}),
    ({"condition": "B"}, {("B", "t1")}),
    ({"family": "code/t2_family"}, {("A", "t2")}),
    ({"success": "true"}, {("A", "t1")}),
    ({"success": "false", "termination": "submitted"}, {("B", "t1")}),
    ({"termination": "gave_up", "condition": ""}, {("A", "t2")}),
])
def test_episode_filters(db, params, want):
    data = queries.run_page(db, RUN, params)
    eps, choices = data.episodes, data.choices
    assert set(zip(eps.condition, eps.task_id, strict=True)) == want
    assert choices["condition"] == ["A", "B"] and choices["termination"] == ["gave_up", "submitted"]


def test_unknown_run_condition_and_episode_are_not_found_and_name_what(db):
    with pytest.raises(NotFound, match="unknown run 'nope'"):
        queries.episode(db, EpisodeKey("nope", "A", "t1", 0))
    with pytest.raises(NotFound, match="unknown condition 'C'"):
        queries.episode(db, EpisodeKey(RUN, "C", "t1", 0))
    with pytest.raises(NotFound, match="no episode B:t2:0"):
        queries.episode(db, EpisodeKey(RUN, "B", "t2", 0))
    with pytest.raises(NotFound, match="unknown run"):
        queries.run_page(db, "nope", {})


def test_verdicts_are_parsed_and_a_damaged_detail_is_shown_not_raised():
    assert queries.verdicts('[{"checker": "c", "passed": false, "reason": "r"}]') == [
        {"checker": "c", "passed": False, "reason": "r"}]
    assert queries.verdicts("{not json")[0]["checker"] == "(unreadable)"
    assert queries.verdicts(None) == []


def test_without_transcripts_the_episode_falls_back_to_the_actions_table(db, monkeypatch):
    monkeypatch.delattr(reader, "transcript", raising=False)
    v = queries.episode(db, EpisodeKey(RUN, "B", "t1", 0))
    assert not v.transcript and v.briefs == []
    assert list(v.actions.seq) == [0, 1, 2, 3] and v.actions.args.isna().all()
    assert [x["passed"] for x in v.verdicts] == [True, False]
    assert v.pairs == ["A"] and v.pair == "A"
    assert dict(v.events)["minutes waiting for approval"] == 12.0


def fake_transcript(path, run_id, condition, task_id, repeat):
    acts = reader.actions(path, run_id)
    acts = acts[(acts.condition == condition) & (acts.task_id == task_id) & (acts.repeat == repeat)]
    return pd.DataFrame({"seq": acts.seq, "session": [0] * (len(acts) - 1) + [1], "parent": acts.parent,
                         "tool": acts.tool, "ok": acts.ok, "accurate": acts.accurate, "sim_minutes": acts.sim_minutes,
                         "args": [{"path": f"src/{condition}.py", "n": int(s)} for s in acts.seq],
                         "observation": [f"<b>seen {s}</b>" for s in acts.seq]}).reset_index(drop=True)


def test_with_transcripts_the_episode_has_args_observations_and_briefs(db, monkeypatch):
    monkeypatch.setattr(reader, "transcript", fake_transcript, raising=False)
    monkeypatch.setattr(reader, "briefs", lambda *a: ["first brief", "second brief"], raising=False)
    v = queries.episode(db, EpisodeKey(RUN, "A", "t1", 0))
    assert v.transcript and v.briefs == ["first brief", "second brief"]
    assert v.actions.args[0] == {"path": "src/A.py", "n": 0}


def test_the_pair_is_the_runs_compare_partner_else_the_first_other():
    assert queries.paired_condition(["A", "B"], "A", ["B"]) == "B"
    assert queries.paired_condition(["A", "B"], "A", ["C", "B"]) == "B"  # the compare partner first
    assert queries.paired_condition(["A", "B"], "A", []) is None
    assert queries.paired_condition(["A", "B"], "Z", ["C", "A"]) == "C"  # not in compare: first other


def test_alignment_pairs_actions_by_order_and_marks_differences():
    left = pd.DataFrame({"seq": [0, 1], "tool": ["read", "write"], "ok": [True, True], "args": [None, None]})
    right = pd.DataFrame({"seq": [0, 1, 2], "tool": ["read", "write"] + ["submit"], "ok": [True, False, True],
                          "args": [None, None, None]})
    rows = queries.align(left, right)
    assert [r.index for r in rows] == [0, 1, 2]
    assert [r.differs for r in rows] == [False, True, True]
    assert rows[2].left is None and rows[2].right["tool"] == "submit"


def test_header_diff_flags_only_fields_that_differ():
    diff = {f: d for f, _, _, d in queries.header_diff({"success": True, "actions": 3}, {"success": False,
                                                                                        "actions": 3})}
    assert diff["success"] and not diff["actions"]


# ---- the DAG ---------------------------------------------------------------------------

def test_the_title_of_a_failed_submitted_episode_says_failure_and_which_checks_failed(db):
    v = queries.episode(db, EpisodeKey(RUN, "B", "t1", 0))
    title = dag.verdict_title(v.key, v.row, v.verdicts)
    assert "FAILURE (submitted)" in title and "checks 1/2 passed" in title and "failed: answer_value" in title
    ok = queries.episode(db, EpisodeKey(RUN, "A", "t1", 0))
    assert "success (submitted), checks 1/1 passed" in dag.verdict_title(ok.key, ok.row, ok.verdicts)


def test_labels_are_wrapped_never_cut():
    long = "x" * 30 + "/" + "y" * 90
    label = dag.node_label({"seq": 4, "tool": "replace_in_file_everywhere", "ok": False, "args": {"path": long}})
    text = label.replace("\\l", "")
    assert "replace_in_file_everywhere" in text and long in text and "(failed)" in text
    assert all(len(line) <= dag.WRAP for line in label.split("\\l")[1:])


def test_backslashes_in_arguments_stay_literal():
    label = dag.node_label({"seq": 0, "tool": "search", "ok": True, "args": {"pattern": "a\\d"}})
    assert "a\\\\\\\\d" in label  # JSON's \\ doubled again for graphviz


def test_dot_has_a_node_per_action_and_an_edge_per_parent(db):
    v = queries.episode(db, EpisodeKey(RUN, "B", "t1", 0))
    src = dag.dot_source("a title", v.actions)
    assert all(f"a{s} [label=" in src for s in range(4))
    assert all(f"a{s} -> a{s + 1}" in src for s in range(3))
    assert 'label="a title"' in src


def test_without_dot_there_is_no_picture(monkeypatch):
    monkeypatch.setattr(dag.shutil, "which", lambda name: None)
    assert dag.svg("digraph g { a }") is None


@pytest.mark.skipif(not dag.dot_available(), reason="Graphviz's dot is not installed")
def test_with_dot_the_picture_is_inline_svg(db):
    v = queries.episode(db, EpisodeKey(RUN, "B", "t1", 0))
    out = dag.svg(dag.dot_source("FAILURE (submitted)", v.actions))
    assert out.startswith("<svg") and "FAILURE (submitted)" in out and "replace_in_file" in out


RECORD = {"variant": "causal", "nodes": [
    {"seq": 0, "parent": None, "deps": [], "line": "main", "session": 0, "tool": "search", "ok": True,
     "summary": "search " + "q" * 70, "outcome": "3 hits", "traces": []},
    {"seq": 1, "parent": 0, "deps": [0], "line": "main", "session": 0, "tool": "read_file", "ok": True,
     "summary": "read a.py", "outcome": "ok", "traces": [{"text": "t"}]},
    {"seq": 2, "parent": None, "deps": [0], "line": "fix", "session": 1, "tool": "write_file", "ok": False,
     "summary": "write b.py", "outcome": "error: denied", "traces": []},
]}


def test_a_causal_record_has_parent_edges_dashed_dependencies_and_session_boxes():
    src = dag.record_dot("t", RECORD)
    assert "a0 -> a1\n" in src.replace("\t", "")  # the parent edge, drawn once though also a dependency
    assert src.count("a0 -> a1") == 1
    assert "a0 -> a2 [color=\"#1f5fbf\" constraint=false style=dashed]" in src
    assert "cluster_s0" in src and "cluster_s1" in src
    assert "q" * 70 in src.replace("\\l", "") and "error: denied" in src
    assert "a0 -> a2" not in dag.record_dot("t", RECORD, deps=False)


def test_long_arguments_fill_a_few_lines_and_say_how_much_is_left_out():
    args = {"body": "y" * 1000}
    label = dag.node_label({"seq": 1, "tool": "write_file", "ok": True, "args": args})
    lines = label.split("\\l")[:-1]
    assert lines[0] == "#1 write_file" and len(lines) == 1 + dag.ARG_LINES + 1
    left_out = int(lines[-1].split()[1])
    assert lines[-1] == f"… {left_out} more characters (in the transcript)"
    assert sum(map(len, lines[1:-1])) + left_out == len('{"body": "' + "y" * 1000 + '"}')
