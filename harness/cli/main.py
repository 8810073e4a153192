"""``harness``: run experiments, report results, inspect workloads.

A user's mistake (bad override, unknown condition, wrong path, changed config under an
existing run id) prints one or two lines and exits with code 2; stored results are
left untouched because every check happens before the store is opened for writing.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from harness.cli import (
    bench_cmd,
    calibrate_cmd,
    chaos_cmd,
    compare_cmd,
    paper_cmd,
    report_cmd,
    run_cmd,
    run_help,
    runs_cmd,
    store_cmd,
    tasks_cmd,
    trace_cmd,
    view_cmd,
)
from harness.core.errors import UserInputError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help=__doc__.splitlines()[0].replace("``", ""))  # help is rich markup, not reST
app.command(
    "run",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    # typer renders help as rich markup: a backslash keeps "[" a literal bracket
    help="Run an episode experiment: harness run [-m] \\[key=value ...] (Hydra overrides).",
    options_metavar="[-m] [key=value ...]",  # the usage line (printed as is, not as markup)
    epilog=run_help.epilog(),
)(run_cmd.run)
app.command(
    "chaos",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help="Run the chaos experiment (Table 3: worker processes, real SIGKILLs): harness chaos [-m] \\[key=value ...] "
         "(default experiment=table3).",
    options_metavar="[-m] [key=value ...]",
)(chaos_cmd.chaos)
app.command("runs", help="The runs in a store: id, experiment, status, episodes stored/planned, times.")(
    runs_cmd.runs)
app.command("report", help="Completion and paired gaps of a stored run.")(report_cmd.report)
app.command("compare", help="Paired difference of two runs; exit 1 on a significant regression.")(
    compare_cmd.compare_runs)
app.command("trace", help="Re-run one stored episode and print or draw its observability record.")(trace_cmd.trace)
app.command("paper", help="The report's tables and figures from stored runs, beside its published numbers.")(
    paper_cmd.paper)
app.command("calibrate", help="Fit the agent's error rates to the report's Table 2 and check what they predict (a consistency test; writes a profile no config reads).")(calibrate_cmd.calibrate_cmd)
app.add_typer(tasks_cmd.app, name="tasks", help="Generate, validate and show workload tasks.")
app.add_typer(store_cmd.app, name="store", help="Look after a results store: recover a damaged write-ahead log.")
app.command("bench", help="The performance suite, as numbers and ratios against a reference.")(bench_cmd.bench)
app.command("view", help="Browse a results store in the browser: runs, episodes, transcripts, DAGs.")(view_cmd.view)

err = Console(stderr=True)


def main() -> None:
    try:
        app(standalone_mode=True, prog_name="harness")  # the usage line names the command people type
    except UserInputError as exc:
        # soft_wrap: a one-line message stays one line in a log or a pipe
        # escaped: a message quoting "[a, b]" (a list override, Hydra's grammar) must keep its brackets
        err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True)
        if exc.hint:
            err.print(f"  [dim]hint:[/] {escape(exc.hint)}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
