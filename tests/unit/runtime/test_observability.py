"""The observability layer: causal DAG and queries, telemetry correlation, OTel export,
the textlog variant, DOT drawing, registry and snapshots."""

from __future__ import annotations

import json

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.trace import StatusCode

from harness.core.errors import ConfigError
from harness.runtime.observability import (
    OBSERVABILITY_LAYERS,
    ActionEvent,
    ReasoningTrace,
)
from harness.runtime.observability.bench import bench_observability
from harness.runtime.observability.causal import CausalDag, CausalLayer, CausalOptions, DagError
from harness.runtime.observability.dot import dag_dot
from harness.runtime.observability.otel import export_spans
from harness.runtime.observability.telemetry import TelemetryData, correlate
from harness.runtime.observability.textlog import TextLogLayer, TextLogOptions
from harness.runtime.port import Think
from harness.world.components.services import Services


def ev(tool: str = "read", **kw) -> ActionEvent:
    return ActionEvent(tool=tool, **kw)


def small_dag() -> CausalLayer:
    """0 read a; 1 edit a (uses 0, fails); 2 read b (line b); 3 edit a (uses 0); 4 run tests (uses 3, 2)."""
    layer = CausalLayer(CausalOptions(agent_name="ref"))
    layer.record(ev("read", args={"p": "a"}, reads=("file:a",), sim_minutes=0.0, minutes=0.5))
    layer.think(ReasoningTrace(step="replace foo", state="a has foo", evidence=("line 3",), confidence=0.7,
                               rejected=("rewrite file",)))
    layer.record(ev("edit", args={"p": "a", "v": 1}, writes=("file:a",), deps=(0,), ok=False, error="no match",
                    sim_minutes=0.5, minutes=0.5))
    layer.record(ev("read", args={"p": "b"}, reads=("file:b",), line="b", sim_minutes=1.0, minutes=0.5))
    layer.record(ev("edit", args={"p": "a", "v": 2}, writes=("file:a",), deps=(0,), sim_minutes=1.5, minutes=0.5))
    layer.record(ev("run_tests", writes=("service:ci",), reads=("file:a", "file:b"), deps=(3, 2),
                    sim_minutes=2.0, minutes=1.0))
    return layer


# -- registry and config ----------------------------------------------------------------------
def test_both_variants_registered_and_unknown_variant_lists_them():
    assert isinstance(OBSERVABILITY_LAYERS.build("causal"), CausalLayer)
    assert isinstance(OBSERVABILITY_LAYERS.build("textlog", {"tail_lines": 5}), TextLogLayer)
    assert {"causal", "textlog"} <= set(OBSERVABILITY_LAYERS.names())
    with pytest.raises(ConfigError, match="causal, textlog"):
        OBSERVABILITY_LAYERS.build("flight_recorder")


@pytest.mark.parametrize("variant,config", [("causal", {"z_treshold": 2}), ("textlog", {"metrics": True}),
                                            ("causal", {"history_limit": "many"})])
def test_unknown_or_bad_config_keys_are_config_errors(variant, config):
    with pytest.raises(ConfigError, match=f"layers.observability.config.{next(iter(config))}"):
        OBSERVABILITY_LAYERS.build(variant, config, where="layers.observability.config")


# -- the DAG ----------------------------------------------------------------------------------
def test_parents_follow_the_line_of_work_and_deps_are_kept():
    dag = small_dag().dag
    assert [n.parent for n in dag.nodes] == [None, 0, None, 1, 3]
    assert dag.node(4).deps == (2, 3)
    assert dag.node(1).args_digest != dag.node(3).args_digest
    assert dag.node(1).outcome == "error: no match"


def test_dependencies_on_later_or_unknown_actions_are_refused_and_change_nothing():
    layer = small_dag()
    before = layer.snapshot()
    with pytest.raises(DagError, match="depends on 9"):
        layer.record(ev(deps=(9,)))
    with pytest.raises(DagError, match="not after"):
        layer.record(ev(seq=3))
    assert layer.snapshot() == before
    assert layer.record(ev(seq=10)) == 10 and layer.record(ev()) == 11


def test_reasoning_traces_attach_to_the_action_they_precede():
    dag = small_dag().dag
    assert dag.node(0).traces == () and dag.node(1).traces[0].rejected == ("rewrite file",)
    t = ReasoningTrace.from_think(Think(step="s", evidence=("e",), confidence=0.2), state="st")
    assert (t.state, t.evidence, t.confidence) == ("st", ("e",), 0.2)
    with pytest.raises(ValueError):
        ReasoningTrace(step="x", confidence=1.5)


def test_queries_last_change_failed_touching_ancestors_dependencies():
    dag = small_dag().dag
    assert dag.last_change("file:a").seq == 3
    assert dag.last_change("file:a", before=3).seq == 1
    assert dag.last_change("file:zzz") is None
    assert [n.seq for n in dag.failed_calls()] == [1] and dag.failed_calls(since=2) == []
    assert [n.seq for n in dag.actions_touching("file:a")] == [0, 1, 3, 4]
    assert dag.ancestors(4) == [0, 1, 2, 3]
    assert dag.dependencies(4) == [0, 2, 3]
    assert dag.ancestors(2) == [] and dag.dependencies(1) == [0]
    assert dag.first_divergence(lambda n: n.ok).seq == 1
    with pytest.raises(KeyError):
        dag.ancestors(99)


def test_history_answers_structured_and_rejects_bad_queries():
    layer = small_dag()
    obs = layer.history({"op": "last_change", "resource": "file:a"})
    assert obs.ok and obs.data["action"]["seq"] == 3 and obs.structured
    assert layer.history({"op": "failed_calls"}).data["actions"][0]["error"] == "no match"
    assert layer.history({"op": "dependencies", "seq": 4}).data["seqs"] == [0, 2, 3]
    assert [a["seq"] for a in layer.history({"op": "recent", "n": 2}).data["actions"]] == [3, 4]
    assert layer.history("run_tests").data["count"] == 1
    bad = layer.history({"op": "why"})
    assert not bad.ok and bad.error.code == "invalid_arguments" and not bad.applied
    missing = layer.history({"op": "ancestors"})
    assert missing.error.field == "seq"
    unknown = layer.history({"op": "ancestors", "seq": 77})
    assert unknown.error.code == "not_found"
    assert layer.history({"op": "failed_calls", "since": "x"}).ok is False


def test_history_limit_keeps_the_newest():
    layer = CausalLayer(CausalOptions(history_limit=3))
    for _ in range(10):
        layer.record(ev())
    data = layer.history({"op": "recent", "n": 10}).data
    assert [a["seq"] for a in data["actions"]] == [7, 8, 9] and data["count"] == 10


def test_causal_snapshot_round_trips_through_json_and_rejects_bad_ones():
    layer = small_dag()
    layer.think(ReasoningTrace(step="pending"))
    snap = json.loads(json.dumps(layer.snapshot()))
    other = CausalLayer()
    other.restore(snap)
    assert other.snapshot() == layer.snapshot()
    assert other.dag.ancestors(4) == layer.dag.ancestors(4)
    assert other.record(ev()) == 5 and other.dag.node(5).traces[0].step == "pending"
    with pytest.raises(ConfigError, match="version"):
        other.restore({**snap, "version": 99})
    with pytest.raises(ConfigError, match="not an observability.causal"):
        other.restore({**snap, "variant": "textlog"})
    cyclic = json.loads(json.dumps(snap))
    cyclic["nodes"][1]["deps"] = [3]  # a dependency on a later action: a cycle in waiting
    with pytest.raises(ConfigError, match="corrupt"):
        other.restore(cyclic)
    assert other.export()["nodes"][0]["tool"] == "read"


# -- telemetry ------------------------------------------------------------------------------
def telemetry_data() -> TelemetryData:
    lat = [50.0 + (i % 3) for i in range(60)]
    lat[40] = lat[41] = 400.0
    return TelemetryData(
        metrics={"api": {"latency_ms": lat, "cpu": [20.0] * 60}},
        logs={"api": ["t+0005m ERROR old failure", "t+0039m INFO fine", "t+0041m ERROR pool exhausted",
                      "t+0042m WARN retrying", "t+0043m DEBUG x"]},
        traces=[{"trace_id": "t1", "span_id": "s1", "service": "api", "minute": 40 + k % 2, "duration_ms": d,
                 "status": "ok"} for k, d in enumerate([50.0, 51.0, 52.0, 500.0])]
        + [{"trace_id": "t2", "span_id": "s9", "service": "api", "minute": 44, "duration_ms": 0.0,
            "status": "error: tls"}],
    )


def test_correlate_finds_anomalies_errors_and_slow_spans_in_time_order():
    c = correlate(telemetry_data(), "api", 35, 50)
    kinds = [(e.kind, e.t) for e in c.events]
    assert kinds == [("metric", 40), ("log", 41), ("span", 41), ("log", 42), ("span", 44)]
    m = c.events[0]
    assert (m.metric, m.t_end, m.peak_value) == ("latency_ms", 41, 400.0) and m.peak_z > 3
    assert c.events[2].reason == "slow" and c.events[4].reason == "error"
    assert all(e.line != "t+0005m ERROR old failure" for e in c.events if e.kind == "log")
    assert correlate(telemetry_data(), "api", 0, 30).events[0].kind == "log"  # the old error only


def test_a_sustained_shift_is_found_even_when_the_window_covers_the_whole_series():
    series = [10.0 + (i % 4) * 0.5 for i in range(40)] + [80.0] * 15  # robust baseline, not mean/std
    (m,) = correlate(TelemetryData(metrics={"db": {"latency_ms": series}}), "db", 0, 54).events
    assert (m.t, m.t_end, m.baseline_median) == (40, 54, 11.0)


def test_causal_and_textlog_telemetry_differ_in_what_they_show():
    data = telemetry_data()
    causal = CausalLayer().telemetry(data, "api", (35, 50))
    assert causal.ok and causal.data["events"][0]["metric"] == "latency_ms"
    assert CausalLayer().telemetry(data, "db", (0, 1)).error.code == "not_found"
    text = TextLogLayer(TextLogOptions(tail_lines=2)).telemetry(data, "api", (35, 50))
    assert text.text == "t+0042m WARN retrying\nt+0043m DEBUG x" and text.data is None
    assert "No such file" in TextLogLayer().telemetry(data, "db", (0, 1)).text


def test_telemetry_reads_a_world_services_component():
    svcs = Services()
    svcs.add_service("api")
    svcs.metrics["api"] = {"error_rate": [0.01] * 30 + [0.5] * 3}
    svcs.logs["api"] = ["t+0031m ERROR boom"]
    obs = CausalLayer().telemetry(svcs, "api", (30, 32))
    assert [e["kind"] for e in obs.data["events"]] == ["metric", "log"]


# -- OpenTelemetry ----------------------------------------------------------------------------
def test_otel_export_genai_spans_links_events_and_sim_time():
    layer = small_dag()
    layer.record(ev("submit", session=1, sim_minutes=10.0, minutes=0.0, deps=(4,)))
    spans = export_spans(layer.dag, agent_name="ref")
    roots = [s for s in spans if s.attributes["gen_ai.operation.name"] == "invoke_agent"]
    tools = [s for s in spans if s.attributes["gen_ai.operation.name"] == "execute_tool"]
    assert len(roots) == 2 and len(tools) == 6
    assert {r.attributes["gen_ai.agent.name"] for r in roots} == {"ref"}
    by_seq = {s.attributes["harness.action.seq"]: s for s in tools}
    s4 = by_seq[4]
    assert s4.name == "execute_tool run_tests" and s4.attributes["gen_ai.tool.name"] == "run_tests"
    assert s4.parent.span_id == roots[0].context.span_id
    deps = sorted(link.attributes["harness.action.seq"] for link in s4.links
                  if link.attributes["harness.link.kind"] == "dependency")
    assert deps == [2, 3]
    assert {link.context.span_id for link in s4.links} >= {by_seq[2].context.span_id, by_seq[3].context.span_id}
    assert by_seq[1].status.status_code == StatusCode.ERROR
    assert by_seq[1].events[0].attributes["harness.reasoning.rejected"] == ("rewrite file",)
    epoch_ns = 1714557600 * 10**9  # 2024-05-01T10:00:00Z
    assert by_seq[4].start_time == epoch_ns + 2 * 60 * 10**9 and by_seq[4].end_time == epoch_ns + 3 * 60 * 10**9
    assert by_seq[5].context.trace_id != s4.context.trace_id  # a new session, a new trace


def test_otel_export_is_deterministic_and_leaves_the_global_provider_alone():
    before = otel_trace.get_tracer_provider()
    a = [(s.name, s.context.span_id, s.context.trace_id, s.start_time) for s in export_spans(small_dag().dag)]
    b = [(s.name, s.context.span_id, s.context.trace_id, s.start_time) for s in export_spans(small_dag().dag)]
    assert a == b and len({x[1] for x in a}) == len(a)
    assert otel_trace.get_tracer_provider() is before


# -- textlog ----------------------------------------------------------------------------------
def test_textlog_lines_grep_and_notes():
    log = TextLogLayer(TextLogOptions(history_lines=2))
    log.record(ev("shell", summary="sed -i s/a/b/ f.py", outcome="exit 0", sim_minutes=0.05))
    log.think(ReasoningTrace(step="check the tests", confidence=0.3, sim_minutes=0.1))
    log.record(ev("shell", summary="pytest tests/", ok=False, error="2 failed", sim_minutes=1.0))
    log.record(ev("shell", summary="sed -i s/b/c/ f.py", sim_minutes=2.0))
    assert log.lines[0] == "2024-05-01T10:00:03 shell: sed -i s/a/b/ f.py -> exit 0"
    assert log.lines[1] == "2024-05-01T10:00:06 note: check the tests"
    assert log.lines[2].endswith("pytest tests/ -> error: 2 failed")
    assert log.history("sed").text == "\n".join([log.lines[0], log.lines[3]])
    assert log.history("").text == "\n".join(log.lines[-2:])
    assert log.history({"text": "pytest"}).text == log.lines[2]
    assert log.history("SED").text == ""  # grep is case-sensitive, like grep
    assert not log.history(42).ok and log.history(42).data is None
    log.record(ev("shell", summary="printf 'a\nb'"))
    assert log.lines[-1].endswith("printf 'a\\nb' -> ok") and len(log.lines) == 5


def test_textlog_snapshot_round_trip_and_bad_snapshot():
    log = TextLogLayer()
    log.record(ev("shell", summary="ls"))
    other = TextLogLayer()
    other.restore(json.loads(json.dumps(log.snapshot())))
    assert other.lines == log.lines and other.record(ev()) == 1
    with pytest.raises(ConfigError):
        other.restore({"variant": "textlog", "version": 1, "lines": [1], "count": 0})
    assert other.export()["lines"][0].endswith("shell: ls -> ok")


# -- drawing and bench ------------------------------------------------------------------------
def test_dag_dot_highlights_failures_and_draws_both_edge_kinds():
    layer = small_dag()
    layer.record(ev("write", summary='echo "x" > f'))
    dot = dag_dot(layer.dag)
    assert dot.startswith("digraph actions {") and dot.rstrip().endswith("}")
    a1 = next(line for line in dot.splitlines() if line.strip().startswith("a1 ["))
    assert "fillcolor" in a1 and "peripheries=2" in a1
    assert "a3 -> a4;" in dot and "a2 -> a4 [style=dashed" in dot
    assert '\\"x\\"' in dot


def test_bench_reports_measurements_and_agreeing_references():
    r = bench_observability(n_actions=500, n_record=200, n_queries=20, n_scan_ancestors=5)
    assert r["last_change_agree"] and r["ancestors_agree"]
    for key in ("record_causal", "record_textlog", "record_reference_list_append", "last_change_indexed",
                "last_change_reference_scan", "ancestors_walk", "ancestors_reference_scan"):
        assert set(r[key]) == {"p50_us", "p95_us", "p99_us", "n"}


def test_empty_dag_queries():
    dag = CausalDag()
    assert dag.last_change("x") is None and dag.failed_calls() == [] and export_spans(dag) == []


# -- the call query: the full arguments of one past call ----------------------------------
def test_call_query_returns_the_full_arguments_of_one_past_call():
    layer = small_dag()
    long_text = "x = 1\n" * 100  # far longer than a node's cut summary
    seq = layer.record(ev("write_file", args={"path": "a", "text": long_text}, writes=("file:a",)))
    assert layer.dag.node(seq).summary.endswith("...")  # the node alone could not give it back
    obs = layer.history({"op": "call", "seq": seq})
    assert obs.ok and obs.data == {"op": "call", "seq": seq, "tool": "write_file",
                                   "args": {"path": "a", "text": long_text}}
    last = layer.history({"op": "last_change", "resource": "file:a"}).data["action"]["seq"]
    assert layer.history({"op": "call", "seq": last}).data["args"]["text"] == long_text
    assert layer.history({"op": "call", "seq": 1}).data["args"] == {"p": "a", "v": 1}


def test_call_query_rejects_unknown_and_missing_seqs():
    layer = small_dag()
    assert layer.history({"op": "call", "seq": 99}).error.code == "not_found"
    missing = layer.history({"op": "call"})
    assert not missing.ok and missing.error.field == "seq"


def test_call_arguments_survive_a_snapshot_round_trip():
    layer = small_dag()
    other = CausalLayer()
    other.restore(json.loads(json.dumps(layer.snapshot())))
    assert other.history({"op": "call", "seq": 3}).data == layer.history({"op": "call", "seq": 3}).data
    assert other.snapshot() == layer.snapshot()


def test_dag_dot_can_carry_a_title_and_keep_every_summary_whole():
    layer = small_dag()
    long = "replace_in_file " + "x" * 120
    layer.record(ev("write", summary=long))
    dot = dag_dot(layer.dag, max_label=None, title="t · repeat 0: FAILURE (submitted)", wrap=40)
    assert '  graph [label="t · repeat 0: FAILURE (submitted)", labelloc=t, labeljust=l];' in dot
    assert "x" * 30 in dot and "..." not in dot
    assert "".join(dot.split("\\n")).count("x") >= 120  # wrapped across lines, nothing dropped
    assert "..." in dag_dot(layer.dag)  # the default still cuts (48 characters)
