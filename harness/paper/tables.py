"""The paper's tables: each measured value with its 95% CI beside the report's claim, and
whether the claim lies inside the interval. Claims are only ever compared against here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.analysis.bootstrap import OVERALL
from harness.paper.claims import Claims
from harness.paper.tex import tex_escape

CATEGORIES = ("code_modification", "code_review", "system_administration", "data_analysis")


@dataclass(frozen=True)
class Cell:
    """One measured quantity beside one claim (numbers in the claim's unit)."""

    label: str
    estimate: float | None
    low: float | None
    high: float | None
    claim: float | str | None

    @property
    def inside(self) -> str:
        if self.estimate is None or self.claim is None:
            return "—"
        if isinstance(self.claim, str):
            return "yes" if _norm(self.claim) == _norm(str(self.estimate)) else "no"
        return "yes" if self.low <= self.claim <= self.high else "no"

    def measured(self) -> str:
        if self.estimate is None:
            return "—"
        if isinstance(self.estimate, str):
            return self.estimate
        return f"{self.estimate:.1f} [{self.low:.1f}, {self.high:.1f}]"

    def reported(self) -> str:
        if self.claim is None:
            return "—"
        return self.claim if isinstance(self.claim, str) else f"{self.claim:g}"


def _norm(text: str) -> str:
    return text.lower().replace(" gap", "").strip()


@dataclass(frozen=True)
class PaperTable:
    name: str
    caption: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]

    def write(self, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        md, tex = out_dir / f"{self.name}.md", out_dir / f"{self.name}.tex"
        md.write_text(self.markdown())
        tex.write_text(self.latex())
        return [md, tex]

    def markdown(self) -> str:
        lines = [f"**{self.caption}**", "", "| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines) + "\n"

    def latex(self) -> str:
        cols = "l" + "r" * (len(self.header) - 1)
        body = [" & ".join(tex_escape(c) for c in r) + r" \\" for r in self.rows]
        return "\n".join([r"\begin{table}[t]", r"\centering\small", f"\\caption{{{tex_escape(self.caption)}}}",
                          f"\\label{{tab:{self.name}}}", f"\\begin{{tabular}}{{{cols}}}", r"\toprule",
                          " & ".join(tex_escape(h) for h in self.header) + r" \\", r"\midrule", *body,
                          r"\bottomrule", r"\end{tabular}", r"\end{table}"]) + "\n"


def _value(claims: Claims, claim_id: str) -> float | str | None:
    try:
        return claims.get(claim_id).value
    except KeyError:
        return None


def _pp(est: pd.DataFrame, **match) -> tuple[float | None, float | None, float | None]:
    """(estimate, low, high) in percent / points of the one estimate row matching."""
    rows = est
    for k, v in match.items():
        rows = rows[rows[k] == v]
    if rows.empty:
        return None, None, None
    r = rows.iloc[0]
    return 100 * r.estimate, 100 * r.low, 100 * r.high


def table2(est: pd.DataFrame, claims: Claims, drivers: dict[str, str]) -> PaperTable | None:
    """Table 2: completion under I_human and I_opt and the gap, per category and overall."""
    gap = est[est.analysis == "gap"]
    if gap.empty:
        return None
    treatment, baseline = gap.conditions.iloc[0].split("|")
    rows = []
    for cat in (*[c for c in CATEGORIES if c in set(gap.category)], OVERALL):
        prefix = f"table2.{cat}" if cat != OVERALL else "section3.overall"
        cells = [
            Cell("I_human", *_pp(est, analysis="completion", conditions=baseline, category=cat),
                 _value(claims, f"{prefix}.i_human")),
            Cell("I_opt", *_pp(est, analysis="completion", conditions=treatment, category=cat),
                 _value(claims, f"{prefix}.i_opt")),
            Cell("gap", *_pp(est, analysis="gap", category=cat), _value(claims, f"{prefix}.gap")),
        ]
        driver = Cell("driver", drivers.get(cat), None, None, _value(claims, f"{prefix}.driver"))
        rows.append((cat.replace("_", " "), *(x for c in cells for x in (c.measured(), c.reported(), c.inside)),
                     driver.measured(), driver.reported()))
    header = ("category", "I_human", "report", "in CI", "I_opt", "report", "in CI", "gap (pp)", "report",
              "in CI", "driver", "report")
    caption = (f"Table 2 reproduced: completion (%) under {baseline} (I_human) and {treatment} (I_opt), "
               "measured with 95% task-bootstrap CI, beside the report's numbers")
    return PaperTable("table2", caption, header, rows)


def decomposition(est: pd.DataFrame, claims: Claims) -> PaperTable | None:
    d = est[(est.analysis == "decomposition") & (est.category == OVERALL)]
    if d.empty:
        return None
    names = {"context": "context", "agency": "agency", "observability": "observability"}
    rows = []
    for factor, claim_key in names.items():
        cell = Cell(factor, *_pp(d, statistic=f"shapley:{factor}"), _value(claims, f"section3.components.{claim_key}"))
        rows.append((factor, cell.measured(), cell.reported(), cell.inside))
    total = Cell("total", *_pp(d, statistic="gap:gap"), _value(claims, "section3.components.total"))
    rows.append(("total gap", total.measured(), total.reported(), total.inside))
    return PaperTable("decomposition", "Gap decomposition (pp): exact Shapley values, all tasks, beside the "
                      "report's components", ("component", "measured [95% CI]", "report", "in CI"), rows)


def pass_k(est: pd.DataFrame) -> PaperTable | None:
    """The report's pass^k table (with CIs) as a paper table; the report publishes none."""
    from harness.analysis.report_tables import pass_k as pass_k_display

    d = pass_k_display(est)
    return None if d is None else PaperTable("pass_k", d.title + " (no published counterpart)", d.columns, d.rows)


def table3(perf: pd.DataFrame, claims: Claims) -> PaperTable | None:
    """Table 3: median / p95 / p99 of each execution-layer figure beside the report's."""
    from harness.analysis.exec_perf import FIGURES, quantiles, setting

    q = quantiles(perf)
    if q.empty:
        return None
    rows = []
    for fig in FIGURES:
        got = q[q.metric == fig.metric]
        if got.empty:
            continue
        r = got.iloc[0]
        cells = [fig.label, fig.unit, str(int(r.n))]
        for stat in ("median", "p95", "p99"):
            claim = _claim_in(claims, fig, stat)
            cells += [f"{r[stat]:.3g}", "—" if claim is None else f"{claim:g}"]
        rows.append(tuple(cells))
    interval, timeout = setting(perf, "heartbeat_interval_ms"), setting(perf, "heartbeat_timeout_ms")
    beat = f"; heartbeat {interval:g} ms, timeout {timeout:g} ms" if interval is not None else ""
    caption = f"Table 3 reproduced: execution layer under real SIGKILLs{beat}; the report's values in its units converted"
    header = ("figure", "unit", "events", "median", "report", "p95", "report", "p99", "report")
    return PaperTable("table3", caption, header, rows)


_TO = {("s", "ms"): 1000.0, ("ms", "ms"): 1.0, ("MB", "MB"): 1.0}


def _claim_in(claims: Claims, fig, stat: str) -> float | None:
    """The report's figure converted to the unit the table shows (its p95/p99 are in s)."""
    if fig.claim_row is None:
        return None
    try:
        claim = claims.get(f"table3.{fig.claim_row}.{stat}")
    except KeyError:
        return None
    factor = _TO.get((claim.unit, fig.unit))
    return None if factor is None or not isinstance(claim.value, int | float) else claim.value * factor
