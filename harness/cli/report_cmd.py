"""``harness report [RUN]``: per-condition completion and the paired gap per category."""

from __future__ import annotations

import json
import sys
from enum import StrEnum

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from harness.analysis import completion_table, paired_gap
from harness.analysis.shapley import decompose, primary_driver
from harness.core.errors import UserInputError
from harness.store import reader


class Format(StrEnum):
    table = "table"
    md = "md"
    tex = "tex"
    csv = "csv"
    json = "json"


def report(
    run: str = typer.Argument(None, help="Run id (default: the latest run in the store)."),
    db: str = typer.Option("results/harness.duckdb", "--db", help="The DuckDB results file."),
    run_opt: str = typer.Option(None, "--run", help="Run id (same as the argument)."),
    fmt: Format = typer.Option(Format.table, "--format", help="table | md | tex | csv | json"),
    resamples: int = typer.Option(2000, help="Bootstrap resamples for the gap interval."),
) -> None:
    run_id = run or run_opt or reader.latest_run(db)
    info = reader.run_info(db, run_id)
    episodes = reader.episodes(db, run_id)
    if episodes.empty:
        raise UserInputError(f"run {run_id} has no episodes yet", hint="run it with `harness run ...` first")
    completion = completion_table(episodes)
    pair = _comparison(info, episodes)
    seed = info.get("seed", 0) or 0
    gap = paired_gap(episodes, *pair, resamples=resamples, seed=seed) if pair else None
    decomposition = _decomposition(info, episodes, resamples, seed)
    if fmt in (Format.csv, Format.json):  # one machine-readable document, never two
        {Format.csv: _csv, Format.json: _json}[fmt](run_id, info, completion, pair, gap, decomposition)
        return
    emit = {Format.table: _rich, Format.md: _markdown, Format.tex: _latex}[fmt]
    emit(run_id, info, completion, pair, gap)
    if decomposition is not None:
        {Format.table: _rich_decomposition, Format.md: _md_decomposition,
         Format.tex: _tex_decomposition}[fmt](decomposition)


def _decomposition(info: dict, episodes: pd.DataFrame, resamples: int, seed: int) -> pd.DataFrame | None:
    """The exact Shapley split of the gap when the run is a complete factorial."""
    spec = _config(info).get("factorial")
    if not spec:
        return None
    from harness.experiment.factorial import FactorialSpec

    fs = FactorialSpec(**spec)
    cells = fs.cells()
    if not set(cells) <= set(episodes.condition):
        return None  # an unfinished run: no decomposition from a partial factorial
    return decompose(episodes, cells, fs.factors, resamples=resamples, seed=seed)


def _decomposition_wide(d: pd.DataFrame) -> pd.DataFrame:
    wide = d.pivot(index="category", columns="component", values="value")
    wide["primary driver"] = [primary_driver(d, c) for c in wide.index]
    return wide.reindex(sorted(wide.index, key=lambda c: (c == "all", c)))


def _rich_decomposition(d: pd.DataFrame) -> None:
    console = Console(width=None if sys.stdout.isatty() else 120)
    components = [c for c in d.component.unique() if c != "gap"]
    t = Table(title="Gap decomposition: exact Shapley values over the factorial (task bootstrap, 95% CI)")
    for col in ("category", "gap", *components, "primary driver"):
        t.add_column(col, justify="left" if col in ("category", "primary driver") else "right", no_wrap=True)
    for cat, g in sorted(d.groupby("category"), key=lambda kv: (kv[0] == "all", kv[0])):
        cells = {r.component: f"{_pp(r.value)} [{_pp(r.ci_low)}, {_pp(r.ci_high)}]" for r in g.itertuples()}
        t.add_row(cat, cells["gap"], *(cells[c] for c in components), primary_driver(d, cat))
    console.print(t)


def _md_decomposition(d: pd.DataFrame) -> None:
    print("\n### Gap decomposition (exact Shapley, 95% task-bootstrap CI)\n")
    print(_md_table(d))


def _tex_decomposition(d: pd.DataFrame) -> None:
    components = [c for c in d.component.unique() if c != "gap"]
    print("\n% gap decomposition: exact Shapley values (pp)")
    print("\\begin{tabular}{l" + "r" * (len(components) + 1) + "l}\n\\toprule")
    print("Category & Gap & " + " & ".join(_tex_escape(c) for c in components) + " & Primary driver \\\\\n\\midrule")
    wide = _decomposition_wide(d)
    for cat in wide.index:
        vals = " & ".join(f"{100 * wide.loc[cat, c]:+.1f}" for c in ["gap", *components])
        print(f"{_tex_escape(cat)} & {vals} & {_tex_escape(wide.loc[cat, 'primary driver'])} \\\\")
    print("\\bottomrule\n\\end{tabular}")




def _config(info: dict) -> dict:
    config = info.get("config") or {}
    return json.loads(config) if isinstance(config, str) else config


def _condition_order(info: dict) -> list[str]:
    return [c["name"] for c in _config(info).get("conditions", [])]


def _comparison(info: dict, episodes: pd.DataFrame) -> tuple[str, str] | None:
    config = _config(info)
    names = _condition_order(info) or sorted(episodes.condition.unique())
    pair = config.get("compare") or names[:2]
    return (pair[0], pair[1]) if len(pair) == 2 and set(pair) <= set(episodes.condition) else None


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _pp(x: float) -> str:
    return f"{100 * x:+.1f}pp"


def _rich(run_id, info, completion, pair, gap) -> None:
    console = Console(width=None if sys.stdout.isatty() else 120)  # pipes and CI logs: don't squeeze
    wide = completion.pivot(index="category", columns="condition", values="rate")
    order = [c for c in _condition_order(info) if c in wide.columns] or list(wide.columns)
    wide = wide.reindex(index=sorted(wide.index, key=lambda c: (c == "all", c)), columns=order)
    tasks = completion.groupby("category").tasks.max()
    t = Table(title=f"Completion rate — run {run_id} ({info.get('repeats')} repeats)")
    t.add_column("category")
    t.add_column("tasks", justify="right")
    for cond in wide.columns:
        t.add_column(cond, justify="right")
    for cat in wide.index:
        t.add_row(cat, str(tasks[cat]), *(_pct(wide.loc[cat, c]) for c in wide.columns))
    console.print(t)
    if gap is not None:
        g = Table(title=f"Paired gap {pair[0]} − {pair[1]} (task-level bootstrap, 95% percentile CI)")
        for col in ("category", "tasks", pair[0], pair[1], "gap", "95% CI"):
            g.add_column(col, justify="left" if col == "category" else "right", no_wrap=True)
        for r in gap.itertuples():
            g.add_row(r.category, str(r.tasks), _pct(r.treatment), _pct(r.baseline), _pp(r.gap),
                      f"[{_pp(r.ci_low)}, {_pp(r.ci_high)}]")
        console.print(g)


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    fmt = [[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row] for row in df.itertuples(index=False)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in fmt])


def _markdown(run_id, info, completion, pair, gap) -> None:
    print(f"## Run {run_id}\n\n### Completion\n")
    print(_md_table(completion))
    if gap is not None:
        print(f"\n### Paired gap {pair[0]} − {pair[1]}\n")
        print(_md_table(gap))


def _tex_escape(text: str) -> str:
    return str(text).replace("\\", "\\textbackslash{}").replace("_", "\\_").replace("%", "\\%").replace("&", "\\&")


def _latex(run_id, info, completion, pair, gap) -> None:
    wide = completion.pivot(index="category", columns="condition", values="rate")
    cols = [c for c in _condition_order(info) if c in wide.columns] or list(wide.columns)
    print(f"% harness report --format tex, run {_tex_escape(run_id)}")
    print("\\begin{tabular}{l" + "r" * len(cols) + "}\n\\toprule")
    print("Category & " + " & ".join(_tex_escape(c) for c in cols) + " \\\\\n\\midrule")
    for cat in sorted(wide.index, key=lambda c: (c == "all", c)):
        print(_tex_escape(cat) + " & " + " & ".join(f"{100 * wide.loc[cat, c]:.1f}\\%" for c in cols) + " \\\\")
    print("\\bottomrule\n\\end{tabular}")
    if gap is not None:
        print(f"\n% paired gap {_tex_escape(pair[0])} - {_tex_escape(pair[1])}, 95% percentile bootstrap CI")
        print("\\begin{tabular}{lrrr}\n\\toprule\nCategory & Tasks & Gap (pp) & 95\\% CI \\\\\n\\midrule")
        for r in gap.itertuples():
            print(f"{_tex_escape(r.category)} & {r.tasks} & {100 * r.gap:+.1f} & "
                  f"[{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}] \\\\")
        print("\\bottomrule\n\\end{tabular}")


def _csv(run_id, info, completion, pair, gap, decomposition=None) -> None:
    out = completion.assign(kind="completion")
    if gap is not None:
        out = pd.concat([out, gap.assign(kind="gap", treatment_name=pair[0], baseline_name=pair[1])])
    if decomposition is not None:
        out = pd.concat([out, decomposition.assign(kind="decomposition")])
    print(out.assign(run_id=run_id).to_csv(index=False), end="")


def _json(run_id, info, completion, pair, gap, decomposition=None) -> None:
    doc = {"run_id": run_id, "completion": completion.to_dict(orient="records"),
           "gap": None if gap is None else {"treatment": pair[0], "baseline": pair[1],
                                            "rows": gap.to_dict(orient="records")},
           "decomposition": None if decomposition is None else decomposition.to_dict(orient="records")}
    print(json.dumps(doc, indent=2, default=float))
