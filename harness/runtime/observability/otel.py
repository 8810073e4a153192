"""Export a causal DAG as OpenTelemetry spans with GenAI semantic-convention attributes.

One ``invoke_agent`` root span per session and one ``execute_tool`` span per action under
it; causal dependencies become span links (the parent action is linked too, marked
``harness.link.kind=parent``), reasoning traces become span events. Timestamps come from
the simulated clock (epoch + simulated minutes, in ns) and ids from a counter seeded by a
stable hash of the export key, so the same DAG exports to the same spans in any process.
A private ``TracerProvider`` is used: the global provider is never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Link, Status, StatusCode, set_span_in_context

from harness.core.hashing import stable_int
from harness.runtime.observability.base import DEFAULT_EPOCH, epoch_seconds
from harness.runtime.observability.causal import ActionNode, CausalDag

_NS_PER_MIN = 60_000_000_000


class _CountingIds(IdGenerator):
    """Deterministic, distinct, never-zero ids (OTel treats 0 as invalid)."""

    def __init__(self, key: str):
        self._base = stable_int(key, bits=64) | 1
        self._n = 0

    def _next(self, bits: int) -> int:
        self._n += 1
        value = (self._base * 0x9E3779B97F4A7C15 + self._n * 0xBF58476D1CE4E5B9) % (1 << bits)
        return value or self._n

    def generate_span_id(self) -> int:
        return self._next(64)

    def generate_trace_id(self) -> int:
        return self._next(128)


def _ns(epoch_ns: int, minutes: float) -> int:
    return epoch_ns + round(minutes * _NS_PER_MIN)


def export_spans(dag: CausalDag, *, agent_name: str | None = None, key: str = "episode",
                 epoch: str = DEFAULT_EPOCH, exporter: SpanExporter | None = None) -> list[ReadableSpan]:
    """Emit the DAG's spans through ``exporter`` (an in-memory one when None) and return them
    in the order they ended (actions by seq, then each session's root)."""
    exporter = exporter or InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "harness.runtime"}),
                              id_generator=_CountingIds(key))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("harness.runtime.observability")
    epoch_ns = round(epoch_seconds(epoch) * 1e9)
    finished: list[ReadableSpan] = []
    by_session: dict[int, list[ActionNode]] = {}
    for n in dag.nodes:
        by_session.setdefault(n.session, []).append(n)
    contexts: dict[int, Any] = {}  # seq -> SpanContext, for links (links may cross sessions)
    for session, nodes in sorted(by_session.items()):
        start = _ns(epoch_ns, min(n.sim_minutes for n in nodes))
        end = max(_ns(epoch_ns, n.sim_minutes + n.minutes) for n in nodes)
        root_attrs: dict[str, Any] = {"gen_ai.operation.name": "invoke_agent", "harness.session": session}
        if agent_name:
            root_attrs["gen_ai.agent.name"] = agent_name
        root = tracer.start_span(f"invoke_agent {agent_name}" if agent_name else "invoke_agent",
                                 attributes=root_attrs, start_time=start)
        ctx = set_span_in_context(root)
        for n in nodes:
            span = tracer.start_span(f"execute_tool {n.tool}", context=ctx, start_time=_ns(epoch_ns, n.sim_minutes),
                                     attributes=_attributes(n, agent_name), links=_links(n, contexts))
            for t in n.traces:
                minutes = t.sim_minutes if t.sim_minutes is not None else n.sim_minutes
                span.add_event("gen_ai.reasoning", timestamp=_ns(epoch_ns, minutes), attributes={
                    "harness.reasoning.step": t.step, "harness.reasoning.state": t.state,
                    "harness.reasoning.evidence": list(t.evidence),
                    "harness.reasoning.confidence": t.confidence,
                    "harness.reasoning.rejected": list(t.rejected)})
            if not n.ok:
                span.set_status(Status(StatusCode.ERROR, n.error or n.outcome))
                span.set_attribute("error.type", "tool_error")
            contexts[n.seq] = span.get_span_context()
            span.end(end_time=_ns(epoch_ns, n.sim_minutes + n.minutes))
        root.end(end_time=end)
    provider.force_flush()
    if isinstance(exporter, InMemorySpanExporter):
        finished = list(exporter.get_finished_spans())
    provider.shutdown()
    return finished


def _attributes(n: ActionNode, agent_name: str | None) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": n.tool,
        "gen_ai.tool.call.id": f"call-{n.seq}",
        "harness.action.seq": n.seq,
        "harness.action.line": n.line,
        "harness.action.args_digest": n.args_digest,
        "harness.action.summary": n.summary,
        "harness.action.outcome": n.outcome,
        "harness.action.ok": n.ok,
        "harness.action.reads": list(n.reads),
        "harness.action.writes": list(n.writes),
    }
    if n.parent is not None:
        attrs["harness.action.parent"] = n.parent
    if agent_name:
        attrs["gen_ai.agent.name"] = agent_name
    return attrs


def _links(n: ActionNode, contexts: dict[int, Any]) -> Sequence[Link]:
    links = [Link(contexts[d], {"harness.link.kind": "dependency", "harness.action.seq": d}) for d in n.deps]
    if n.parent is not None and n.parent not in n.deps:
        links.append(Link(contexts[n.parent], {"harness.link.kind": "parent", "harness.action.seq": n.parent}))
    return links
