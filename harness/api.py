"""The Python API: run an experiment and read a stored run from a notebook or a script.

``harness.run`` composes the config the way ``harness run experiment=X ...`` does (the
CLI's own composition and refusals), runs or resumes it and returns its ``Run``;
``harness.open`` names a stored run. A ``Run`` is a store path and a run id; every
property reads the store afresh (a running experiment's episodes grow), through
``harness.store.reader`` and the same analysis code ``harness report`` and
``harness compare`` use, so a notebook sees the very numbers the CLI prints. Bad input
raises the CLI's errors (``harness.core.errors.UserInputError`` and subclasses), with the
same one-line messages.

Everything heavy (pandas, duckdb, hydra, the runner) is imported inside the functions:
``import harness`` stays as fast as it was.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_DB = "results/harness.duckdb"


def _to_stderr(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


@dataclass(frozen=True)
class Run:
    """One stored run: ``db`` (the DuckDB store) and ``id``."""

    db: str
    id: str

    @property
    def info(self) -> dict:
        """The run's ``runs`` row (``config`` parsed) plus ``episodes_done``."""
        from harness.store import reader

        return reader.run_info(self.db, self.id)

    @property
    def status(self) -> str:
        return str(self.info["status"])

    @property
    def episodes(self) -> pd.DataFrame:
        """Every stored episode (errors included), sorted by condition, task, repeat."""
        from harness.store import reader

        return reader.episodes(self.db, self.id)

    def actions(self, condition: str | None = None, task_id: str | None = None,
                repeat: int | None = None) -> pd.DataFrame:
        """The run's actions (every column the store keeps), optionally of one condition,
        task or repeat; sorted by episode key and seq. One episode (all three given) is its
        transcript where the store keeps one (arguments and observations, parsed), and an
        episode the run does not hold is a StoreError, not an empty frame."""
        from harness.store import reader

        if None not in (condition, task_id, repeat):
            return self._episode_actions(str(condition), str(task_id), int(repeat))
        frame = reader.actions(self.db, self.id)
        for column, value in (("condition", condition), ("task_id", task_id), ("repeat", repeat)):
            if value is not None:
                frame = frame[frame[column] == value]
        return frame.reset_index(drop=True)

    def _episode_actions(self, condition: str, task_id: str, repeat: int) -> pd.DataFrame:
        from harness.core.errors import StoreError
        from harness.store import reader

        transcript = getattr(reader, "transcript", None)  # stores with transcripts (arguments, observations)
        if transcript is not None:
            frame = transcript(self.db, self.id, condition, task_id, repeat)
            for i, (column, value) in enumerate((("run_id", self.id), ("condition", condition),
                                                 ("task_id", task_id), ("repeat", repeat))):
                if column not in frame.columns:  # the episode's key, as in the run-wide frame
                    frame.insert(i, column, value)
            return frame
        frame = reader.actions(self.db, self.id)
        frame = frame[(frame.condition == condition) & (frame.task_id == task_id) & (frame.repeat == repeat)]
        if frame.empty:
            eps = self.episodes
            if not ((eps.condition == condition) & (eps.task_id == task_id) & (eps.repeat == repeat)).any():
                raise StoreError(f"no episode {task_id} repeat {repeat} under condition {condition!r} in run "
                                 f"{self.id!r} of {self.db}", hint="list the run's episodes with Run.episodes")
        return frame.reset_index(drop=True)

    @property
    def estimates(self) -> pd.DataFrame:
        """The stored estimates; computed and stored as ``harness report`` does when
        there are none yet."""
        from harness.analysis.report import estimates_for

        return estimates_for(self.db, self.id)

    def report(self, *, resamples: int = 10_000, pair: str | None = None, store: bool = True,
               note: Callable[[str], None] = _to_stderr) -> dict[str, pd.DataFrame]:
        """The tables ``harness report`` prints, title -> DataFrame of formatted cells
        (``.attrs["note"]`` holds the table's note). Options as the CLI's; ``note``
        receives what the CLI prints as notes (default: stderr)."""
        import pandas as pd

        from harness.analysis.report import build_report
        from harness.core.errors import UserInputError

        if resamples < 1:
            raise UserInputError("--resamples must be at least 1")
        tables = {}
        for d in build_report(self.db, self.id, pair=pair, resamples=resamples, store=store, note=note).tables():
            frame = pd.DataFrame(d.rows, columns=list(d.columns))
            frame.attrs.update(title=d.title, note=d.note)
            tables[d.title] = frame
        return tables

    def compare(self, other: Run, *, metric: str = "completion", margin: float = 0.02, resamples: int = 10_000,
                seed: int = 0) -> pd.DataFrame:
        """``other`` - this run, per condition and category, with its 95% CI and the
        regression verdict: ``harness compare THIS OTHER`` as a DataFrame."""
        from dataclasses import asdict

        import pandas as pd

        from harness.analysis.regression import Row
        from harness.analysis.run_compare import check_options, compare_episodes

        check_options(metric, margin, resamples)
        hashes = self.info.get("workload_hash"), other.info.get("workload_hash")
        rows = compare_episodes(self.episodes, other.episodes, hashes, (str(self), str(other)), metric=metric,
                                margin=margin, resamples=resamples, seed=seed)
        columns = list(Row.__dataclass_fields__)
        return pd.DataFrame([asdict(r) for r in rows], columns=columns)

    def summary(self) -> dict[str, str]:
        """What ``repr`` shows: id, experiment, status, episodes done/planned, started, store."""
        info = self.info
        conditions = ", ".join(c["name"] for c in info["config"].get("conditions", []))
        return {"run": self.id, "experiment": str(info["experiment"]), "status": str(info["status"]),
                "episodes": f"{info['episodes_done']}/{info['planned_episodes']}",
                "conditions": conditions, "started": str(info["started"])[:19], "store": self.db}

    def __str__(self) -> str:
        return f"{self.db}:{self.id}"  # how `harness compare` names a run

    def __repr__(self) -> str:
        try:
            s = self.summary()
        except Exception as exc:  # noqa: BLE001 - a repr never raises: the store may be gone or locked
            return f"Run(id={self.id!r}, db={self.db!r}, unreadable: {str(exc).splitlines()[0]})"
        return (f"Run(id={s['run']!r}, experiment={s['experiment']!r}, status={s['status']!r}, "
                f"episodes={s['episodes']}, db={s['store']!r})")

    def _repr_html_(self) -> str:
        try:
            rows = self.summary().items()
        except Exception:  # noqa: BLE001 - the text repr says what is wrong
            return f"<pre>{html.escape(repr(self))}</pre>"
        cells = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                        f"{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<table>{cells}</table>"


def open(db: str | Path = DEFAULT_DB, run_id: str | None = None) -> Run:  # noqa: A001 - harness.open, as asked
    """The stored run ``run_id`` of ``db`` (default: its most recently started run). A
    missing store or an unknown run raises StoreError naming the known runs."""
    from harness.store import reader

    db = str(db)
    if run_id is None:
        return Run(db, reader.latest_run(db))
    reader.run_info(db, run_id)  # an unknown run: one line naming the known ones
    return Run(db, run_id)


def run(experiment: str, overrides: Sequence[str] = (), *, progress: bool = False) -> Run:
    """Run (or resume) ``experiment`` with Hydra ``overrides``, as ``harness run
    experiment=EXPERIMENT OVERRIDES...`` does, and return the run. ``progress`` prints a
    plain line at each tenth of the run to stderr (never a live bar: notebooks keep no escape codes)."""
    if isinstance(overrides, str):
        raise TypeError("overrides is a sequence of key=value strings, e.g. ['repeats=2']")
    # the CLI's own composition and refusals: the same config, the same errors
    from harness.cli.run_cmd import _checked, names_experiment
    from harness.core.errors import ConfigError
    from harness.experiment.runner import run_experiment

    if names_experiment(list(overrides)):  # Hydra would let the last one win, silently
        again = next(o for o in overrides if names_experiment([o]))
        raise ConfigError(f"the overrides name the experiment again ({again}): it is harness.run's first argument")
    _, cfg = _checked([f"experiment={experiment}", *overrides])
    cfg = cfg.model_copy(update={"progress": progress})  # operational: not in the config hash
    summary = run_experiment(cfg, on_progress=_plain_progress() if progress else None)
    if summary.stopped:
        _to_stderr(f"run {summary.run_id} stopped early: {summary.stopped}")
    if summary.error_count:  # errors are left out of every rate, not counted as failures
        _to_stderr(f"run {summary.run_id}: {summary.error_count} episode(s) ended in an error (left out of every "
                   f"rate); first: {summary.first_error}")
    return Run(str(summary.store), summary.run_id)


def _plain_progress(steps: int = 10) -> Callable[[int, int, int], None]:
    """A plain line at each tenth of the run done (and at its start): a notebook or a log
    keeps a few readable lines, never a live bar's escape codes."""
    shown = [-1]

    def on_progress(done: int, total: int, committed: int) -> None:
        step = done * steps // max(1, total)
        if step != shown[0]:
            print(f"{done}/{total} episodes done", file=sys.stderr, flush=True)
            shown[0] = step

    return on_progress
