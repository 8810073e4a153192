"""Graphviz DOT text of a causal DAG, for ``harness trace EPISODE``.

Solid edges are parent pointers (the line of work), dashed edges causal dependencies;
failed actions are filled red, actions preceded by a reasoning trace have a double border.
"""

from __future__ import annotations

import textwrap

from harness.runtime.observability.causal import CausalDag


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _summary(text: str, max_label: int | None, wrap: int) -> str:
    """Cut to ``max_label`` characters, or (None) never cut: wrapped at ``wrap`` per line."""
    if max_label is not None:
        return text if len(text) <= max_label else text[: max_label - 3] + "..."
    return "\n".join(textwrap.wrap(text, wrap, break_on_hyphens=False)) or text


def dag_dot(dag: CausalDag, *, max_label: int | None = 48, title: str | None = None, wrap: int = 48) -> str:
    """``title`` (e.g. the episode's verdict) labels the graph; ``max_label=None`` keeps every
    summary whole, wrapped at ``wrap`` characters a line."""
    out = ["digraph actions {", "  rankdir=LR;", '  node [shape=box, fontname="monospace", fontsize=10];']
    if title is not None:
        out.append(f"  graph [label={_quote(title)}, labelloc=t, labeljust=l];")
    for n in dag.nodes:
        summary = _summary(n.summary, max_label, wrap)
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
