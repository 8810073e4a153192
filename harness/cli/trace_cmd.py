"""``harness trace EPISODE``: re-run one stored episode and show its observability record.

EPISODE is ``RUN_ID:CONDITION:TASK_ID:REPEAT``, or ``CONDITION:TASK_ID:REPEAT`` for the
latest run in ``--db``. The store keeps only sequential parents per action; the layer's
own record (a causal DAG, or text log lines) existed only while the episode ran, so the
episode is run again from what the store kept and refused if it does not come out as
stored. ``--format dot`` prints Graphviz DOT; ``--format png`` writes a PDF and a PNG (the
report's layered drawing); ``--format svg`` writes an SVG laid out by Graphviz's ``dot``
(as ``harness view`` draws it: dependencies do not set the ranks). All three
are titled with the verdict (success or FAILURE, how it ended, which checks failed), and
the DOT keeps every label whole.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from harness.core.errors import UserInputError
from harness.experiment.rerun import rerun_episode
from harness.runtime.observability.causal import CausalDag
from harness.runtime.observability.dot import dag_dot
from harness.store import reader
from harness.view.dag import verdict_title
from harness.view.queries import verdicts

FORMS = "RUN_ID:CONDITION:TASK_ID:REPEAT or CONDITION:TASK_ID:REPEAT"


class Format(StrEnum):
    dot = "dot"
    png = "png"
    svg = "svg"


@dataclass(frozen=True)
class EpisodeRef:
    run_id: str | None  # None: the latest run
    condition: str
    task_id: str
    repeat: int

    @classmethod
    def parse(cls, text: str) -> EpisodeRef:
        parts = text.split(":")
        if len(parts) not in (3, 4) or not all(parts):
            raise UserInputError(f"malformed EPISODE {text!r}", hint=f"write it as {FORMS}")
        *head, repeat = parts
        if not repeat.isdigit():
            raise UserInputError(f"malformed EPISODE {text!r}: REPEAT must be a number >= 0, got {repeat!r}",
                                 hint=f"write it as {FORMS}")
        run_id = head.pop(0) if len(head) == 3 else None
        return cls(run_id, head[0], head[1], int(repeat))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _textlog_dot(record: dict[str, Any], title: str) -> str:
    """A text log has no graph: its lines in order, each leading to the next."""
    lines = record.get("lines", [])
    out = ["digraph log {", "  rankdir=TB;", '  node [shape=plaintext, fontname="monospace", fontsize=10];',
           f"  graph [label={_quote(title)}, labelloc=t, labeljust=l];"]
    out += [f"  l{i} [label={_quote(line)}];" for i, line in enumerate(lines)]
    out += [f"  l{i} -> l{i + 1};" for i in range(len(lines) - 1)]
    return "\n".join([*out, "}"]) + "\n"


DOT: dict[str, Callable[[dict[str, Any], str], str]] = {
    "causal": lambda record, title: dag_dot(CausalDag.from_dict(record), max_label=None, title=title),
    "textlog": _textlog_dot,
}


def _write_svg(record: dict[str, Any], title: str, path: Path) -> Path:
    from harness.view import dag  # graphviz only when drawing with it

    if not dag.dot_available():
        raise UserInputError("Graphviz's `dot` is not installed, so there is no SVG",
                             hint="install the graphviz system package, or use --format png")
    source = dag.record_dot(title, record) if record["variant"] == "causal" else DOT[record["variant"]](record, title)
    picture = dag.svg(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(picture or "", encoding="utf-8")
    return path


def trace(
    episode: str = typer.Argument(..., help=f"The episode: {FORMS}."),
    db: str = typer.Option("results/harness.duckdb", "--db", help="The results store."),
    out: Path = typer.Option(Path("results/traces"), "--out", help="Directory for --format png."),
    fmt: Format = typer.Option(Format.dot, "--format",
                               help="dot (print Graphviz DOT) | png (write PDF and PNG) | svg (laid out by dot)"),
) -> None:
    ref = EpisodeRef.parse(episode)
    run_id = ref.run_id or reader.latest_run(db)
    rerun = rerun_episode(db, run_id, ref.condition, ref.task_id, ref.repeat)
    record = rerun.record
    ep = rerun.episode
    if record is None or record.get("variant") not in DOT:
        what = "no observability layer" if record is None else f"observability variant {record.get('variant')!r}"
        if record is None and ep.error:  # the session was never deployed
            what = f"no session: the episode ended before one existed ({ep.error})"
        raise UserInputError(f"episode {episode} has {what}; there is no record to show")
    name = f"{run_id}:{ref.condition}:{ref.task_id}:{ref.repeat}"
    Console(stderr=True).print(f"{name}: {'success' if ep.success else 'failure'} ({ep.termination}), "
                               f"{ep.actions} actions; the re-run matches the stored episode", highlight=False,
                               soft_wrap=True)
    # the verdict, not just how it ended: a failed episode also ends "submitted"
    title = verdict_title(ref, ep.model_dump(), verdicts(ep.check_detail))
    if fmt is Format.dot:
        print(DOT[record["variant"]](record, title), end="")
        return
    stem = out / f"{run_id}_{ref.condition}_{ref.task_id}_r{ref.repeat}"
    if fmt is Format.svg:
        print(_write_svg(record, title, stem.with_suffix(".svg")))
        return
    from harness.paper.dag import draw_dag  # matplotlib only when drawing

    for path in draw_dag(record, stem, "\n".join(textwrap.wrap(title, 110))):
        print(path)
