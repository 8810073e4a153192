"""Graphviz DOT text of a causal DAG, for ``harness trace EPISODE``.

Solid edges are parent pointers (the line of work), dashed edges causal dependencies;
failed actions are filled red, actions preceded by a reasoning trace have a double border.
"""

from __future__ import annotations

from harness.runtime.observability.causal import CausalDag


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dag_dot(dag: CausalDag, *, max_label: int = 48) -> str:
    out = ["digraph actions {", "  rankdir=LR;", '  node [shape=box, fontname="monospace", fontsize=10];']
    for n in dag.nodes:
        summary = n.summary if len(n.summary) <= max_label else n.summary[: max_label - 3] + "..."
        label = f"#{n.seq} {n.tool}\n{summary}\n-> {n.outcome}"
        style = ['style="filled,bold"', 'fillcolor="#f4b6b6"', 'color="#b00000"'] if not n.ok else []
        if n.traces:
            style.append("peripheries=2")
        out.append(f"  a{n.seq} [label={_quote(label)}{''.join(', ' + s for s in style)}];")
    for n in dag.nodes:
        if n.parent is not None:
            out.append(f"  a{n.parent} -> a{n.seq};")
        for d in n.deps:
            out.append(f'  a{d} -> a{n.seq} [style=dashed, color="#1f5fbf"];')
    out.append("}")
    return "\n".join(out) + "\n"
