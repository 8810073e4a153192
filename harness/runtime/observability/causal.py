"""``causal``: every action a node of a DAG, with reasoning traces and a structured query API.

Guarantees: the graph is acyclic by construction (a node's parent and dependencies are
strictly earlier seqs, checked on insertion); every query is a deterministic function of
the recorded events and returns typed results; ``last_change`` and ``actions_touching``
are answered from per-resource indexes (O(answer)), ``ancestors``/``dependencies`` by a
graph walk over only the nodes reached. Snapshots are plain JSON and restore to an equal
graph (indexes are rebuilt, not stored).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from harness.core.errors import ConfigError
from harness.core.hashing import stable_hash
from harness.runtime.observability.base import (
    DEFAULT_EPOCH,
    OBSERVABILITY_LAYERS,
    SNAPSHOT_VERSION,
    ActionEvent,
    ReasoningTrace,
    TelemetryWindow,
    check_version,
)
from harness.runtime.observability.telemetry import CHANGE_OPS, TelemetryData, correlate
from harness.runtime.port import Observation, ToolError


class DagError(ValueError):
    """An insertion that would break the DAG (a dependency on a later or unknown action)."""


class ActionNode(BaseModel):
    """One recorded action. ``parent`` is the previous action of the same line of work."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int
    parent: int | None
    deps: tuple[int, ...]
    line: str
    session: int
    tool: str
    args_digest: str
    summary: str
    ok: bool
    error: str | None
    outcome: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    sim_minutes: float
    minutes: float
    traces: tuple[ReasoningTrace, ...] = ()

    @property
    def touched(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.reads + self.writes))


class CausalDag:
    """The action DAG and its indexes. Pure data structure: no clock, no I/O."""

    def __init__(self) -> None:
        self.nodes: list[ActionNode] = []
        self._index: dict[int, int] = {}  # seq -> position in nodes
        self._seqs: list[int] = []  # position -> seq
        self._dep_pos: list[tuple[int, ...]] = []  # position -> positions of its dependencies
        self._ref_pos: list[tuple[int, ...]] = []  # position -> positions of dependencies and parent
        self._heads: dict[str, int] = {}  # line -> last seq of that line
        self._writers: dict[str, list[int]] = {}  # resource -> seqs that changed it, ascending
        self._touch: dict[str, list[int]] = {}  # resource -> seqs that read or changed it
        self.pending: list[ReasoningTrace] = []  # traces waiting for the action they precede

    def __len__(self) -> int:
        return len(self.nodes)

    def node(self, seq: int) -> ActionNode:
        try:
            return self.nodes[self._index[seq]]
        except KeyError:
            raise KeyError(f"no action with seq {seq}") from None

    def __contains__(self, seq: object) -> bool:
        return seq in self._index

    def add(self, ev: ActionEvent) -> ActionNode:
        last = self.nodes[-1].seq if self.nodes else -1
        seq = last + 1 if ev.seq is None else ev.seq
        if seq <= last:
            raise DagError(f"seq {seq} is not after the last recorded action ({last})")
        for d in ev.deps:
            if d not in self._index:
                raise DagError(f"action {seq} depends on {d}, which is not an earlier recorded action")
        # model_construct: every field comes from a validated ActionEvent, so re-validating
        # would only double the per-action cost.
        node = ActionNode.model_construct(
            seq=seq, parent=self._heads.get(ev.line), deps=tuple(sorted(set(ev.deps))), line=ev.line,
            session=ev.session, tool=ev.tool, args_digest=stable_hash(ev.args), summary=ev.call_text(),
            ok=ev.ok, error=ev.error, outcome=ev.outcome_text(), reads=tuple(ev.reads), writes=tuple(ev.writes),
            sim_minutes=ev.sim_minutes, minutes=ev.minutes, traces=tuple(self.pending),
        )
        self.pending = []
        self._insert(node)
        return node

    def _insert(self, node: ActionNode) -> None:
        deps = tuple(self._index[d] for d in node.deps)
        self._dep_pos.append(deps)
        self._ref_pos.append(deps if node.parent is None else (*deps, self._index[node.parent]))
        self._seqs.append(node.seq)
        self._index[node.seq] = len(self.nodes)
        self.nodes.append(node)
        self._heads[node.line] = node.seq
        for r in node.writes:
            self._writers.setdefault(r, []).append(node.seq)
        for r in node.touched:
            self._touch.setdefault(r, []).append(node.seq)

    # -- queries --------------------------------------------------------------------------
    def last_change(self, resource: str, before: int | None = None) -> ActionNode | None:
        """The latest action that changed ``resource`` (optionally: strictly before a seq)."""
        seqs = self._writers.get(resource, [])
        if before is not None:
            seqs = [s for s in seqs if s < before]
        return self.node(seqs[-1]) if seqs else None

    def actions_touching(self, resource: str) -> list[ActionNode]:
        return [self.node(s) for s in self._touch.get(resource, [])]

    def failed_calls(self, since: int | None = None) -> list[ActionNode]:
        return [n for n in self.nodes if not n.ok and (since is None or n.seq >= since)]

    def _closure(self, seq: int, with_parent: bool) -> list[int]:
        """Walk positions downward from ``seq``, expanding only marked nodes, and stop as soon
        as no marked node is left below: references only point back, so one descending
        pass is exact, and it touches only the span between ``seq`` and its oldest ancestor."""
        if seq not in self._index:
            raise KeyError(f"no action with seq {seq}")
        refs = self._ref_pos if with_parent else self._dep_pos
        start = self._index[seq]
        mark = bytearray(start + 1)
        open_ = 0
        for p in refs[start]:
            if not mark[p]:
                mark[p] = 1
                open_ += 1
        out: list[int] = []
        pos = start - 1
        while open_ and pos >= 0:
            if mark[pos]:
                open_ -= 1
                out.append(self._seqs[pos])
                for p in refs[pos]:
                    if not mark[p]:
                        mark[p] = 1
                        open_ += 1
            pos -= 1
        out.reverse()
        return out

    def ancestors(self, seq: int) -> list[int]:
        """Every earlier action reachable through parents and dependencies, ascending."""
        return self._closure(seq, with_parent=True)

    def dependencies(self, seq: int) -> list[int]:
        """Every action whose result flowed into ``seq`` (dependencies only), ascending."""
        return self._closure(seq, with_parent=False)

    def first_divergence(self, good: Any) -> ActionNode | None:
        """The first action for which ``good(node)`` is false (e.g. an unexpected args digest)."""
        return next((n for n in self.nodes if not good(n)), None)

    # -- state ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"nodes": [n.model_dump(mode="json") for n in self.nodes],
                "pending": [t.model_dump(mode="json") for t in self.pending]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CausalDag:
        """Rebuild, re-checking acyclicity so a hostile snapshot cannot smuggle in a cycle."""
        dag = cls()
        for raw in data.get("nodes", []):
            node = ActionNode.model_validate(raw)
            last = dag.nodes[-1].seq if dag.nodes else -1
            refs = node.deps + ((node.parent,) if node.parent is not None else ())
            if node.seq <= last or any(r not in dag._index for r in refs):
                raise DagError(f"snapshot node {node.seq} is out of order or refers to a later action")
            dag._insert(node)
        dag.pending = [ReasoningTrace.model_validate(t) for t in data.get("pending", [])]
        return dag


class CausalOptions(BaseModel):
    """``layers.observability.config`` of the causal variant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent_name: str | None = None  # gen_ai.agent.name on exported spans
    epoch: str = DEFAULT_EPOCH  # wall-clock-looking time of simulated minute 0 (display, spans)
    history_limit: int = 50  # most nodes one history answer carries (the newest are kept)
    z_threshold: float = 3.0  # |z| at which a metric point counts as anomalous
    baseline_minutes: int = 30  # metric baseline: this many minutes before the window
    log_levels: tuple[str, ...] = ("ERROR", "WARN")  # log lines correlate() reports
    slow_factor: float = 2.0  # a span is slow above this multiple of its service's median
    change_ops: tuple[str, ...] = CHANGE_OPS  # change-history operations correlated as changes


_NEEDS = {"last_change": "resource", "actions_touching": "resource", "ancestors": "seq", "dependencies": "seq",
          "call": "seq"}
QUERY_OPS = ("last_change", "failed_calls", "ancestors", "dependencies", "actions_touching", "recent", "grep", "call")


@OBSERVABILITY_LAYERS.register("causal", options=CausalOptions)
class CausalLayer:
    """Agent-native observability: the DAG, reasoning traces, structured history and
    telemetry queries, OpenTelemetry export (``otel.export_spans``)."""

    variant = "causal"

    def __init__(self, options: CausalOptions | None = None):
        self.config = options or CausalOptions()
        self.dag = CausalDag()
        # Full arguments of every recorded call, for the ``call`` query: a node keeps only a
        # digest and a cut summary, but undoing an edit needs exactly what was sent.
        self.calls: dict[int, dict[str, Any]] = {}

    def record(self, action: ActionEvent) -> int:
        seq = self.dag.add(action).seq
        self.calls[seq] = dict(action.args)
        return seq

    def think(self, trace: ReasoningTrace) -> None:
        self.dag.pending.append(trace)

    def history(self, query: Any) -> Observation:
        """``query``: a dict ``{"op": one of QUERY_OPS, ...}`` (resource / seq / since / text / n),
        or a string, taken as ``{"op": "grep", "text": query}``. ``call`` returns the full
        arguments of one past call (``seq``) as data."""
        if isinstance(query, str):
            query = {"op": "grep", "text": query}
        if not isinstance(query, dict) or query.get("op") not in QUERY_OPS:
            return _bad(f"history query needs op in {', '.join(QUERY_OPS)}", "op")
        op, dag, limit = query["op"], self.dag, self.config.history_limit
        need = _NEEDS.get(op)
        if need and need not in query:
            return _bad(f"history {op} needs {need!r}", need)
        try:
            if op == "call":
                node = dag.node(int(query["seq"]))
                return _ok(op, {"seq": node.seq, "tool": node.tool, "args": self.calls.get(node.seq, {})})
            if op == "last_change":
                n = dag.last_change(str(query["resource"]))
                return _ok(op, {"resource": query["resource"], "action": n.model_dump(mode="json") if n else None})
            if op in ("ancestors", "dependencies"):
                seqs = getattr(dag, op)(int(query["seq"]))
                return _ok(op, {"seq": int(query["seq"]), "seqs": seqs,
                                "actions": _dump([dag.node(s) for s in seqs[-limit:]])})
            if op == "failed_calls":
                since = query.get("since")
                nodes = dag.failed_calls(None if since is None else int(since))
            elif op == "actions_touching":
                nodes = dag.actions_touching(str(query["resource"]))
            elif op == "recent":
                nodes = dag.nodes[-int(query.get("n", 10)):]
            else:
                text = str(query.get("text", "")).lower()
                nodes = [n for n in dag.nodes if text in f"{n.tool} {n.summary} {n.outcome}".lower()]
            return _ok(op, {"count": len(nodes), "actions": _dump(nodes[-limit:])})
        except KeyError as e:  # only dag.node raises it: an unknown seq
            return _bad(f"{op}: {e.args[0]}", "seq", code="not_found")
        except (TypeError, ValueError) as e:
            return _bad(f"{op}: {e}", None)

    def telemetry(self, source: Any, service: str, window: TelemetryWindow | tuple[int, int]) -> Observation:
        w = window if isinstance(window, TelemetryWindow) else TelemetryWindow(t0=window[0], t1=window[1])
        c = self.config
        data = TelemetryData.of(source)
        if service not in data.metrics and service not in data.logs:
            return Observation(tool="telemetry", ok=False, applied=False,
                               error=ToolError(code="not_found", message=f"no telemetry for service {service!r}",
                                               field="service"))
        res = correlate(data, service, w.t0, w.t1, z_threshold=c.z_threshold, baseline_minutes=c.baseline_minutes,
                        levels=c.log_levels, slow_factor=c.slow_factor, change_ops=c.change_ops)
        return Observation(tool="telemetry", ok=True, data=res.model_dump(mode="json"))

    def snapshot(self) -> dict[str, Any]:
        return {"variant": self.variant, "version": SNAPSHOT_VERSION, **self.dag.to_dict(),
                "calls": [[seq, args] for seq, args in self.calls.items()]}

    def restore(self, data: dict[str, Any]) -> None:
        check_version(data, self.variant)
        try:
            self.dag = CausalDag.from_dict(data)
            self.calls = {int(seq): dict(args) for seq, args in data.get("calls", [])}
        except (ValueError, TypeError) as e:  # pydantic ValidationError is a ValueError
            raise ConfigError(f"corrupt observability.causal snapshot: {e}") from None

    def export(self) -> dict[str, Any]:
        return {"variant": self.variant, "nodes": self.dag.to_dict()["nodes"]}


def _dump(nodes: list[ActionNode]) -> list[dict[str, Any]]:
    return [n.model_dump(mode="json") for n in nodes]


def _ok(op: str, result: dict[str, Any]) -> Observation:
    return Observation(tool="history", ok=True, data={"op": op, **result})


def _bad(message: str, field: str | None, code: str = "invalid_arguments") -> Observation:
    return Observation(tool="history", ok=False, applied=False,
                       error=ToolError(code=code, message=message, field=field))
