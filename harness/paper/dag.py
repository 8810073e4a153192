"""The record one episode's observability layer kept, drawn as what it is.

A ``causal`` record is a DAG: x is the order of actions, y the lane (session and line of
work); solid arrows are parent pointers, dashed arcs causal dependencies, failed actions
are red, actions preceded by a reasoning trace carry a diamond. A ``textlog`` record has
no graph: it is drawn as the single chain of text lines an agent could read back, which
is the contrast the figure exists to show. No graphviz: a layered layout is enough, and
long episodes wrap onto further bands of lanes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from harness.paper.style import DPI, NEGATIVE, NEUTRAL, POSITIVE, save, style

WIDTH_IN = 7.0
PER_BAND = 8  # actions per band before wrapping: ~0.77 in per action fits a 12-char tool name
LANE_IN = 0.42  # height of one lane
TOP_IN, BOTTOM_IN, LEFT = 0.5, 0.3, 0.09  # title above, legend below, lane names left
TOOL_CHARS = 12
# A node's half width and half height in data units (x: one action, y: one lane), so that
# arrows end at the box edges rather than under them.
HALF_W, HALF_H = 0.39, 0.28
LOG_CHARS = 118  # a 6 pt monospace line across the width
LOG_HEAD, LOG_TAIL = 40, 15  # a long log shows its start and end, saying how much is cut
FAILED_FILL, OK_FILL, TRACE_MARK = "#f6c9b5", "#eef3f8", "#009E73"


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _tool_lines(tool: str, n: int = TOOL_CHARS) -> str:
    """A tool name on up to two lines, broken after an underscore where one fits: whole
    names like ``replace_in_file`` instead of ``replace_in_…``."""
    if len(tool) <= n:
        return tool
    cut = tool.rfind("_", 0, n) + 1 or n
    return f"{tool[:cut]}\n{_cut(tool[cut:], n)}"


def _lanes(nodes: list[dict[str, Any]]) -> list[str]:
    """Lines of work in order of first appearance."""
    return list(dict.fromkeys(str(n["line"]) for n in nodes))


def _positions(nodes: list[dict[str, Any]]) -> tuple[dict[int, tuple[float, float]], int]:
    lanes = {lane: i for i, lane in enumerate(_lanes(nodes))}
    band_height = len(lanes) + 0.7  # a gap between wrapped bands
    pos = {}
    for i, n in enumerate(nodes):
        band, col = divmod(i, PER_BAND)
        pos[int(n["seq"])] = (float(col), -(band * band_height + lanes[str(n["line"])]))
    bands = (len(nodes) + PER_BAND - 1) // PER_BAND
    return pos, bands


def _edge(ax: Axes, a: tuple[float, float], b: tuple[float, float], dashed: bool) -> None:
    rad = 0.0
    if dashed:  # over the top of the lane, so it is not hidden by the parent chain
        start, end = (a[0], a[1] + HALF_H), (b[0], b[1] + HALF_H)
        # arc3 bulges by rad x distance: a flatter arc for a far dependency stays in its band
        rad = -min(0.4, 0.5 / max(abs(b[0] - a[0]) + abs(b[1] - a[1]), 1e-9))
    elif a[1] == b[1]:
        start, end = (a[0] + HALF_W, a[1]), (b[0] - HALF_W, b[1])
    else:  # to another lane or, wrapping, to the next band
        start, end = (a[0], a[1] - HALF_H), (b[0], b[1] + HALF_H)
    ax.annotate("", xy=end, xytext=start, zorder=1, arrowprops={
        "arrowstyle": "-|>", "lw": 0.7, "shrinkA": 0, "shrinkB": 0, "mutation_scale": 6,
        "color": POSITIVE if dashed else NEUTRAL, "linestyle": (0, (3, 2)) if dashed else "solid",
        "connectionstyle": f"arc3,rad={rad}"})


def _node(ax: Axes, n: dict[str, Any], xy: tuple[float, float]) -> None:
    failed = not n["ok"]
    ax.text(*xy, f"#{n['seq']}\n{_tool_lines(str(n['tool']))}", ha="center", va="center", fontsize=5.5,
            family="monospace", zorder=3, parse_math=False,
            bbox={"boxstyle": "round,pad=0.3", "lw": 1.1 if failed else 0.6,
                  "fc": FAILED_FILL if failed else OK_FILL, "ec": NEGATIVE if failed else NEUTRAL})
    if n.get("traces"):
        ax.plot(xy[0] + 0.3, xy[1] + 0.28, marker="D", ms=3.5, color=TRACE_MARK, zorder=4, lw=0)


def _legend(ax: Axes) -> None:
    handles = [Line2D([], [], color=NEUTRAL, lw=0.8, label="parent (same line of work)"),
               Line2D([], [], color=POSITIVE, lw=0.8, ls=(0, (3, 2)), label="causal dependency"),
               Patch(fc=FAILED_FILL, ec=NEGATIVE, label="failed action"),
               Line2D([], [], color=TRACE_MARK, marker="D", ms=3.5, lw=0, label="reasoning trace")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4, fontsize=6.5,
              frameon=False, handlelength=2.2)


def _sessions(ax: Axes, nodes: list[dict[str, Any]], pos: dict[int, tuple[float, float]], lanes: int) -> None:
    """A dotted rule before the first action of each later work session."""
    for prev, n in zip(nodes, nodes[1:], strict=False):
        if n["session"] != prev["session"]:
            x, y = pos[int(n["seq"])]
            ax.plot([x - 0.5] * 2, [y + 0.45, y - lanes + 0.55], ls=":", lw=0.8, color=NEUTRAL, zorder=0)
            ax.text(x - 0.47, y + 0.45, f"session {n['session']}", fontsize=5.5, color=NEUTRAL, va="top")


def _lane_ticks(ax: Axes, nodes: list[dict[str, Any]], pos: dict[int, tuple[float, float]]) -> None:
    labels: dict[float, str] = {}
    for n in nodes:
        labels.setdefault(pos[int(n["seq"])][1], str(n["line"]))
    ax.set_yticks(list(labels), list(labels.values()), fontsize=6)
    ax.set_xticks([])
    ax.tick_params(left=False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)


def _draw_causal(record: dict[str, Any], title: str) -> Figure:
    nodes = list(record.get("nodes", []))
    pos, bands = _positions(nodes)
    lanes = max(1, len(_lanes(nodes)))
    body = LANE_IN * (bands * lanes + 0.7 * max(0, bands - 1) + 0.4 + 0.35 * any(n.get("deps") for n in nodes))
    height = TOP_IN + body + BOTTOM_IN
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    ax = fig.add_axes((LEFT, BOTTOM_IN / height, 0.99 - LEFT, body / height))
    for n in nodes:
        b = pos[int(n["seq"])]
        if n.get("parent") is not None:
            _edge(ax, pos[int(n["parent"])], b, dashed=False)
        for d in n.get("deps", ()):
            _edge(ax, pos[int(d)], b, dashed=True)
        _node(ax, n, b)
    ys = [y for _, y in pos.values()] or [0.0]
    ax.set_xlim(-0.6, PER_BAND - 0.4)
    headroom = 0.35 if any(n.get("deps") for n in nodes) else 0.0
    ax.set_ylim(min(ys) - 0.45, max(ys) + 0.45 + headroom)
    _sessions(ax, nodes, pos, lanes)
    _lane_ticks(ax, nodes, pos)
    failed = sum(not n["ok"] for n in nodes)
    ax.set_title(f"{title}\ncausal record: {len(nodes)} actions, {failed} failed", fontsize=8, loc="left")
    if not nodes:
        ax.text(PER_BAND / 2, 0, "no actions recorded", ha="center", va="center", fontsize=7)
    _legend(ax)
    return fig


def _log_view(lines: list[str]) -> list[str | None]:
    """The lines shown; None marks where a long log is cut."""
    if len(lines) <= LOG_HEAD + LOG_TAIL:
        return list(lines)
    return [*lines[:LOG_HEAD], None, *lines[-LOG_TAIL:]]


def _draw_textlog(record: dict[str, Any], title: str) -> Figure:
    lines = [str(x) for x in record.get("lines", [])]
    shown = _log_view(lines)
    rows = max(1, len(shown))
    height = TOP_IN + 0.2 * rows + 0.1
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    ax = fig.add_axes((0.02, 0.1 / height, 0.96, 0.2 * rows / height))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(-rows + 0.5, 0.5)
    for i, line in enumerate(shown):
        if i:
            ax.annotate("", xy=(0.012, -i + 0.3), xytext=(0.012, -i + 0.7), arrowprops={
                "arrowstyle": "-|>", "lw": 0.6, "color": NEUTRAL, "mutation_scale": 5})
        text = f"… {len(lines) - LOG_HEAD - LOG_TAIL} lines not shown …" if line is None else _cut(line, LOG_CHARS)
        ax.text(0.025, -i, text, ha="left", va="center", fontsize=5.5, family="monospace", parse_math=False,
                bbox={"boxstyle": "square,pad=0.2", "lw": 0.4, "fc": "white", "ec": NEUTRAL})
    if not lines:
        ax.text(0.5, 0, "no log lines", ha="center", va="center", fontsize=7)
    ax.set_title(f"{title}\ntext log: {len(lines)} lines, no links between them", fontsize=8, loc="left")
    return fig


DRAWERS: dict[str, Callable[[dict[str, Any], str], Figure]] = {"causal": _draw_causal, "textlog": _draw_textlog}


def draw_dag(record: dict[str, Any], out: Path, title: str) -> list[Path]:
    """Write ``<out>.pdf`` and ``<out>.png`` for an observability layer's export; returns
    the paths. The record's ``variant`` picks the drawing."""
    variant = record.get("variant")
    if variant not in DRAWERS:
        raise ValueError(f"no drawing for observability variant {variant!r}; known: {', '.join(sorted(DRAWERS))}")
    out = Path(out)
    with style():
        fig = DRAWERS[variant](record, title)
        return save(fig, out.parent, out.name)
