"""LaTeX text: the one escaping rule for every table, caption and methods item written as TeX
(the paper's files and ``harness report --format tex``)."""

from __future__ import annotations


def tex_escape(text: str) -> str:
    out = str(text).replace("\\", "\\textbackslash{}").replace("^", "\\textasciicircum{}")
    for ch in "_%&#$":
        out = out.replace(ch, "\\" + ch)
    out = out.replace("×", "$\\times$").replace("−", "--").replace("≥", "$\\geq$").replace("→", "$\\rightarrow$")
    # Text-mode < and > print as ¡ and ¿ in LaTeX's default font encoding.
    return out.replace("<", "$<$").replace(">", "$>$")
