"""One table structure (``harness.analysis.report_tables.Display``), three renderings:
rich (terminal), Markdown and LaTeX. A ``header`` (an incomplete run says so) comes
first, where a reader meets it before any number."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.analysis.report_tables import Display
from harness.paper.tex import tex_escape


def rich(tables: list[Display], header: str | None = None) -> None:
    console = Console(width=None if sys.stdout.isatty() else 160)  # pipes and CI logs: don't squeeze
    if header:
        console.print(f"[bold yellow]{escape(header)}[/]", soft_wrap=True)
    for d in tables:
        t = Table(title=d.title, caption=d.note or None, caption_justify="left")
        for i, col in enumerate(d.columns):
            t.add_column(col, justify="left" if i == 0 else "right", no_wrap=True)
        for row in d.rows:
            t.add_row(*row)
        console.print(t)


def markdown(tables: list[Display], header: str | None = None) -> None:
    if header:
        print(f"**{header}**")
    for d in tables:
        print(f"\n### {d.title}\n")
        print("| " + " | ".join(d.columns) + " |")
        print("|" + "---|" * len(d.columns))
        for row in d.rows:
            print("| " + " | ".join(row) + " |")
        if d.note:
            print(f"\n{d.note}")


def latex(tables: list[Display], header: str | None = None) -> None:
    if header:  # a comment would not show in the typeset document
        print(f"% {tex_escape(header)}\n\\noindent\\textbf{{{tex_escape(header)}}}\\par")
    for d in tables:
        print(f"\n% {tex_escape(d.title)}")
        print("\\begin{tabular}{l" + "r" * (len(d.columns) - 1) + "}\n\\toprule")
        print(" & ".join(tex_escape(c) for c in d.columns) + " \\\\\n\\midrule")
        for row in d.rows:
            print(" & ".join(tex_escape(c) for c in row) + " \\\\")
        print("\\bottomrule\n\\end{tabular}")
        if d.note:
            print(f"% {tex_escape(d.note)}")
