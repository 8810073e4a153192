"""One look for every figure of the report: single-column width, Okabe–Ito colours, 8–9 pt.

Figures are built as bare ``matplotlib.figure.Figure`` objects and written through explicit
canvases, so drawing them never touches pyplot's global state or the session's backend
(a notebook that imports this module keeps its own backend).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

WIDTH_IN = 3.4  # one column of a two-column paper
DPI = 200

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
POSITIVE, NEGATIVE, NEUTRAL = "#0072B2", "#D55E00", "#999999"

RC = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "lines.linewidth": 1.2,
    "errorbar.capsize": 1.5,
    "pdf.fonttype": 42,  # TrueType, embedded: journals reject Type 3 fonts
    "ps.fonttype": 42,
    "savefig.dpi": DPI,
    "figure.dpi": DPI,
    "svg.hashsalt": "harness",
}

# A fixed (empty) creation date keeps a regenerated PDF byte-identical to the last one.
PDF_METADATA = {"CreationDate": None, "ModDate": None, "Creator": "harness paper", "Producer": None}
PNG_METADATA = {"Software": "harness paper"}


def colour(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


@contextmanager
def style() -> Iterator[None]:
    """The report's rc settings, restored on exit."""
    with matplotlib.rc_context(RC):
        yield


def new_figure(height_in: float, *, subplots: bool = True, **grid):
    """A single-column figure and its axes (or the bare figure with ``subplots=False``);
    constrained layout keeps the width fixed while fitting labels and an outside legend."""
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    return (fig, fig.subplots(**grid)) if subplots else fig


def percent_axis(axis) -> None:
    """Rates stored as fractions, shown as percent."""
    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def points_axis(axis) -> None:
    """Differences of rates stored as fractions, shown as signed percentage points."""
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{100 * v:+.0f}" if abs(v) > 1e-12 else "0"))


def save(fig: Figure, out_dir: Path, name: str) -> list[Path]:
    """Write ``<out_dir>/<name>.pdf`` and ``.png``; the explicit canvases are why no global
    backend is ever set."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf, png = out_dir / f"{name}.pdf", out_dir / f"{name}.png"
    FigureCanvasAgg(fig)  # attaches itself; savefig switches to the PDF canvas for .pdf
    fig.savefig(pdf, format="pdf", dpi=DPI, metadata=PDF_METADATA)
    fig.savefig(png, format="png", dpi=DPI, metadata=PNG_METADATA)
    return [pdf, png]
