"""Properties of the causal DAG under random insertions, and of the textlog grep."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.runtime.observability.base import ActionEvent
from harness.runtime.observability.causal import CausalDag, CausalLayer, DagError
from harness.runtime.observability.textlog import TextLogLayer, TextLogOptions

RESOURCES = [f"file:f{i}" for i in range(4)] + ["service:api"]

insertion = st.tuples(
    st.lists(st.integers(-3, 40), max_size=4),  # dependency seqs, some invalid (later, unknown, negative)
    st.sampled_from(["a", "b", "c"]),  # line of work
    st.lists(st.sampled_from(RESOURCES), max_size=2),  # reads
    st.lists(st.sampled_from(RESOURCES), max_size=2),  # writes
    st.booleans(),  # ok
    st.integers(0, 2),  # seq gap (0: let the layer assign)
)


def build(ops) -> tuple[CausalDag, list[ActionEvent]]:
    dag, accepted = CausalDag(), []
    for deps, line, reads, writes, ok, gap in ops:
        last = dag.nodes[-1].seq if dag.nodes else -1
        e = ActionEvent(tool="t", deps=tuple(deps), line=line, reads=tuple(reads), writes=tuple(writes), ok=ok,
                        seq=None if gap == 0 else last + gap)
        valid = all(d in dag for d in deps)
        before = len(dag)
        try:
            dag.add(e)
            accepted.append(e)
            assert valid
        except DagError:
            assert not valid and len(dag) == before
    return dag, accepted


def reference_ancestors(dag: CausalDag, seq: int, with_parent: bool = True) -> set[int]:
    by_seq = {n.seq: n for n in dag.nodes}
    found, stack = set(), [seq]
    while stack:
        n = by_seq[stack.pop()]
        for r in (*n.deps, *((n.parent,) if with_parent and n.parent is not None else ())):
            if r not in found:
                found.add(r)
                stack.append(r)
    return found


@settings(max_examples=150, deadline=None)
@given(st.lists(insertion, max_size=40))
def test_random_insertions_stay_acyclic_and_closures_are_closed(ops):
    dag, _ = build(ops)
    seqs = [n.seq for n in dag.nodes]
    assert seqs == sorted(set(seqs))
    for n in dag.nodes:  # acyclic by construction: every reference points strictly back
        assert all(d < n.seq for d in n.deps) and (n.parent is None or n.parent < n.seq)
    for n in dag.nodes:
        anc = dag.ancestors(n.seq)
        assert anc == sorted(anc) and n.seq not in anc
        anc_set = set(anc)
        for a in anc:  # closed under dependencies and parents
            node = dag.node(a)
            assert set(node.deps) <= anc_set and (node.parent is None or node.parent in anc_set)
        assert anc_set == reference_ancestors(dag, n.seq)
        deps = set(dag.dependencies(n.seq))
        assert deps <= anc_set and deps == reference_ancestors(dag, n.seq, with_parent=False)


@settings(max_examples=100, deadline=None)
@given(st.lists(insertion, max_size=40))
def test_resource_queries_match_a_linear_scan_and_snapshots_round_trip(ops):
    dag, _ = build(ops)
    for r in RESOURCES:
        writers = [n.seq for n in dag.nodes if r in n.writes]
        last = dag.last_change(r)
        assert (last.seq if last else None) == (writers[-1] if writers else None)
        assert [n.seq for n in dag.actions_touching(r)] == [n.seq for n in dag.nodes if r in n.reads + n.writes]
    for n in dag.nodes:  # the parent is the previous action of the same line
        same_line = [m.seq for m in dag.nodes if m.line == n.line and m.seq < n.seq]
        assert n.parent == (same_line[-1] if same_line else None)
    layer = CausalLayer()
    layer.dag = dag
    again = CausalLayer()
    again.restore(json.loads(json.dumps(layer.snapshot())))
    assert again.snapshot() == layer.snapshot()
    assert [again.dag.ancestors(n.seq) for n in dag.nodes] == [dag.ancestors(n.seq) for n in dag.nodes]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="ab -/x", max_size=8), max_size=25), st.text(alphabet="ab -", max_size=3),
       st.integers(0, 6))
def test_textlog_history_is_the_last_n_grep_hits(summaries, query, n):
    log = TextLogLayer(TextLogOptions(history_lines=n))
    for i, s in enumerate(summaries):
        log.record(ActionEvent(tool="shell", summary=s, sim_minutes=float(i)))
    hits = [ln for ln in log.lines if query in ln]
    expected = hits[-n:] if n else []
    assert log.history(query).text == "\n".join(expected)
