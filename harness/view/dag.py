"""The causal DAG of one stored episode (actions and their parent links), laid out by Graphviz.

Unlike ``harness trace``'s first picture, the title carries the verdict (success or
failure, then how the episode ended, then how many checks passed), and a node's label is
never cut: long arguments wrap onto further lines instead. ``dot`` does the layout; when it
is not installed ``svg`` returns None and the page says so in one line.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from typing import Any

import graphviz
import pandas as pd

WRAP = 44  # characters per label line: wrapped, never cut
FAILED = {"style": "filled,bold", "fillcolor": "#f4b6b6", "color": "#b00000"}
OK = {"style": "filled", "fillcolor": "#eef3f8", "color": "#4a5a6a"}


def verdict_title(key: Any, row: dict[str, Any], verdicts: list[dict[str, Any]]) -> str:
    """``cond · task · repeat r: FAILURE (submitted), checks 2/3 passed; failed: name``."""
    outcome = "success" if row.get("success") else "FAILURE"
    passed = sum(v["passed"] for v in verdicts)
    failed = [v["checker"] for v in verdicts if not v["passed"]]
    title = (f"{key.condition} · {key.task_id} · repeat {key.repeat}: {outcome} ({row.get('termination')}), "
             f"checks {passed}/{len(verdicts)} passed")
    return title + (f"; failed: {', '.join(dict.fromkeys(failed))}" if failed else "")


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, WRAP, break_long_words=True, break_on_hyphens=False) or [""]


def node_label(action: dict[str, Any]) -> str:
    """``#seq tool`` then the arguments as compact JSON, wrapped; and whether it failed."""
    lines = [f"#{action['seq']} {action['tool']}"]
    args = action.get("args")
    if isinstance(args, dict) and args:
        lines += _wrap(json.dumps(args, sort_keys=True, separators=(", ", ": "), default=str))
    if not action.get("ok"):
        lines.append("(failed)")
    # graphviz reads backslash escapes in labels: keep the text's own backslashes literal,
    # and end each line with \l (left-justified)
    return "".join(line.replace("\\", "\\\\") + "\\l" for line in lines)


def dot_source(title: str, actions: pd.DataFrame) -> str:
    """DOT text: one box per action, an edge from each action's parent."""
    g = graphviz.Digraph("episode", graph_attr={
        "rankdir": "TB", "label": title, "labelloc": "t", "labeljust": "l", "fontname": "DejaVu Sans",
        "fontsize": "12", "nodesep": "0.25", "ranksep": "0.3"},
        node_attr={"shape": "box", "fontname": "DejaVu Sans Mono", "fontsize": "9"})
    records = actions.to_dict("records")
    seqs = {int(a["seq"]) for a in records}
    for a in records:
        g.node(f"a{int(a['seq'])}", node_label(a), **(OK if a.get("ok") else FAILED))
    for a in records:
        parent = a.get("parent")
        if parent is not None and not pd.isna(parent) and int(parent) in seqs:
            g.edge(f"a{int(parent)}", f"a{int(a['seq'])}")
    return g.source


def dot_available() -> bool:
    return shutil.which("dot") is not None


def svg(source: str) -> str | None:
    """The laid-out picture as an inline ``<svg>`` element, or None without ``dot``."""
    if not dot_available():
        return None
    out = graphviz.Source(source).pipe(format="svg", encoding="utf-8")
    return out[out.index("<svg"):]
