"""An episode's DAG as Graphviz lays it out, for ``harness view``.

Two sources: the stored actions (each action's parent link; the store keeps the previous
action of its line of work, so the picture is the episode's order of work), and, on
request, the observability layer's full record from re-running the episode
(``harness.experiment.rerun``: lines of work, causal dependencies as dashed edges,
outcomes). Unlike ``harness trace``'s first picture, the title carries the verdict
(success or FAILURE, how the episode ended, how many checks passed and which failed), and
no label is cut: long text wraps onto further lines. Without ``dot`` installed ``svg``
returns None and the page says so in one line.
"""

from __future__ import annotations

import json
import math
import shutil
import textwrap
from collections.abc import Iterable
from typing import Any

import graphviz
import pandas as pd

WRAP = 44  # characters per label line: wrapped, never cut
# A node shows at most this many lines of arguments: a 2,000-character file body would make
# one box the height of the page. The rest is counted in the box and shown in the transcript.
ARG_LINES = 8
FAILED = {"style": "filled,bold", "fillcolor": "#f4b6b6", "color": "#b00000"}
OK = {"style": "filled", "fillcolor": "#eef3f8", "color": "#4a5a6a"}
# dependencies do not set ranks: the layout follows the lines of work, dependencies arc across
DEP = {"style": "dashed", "color": "#1f5fbf", "constraint": "false"}


def verdict_title(key: Any, row: dict[str, Any], verdicts: list[dict[str, Any]]) -> str:
    """``cond · task · repeat r: FAILURE (submitted), checks 2/3 passed; failed: name``."""
    outcome = "success" if row.get("success") else "FAILURE"
    passed = sum(v["passed"] for v in verdicts)
    failed = [v["checker"] for v in verdicts if not v["passed"]]
    title = (f"{key.condition} · {key.task_id} · repeat {key.repeat}: {outcome} ({row.get('termination')}), "
             f"checks {passed}/{len(verdicts)} passed")
    return title + (f"; failed: {', '.join(dict.fromkeys(failed))}" if failed else "")


def _wrap(text: str) -> list[str]:
    return [piece for line in str(text).splitlines() or [""]
            for piece in textwrap.wrap(line, WRAP, break_long_words=True, break_on_hyphens=False) or [""]]


def _label(lines: Iterable[str]) -> str:
    # graphviz reads backslash escapes in labels: keep the text's own backslashes literal,
    # and end each line with \l (left-justified)
    return "".join(line.replace("\\", "\\\\") + "\\l" for line in lines)


def node_label(action: dict[str, Any]) -> str:
    """``#seq tool`` whole, then the arguments as compact JSON, wrapped (up to ``ARG_LINES``
    lines, then how many characters more), and whether it failed."""
    lines = [f"#{action['seq']} {action['tool']}"]
    args = action.get("args")
    if isinstance(args, dict) and args:
        text = json.dumps(args, sort_keys=True, separators=(", ", ": "), default=str, ensure_ascii=False)
        wrapped = _wrap(text)
        if len(wrapped) > ARG_LINES:
            rest = len(text) - sum(len(x) for x in wrapped[:ARG_LINES])
            wrapped = [*wrapped[:ARG_LINES], f"… {rest} more characters (in the transcript)"]
        lines += wrapped
    if not action.get("ok"):
        lines.append("(failed)")
    return _label(lines)


def _graph(title: str) -> graphviz.Digraph:
    return graphviz.Digraph("episode", graph_attr={
        "rankdir": "TB", "label": title.replace("\\", "\\\\"), "labelloc": "t", "labeljust": "l",
        "fontname": "DejaVu Sans", "fontsize": "12", "nodesep": "0.25", "ranksep": "0.3"},
        node_attr={"shape": "box", "fontname": "DejaVu Sans Mono", "fontsize": "9"})


def _session(value: Any) -> int | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def _add_nodes(g: graphviz.Digraph, nodes: list[dict[str, Any]], label: Any) -> None:
    """Nodes, boxed by work session where the sessions are known."""
    sessions = list(dict.fromkeys(_session(n.get("session")) for n in nodes))
    for s in sessions:
        members = [n for n in nodes if _session(n.get("session")) == s]
        if s is None or len(sessions) == 1:
            target = g
            for n in members:
                target.node(f"a{int(n['seq'])}", label(n), **(OK if n.get("ok") else FAILED))
            continue
        with g.subgraph(name=f"cluster_s{s}", graph_attr={"label": f"session {s}", "style": "dotted"}) as c:
            for n in members:
                c.node(f"a{int(n['seq'])}", label(n), **(OK if n.get("ok") else FAILED))


def dot_source(title: str, actions: pd.DataFrame) -> str:
    """DOT text from the stored actions: one box per action, an edge from each parent."""
    records = actions.to_dict("records")
    g = _graph(title)
    _add_nodes(g, records, node_label)
    seqs = {int(a["seq"]) for a in records}
    for a in records:
        parent = a.get("parent")
        if parent is not None and not pd.isna(parent) and int(parent) in seqs:
            g.edge(f"a{int(parent)}", f"a{int(a['seq'])}")
    return g.source


def record_label(node: dict[str, Any]) -> str:
    """A causal record's node: ``#seq tool [line]``, what was called, what came back."""
    lines = [f"#{node['seq']} {node['tool']}  [{node.get('line')}]"]
    lines += _wrap(node.get("summary") or "")
    lines += _wrap(f"-> {node.get('outcome')}")
    if node.get("traces"):
        lines.append(f"({len(node['traces'])} reasoning trace(s) before)")
    return _label(lines)


def record_dot(title: str, record: dict[str, Any], *, deps: bool = True) -> str:
    """DOT text of an observability layer's causal record: parents solid, dependencies
    dashed (a dependency on the parent is drawn once, as the parent edge; ``deps=False``
    leaves them out, for an episode where one early action feeds dozens)."""
    nodes = list(record.get("nodes", []))
    g = _graph(title)
    _add_nodes(g, nodes, record_label)
    for n in nodes:
        if n.get("parent") is not None:
            g.edge(f"a{int(n['parent'])}", f"a{int(n['seq'])}")
        for d in n.get("deps", ()) if deps else ():
            if d != n.get("parent"):
                g.edge(f"a{int(d)}", f"a{int(n['seq'])}", **DEP)
    return g.source


def dot_available() -> bool:
    return shutil.which("dot") is not None


def svg(source: str) -> str | None:
    """The laid-out picture as an inline ``<svg>`` element, or None without ``dot``."""
    if not dot_available():
        return None
    out = graphviz.Source(source).pipe(format="svg", encoding="utf-8")
    return out[out.index("<svg"):]
