"""The one writer of a results store: runs, conditions, tasks, and episodes in batches.

It lives in the runner's main process; workers send it finished episodes. Episodes are
buffered and committed ``batch_size`` at a time, each batch (episodes and their actions)
in one transaction, so a killed run leaves exactly the batches it committed and a resume
re-runs only what is missing.

The DuckDB file is open only while something is written (open, write, commit, close per
batch), so other processes can open it read-only between batches: ``harness report`` and
the readers follow a running experiment. DuckDB's lock therefore no longer keeps a second
writer out for the writer's life; a ``flock`` on the store file (``files.WriterLock``)
does. Reopening costs 30-75 ms per batch on a shared 2-core machine (synthetic episodes
of 12 actions, writer alone: batches of 200 took 39-42 ms to commit before, 70-72 ms
after; batches of 10, 25-31 ms before, 80-102 ms after): under 1% of the ~10 s a batch of
200 real episodes takes to run.

Inserts go through DuckDB's appender into per-connection TEMP staging tables and then
``INSERT OR IGNORE ... SELECT`` into the real table. The appender converts Python values
exactly (NaN stays NaN, -0.0 stays -0.0, None is NULL; a pandas round trip turns NaN into
NULL), and the staging step lets the primary key ignore rows that are already stored.
Measured on 1,000 episodes + 50,000 actions in 5 batches: executemany ~160 rows/s (it
degrades as the table grows), registered DataFrame + INSERT OR IGNORE ~140k rows/s,
appender + staging + INSERT OR IGNORE ~90k rows/s. Exactness wins over that 1.5x: the
whole writer, add() validation included, stores the 51,000 rows in ~0.8 s.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb
import pandas as pd

from harness.core.errors import ResumeConflictError, StoreError
from harness.core.hashing import canonical_json, stable_hash
from harness.core.models import ActionRecord, EpisodeRecord, EstimateRecord
from harness.store import schema
from harness.store.create import create_atomically
from harness.store.files import (
    Transaction,
    WriterLock,
    check_store_path,
    connect,
    fetch,
    store_error,
    translated,
)
from harness.store.rows import AC_CHECKS, EP_CHECKS, RunInfo, check_row, utcnow
from harness.store.schema import BriefRecord

# Paths with an open ResultWriter in this process: DuckDB would let a second one share the
# database instance, which breaks the one-writer rule silently.
_OPEN_WRITERS: set[Path] = set()

# How long an open waits for readers that hold the file (each holds it for one query's
# read); a reader waits for a batch's commit in the same way (``reader.READ_WAIT_SECONDS``).
WRITE_WAIT_SECONDS = 60.0
# A write's close folds the write-ahead log into the file only once the log is this big:
# checkpointing every batch would rewrite the file per batch; never checkpointing would make
# every open (the writer's and each reader's) replay an ever longer log. The log keeps
# commits as safely as the file does (``harness store recover`` handles a damaged one).
WAL_CHECKPOINT_BYTES = 1 << 20
# Bounds on what one batch may hold (no published source; measured on the real workload,
# whose fix_bug episodes write whole modules again and again: 2.6 MB of transcript text per
# episode on average). A batch is committed early once its buffered transcript text passes
# BATCH_TEXT_BYTES, and DuckDB's buffer manager (by default 80% of the machine's memory)
# is held to WRITER_MEMORY_LIMIT while it commits: before either bound, real_gap's
# runner peaked at 18.8 GB resident.
BATCH_TEXT_BYTES = 128 << 20
WRITER_MEMORY_LIMIT = "1GB"
_EP_ROW = operator.attrgetter(*schema.EPISODES.names)
_AC_ROW = operator.attrgetter(*schema.ACTIONS.names)
_EX_ROW = operator.attrgetter(*schema.EXCHANGES.names)
_BR_ROW = operator.attrgetter(*schema.BRIEFS.names)


class ResultWriter:
    """Single writer of a results store. Not thread-safe; use from one thread."""

    def __init__(self, path: str | Path, *, batch_size: int = 200):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.path = check_store_path(path)
        self.batch_size = batch_size
        self.ignored = 0  # episodes in flushed batches that were already stored
        self._episodes: list[tuple] = []
        self._text_bytes = 0  # transcript text (arguments, observations) buffered
        self._actions: list[tuple] = []
        self._exchanges: list[tuple] = []
        self._briefs: list[tuple] = []
        self._keys: set[tuple] = set()
        self._runs: set[str] = set()
        self._con: duckdb.DuckDBPyConnection | None = None  # only while a write is under way
        self._lock: WriterLock | None = None
        self._key: Path | None = None
        key = self.path.resolve()
        if key in _OPEN_WRITERS:
            raise StoreError(
                f"{self.path} is already open for writing in this process",
                hint="use the existing ResultWriter; a store has exactly one writer",
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.path.parent}: {exc.strerror}", hint="choose a writable store.path") from None
        if not self.path.exists():
            create_atomically(self.path)
        self._lock = WriterLock(self.path)
        _OPEN_WRITERS.add(key)
        self._key = key
        try:
            # Inspect read-only first: a foreign or newer database is refused before a
            # read-write open could replay, upgrade or checkpoint it.
            probe = connect(self.path, read_only=True, writing=True, wait_seconds=WRITE_WAIT_SECONDS)
            try:
                with translated(self.path, "read its schema"):
                    schema.check(probe, self.path)
                    current = (schema.existing_tables(probe) == set(schema.TABLES)
                               and schema.stored_version(probe) == schema.SCHEMA_VERSION)
            finally:
                probe.close()
            # Only a new (or partly created, or older) store is written to here: reopening
            # a complete current store leaves its bytes alone (a refused resume changes nothing).
            if not current:
                with self._connected() as con, self._transaction("create the schema"):
                    schema.check(con, self.path)
                    schema.migrate(con)
                    schema.create(con)
        except BaseException:
            self._release()
            raise

    # ---- runs, conditions, tasks -------------------------------------------------------

    def begin_run(self, run: RunInfo) -> set[tuple[str, str, int]]:
        """Start or resume ``run``; return the (condition, task_id, repeat) already stored."""
        self.flush()  # so the done keys include every episode this writer was given
        with self._connected() as con, self._transaction("start the run"):
            row = fetch(con, "SELECT config_hash, workload_hash FROM runs WHERE id = ?", [run.id])
            if not row:
                fetch(
                    con,
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 'running')",
                    [run.id, run.experiment, canonical_json(run.config), run.config_hash, run.workload_hash,
                     run.code_version, run.seed, run.repeats, run.planned_episodes, utcnow(), run.host],
                )
                done: set[tuple[str, str, int]] = set()
            else:
                for what, old, new in (("configuration", row[0][0], run.config_hash),
                                       ("workload", row[0][1], run.workload_hash)):
                    if old != new:
                        raise ResumeConflictError(
                            f"run {run.id} exists with a different {what} (hash {old}, now {new})",
                            hint=f"choose another run.id, or delete the old run with "
                                 f"harness.store.delete_run('{self.path}', '{run.id}')",
                        )
                fetch(con, "UPDATE runs SET status = 'running', finished = NULL WHERE id = ?", [run.id])
                rows = fetch(con, "SELECT condition, task_id, repeat FROM episodes WHERE run_id = ?", [run.id])
                done = {(c, t, int(r)) for c, t, r in rows}
        self._runs.add(run.id)
        return done

    def record_conditions(self, run_id: str, conditions: dict[str, dict]) -> None:
        """Store each condition's spec once; a resume with the same specs changes nothing."""
        rows = [(run_id, n, canonical_json(s), stable_hash(s)) for n, s in sorted(conditions.items())]
        self._record(run_id, "conditions", ("run_id", "name"), rows)

    def record_tasks(self, run_id: str, tasks: list[dict]) -> None:
        """Store the run's tasks once (dicts with task_id, category, family, difficulty, seed, spec_hash)."""
        cols = schema.TASKS.names[1:]
        try:
            rows = [(run_id, *(t[c] for c in cols)) for t in tasks]
        except KeyError as exc:
            raise ValueError(f"task dict lacks {exc.args[0]!r}; needs {list(cols)}") from None
        ids = [r[1] for r in rows]
        if len(set(ids)) != len(ids):
            raise ValueError("record_tasks got the same task_id twice")
        self._record(run_id, "tasks", ("run_id", "task_id"), rows)

    def _record(self, run_id: str, table: str, key: tuple[str, ...], rows: list[tuple]) -> None:
        self._require_run(run_id)
        with self._connected() as con, self._transaction(f"record {table}"):
            self._stage(table, rows)
            on = " AND ".join(f"s.{k} = t.{k}" for k in key)
            clash = fetch(
                con,
                f"SELECT s.{key[-1]}, t.spec_hash, s.spec_hash FROM _stage_{table} s "
                f"JOIN main.{table} t ON {on} WHERE s.spec_hash <> t.spec_hash ORDER BY 1 LIMIT 1",
            )
            if clash:
                name, old, new = clash[0]
                raise ResumeConflictError(
                    f"run {run_id}: {table[:-1]} {name} is already stored with a different spec "
                    f"(hash {old}, now {new})",
                    hint="a resumed run must use the same configuration; choose another run.id",
                )
            self._insert(table)
            fetch(con, f"DELETE FROM _stage_{table}")

    # ---- episodes ----------------------------------------------------------------------

    def add(self, episode: EpisodeRecord, actions: Iterable[ActionRecord],
            exchanges: Iterable[schema.ExchangeRecord] = (), briefs: Iterable[BriefRecord] = ()) -> None:
        """Buffer one finished episode with its actions (and its model exchanges and session
        briefs, which commit in the same transaction); flush when a batch is full."""
        self._alive()
        if not isinstance(episode, EpisodeRecord):
            raise TypeError(f"add() takes an EpisodeRecord, got {type(episode).__name__}")
        self._require_run(episode.run_id)
        ep = _EP_ROW(episode)
        key = ep[:4]
        if key in self._keys:
            raise ValueError(f"episode {key} was added twice to the same batch")
        check_row(ep, EP_CHECKS, f"episode {key}")
        rows, seqs = [], set()
        for a in actions:
            if not isinstance(a, ActionRecord):
                raise TypeError(f"actions must be ActionRecords, got {type(a).__name__}")
            row = _AC_ROW(a)
            if row[:4] != key:
                raise ValueError(f"action {row[:5]} does not belong to episode {key}")
            if a.seq in seqs:
                raise ValueError(f"episode {key}: action seq {a.seq} appears twice")
            seqs.add(a.seq)
            check_row(row, AC_CHECKS, f"action {row[:5]}")
            rows.append(row)
            self._text_bytes += len(a.args or "") + len(a.observation or "")
        recorded = [_EX_ROW(x) for x in exchanges]
        if any(r[:4] != key for r in recorded):
            raise ValueError(f"an exchange does not belong to episode {key}")
        told = [_BR_ROW(b) for b in briefs]
        if any(r[:4] != key for r in told):
            raise ValueError(f"a brief does not belong to episode {key}")
        if len({r[4] for r in told}) != len(told):
            raise ValueError(f"episode {key}: a session's brief appears twice")
        self._episodes.append(ep)
        self._actions.extend(rows)
        self._exchanges.extend(recorded)
        self._briefs.extend(told)
        self._keys.add(key)
        if len(self._episodes) >= self.batch_size or self._text_bytes >= BATCH_TEXT_BYTES:
            self.flush()

    @property
    def pending(self) -> int:
        """Episodes buffered and not yet committed."""
        return len(self._episodes)

    def flush(self) -> None:
        """Commit every buffered episode and its actions in ONE transaction, or nothing.

        On failure the buffer is kept, so a later flush (or close) can still commit it.
        Episodes already stored are skipped by ``INSERT OR IGNORE`` on the primary key, and
        their staged actions are dropped first so a stored episode keeps its own actions.
        """
        if not self._episodes:
            return
        parts = {"actions": self._actions, "exchanges": self._exchanges, "briefs": self._briefs}
        parts = {table: rows for table, rows in parts.items() if rows}
        with self._connected() as con, self._transaction("commit a batch of episodes"):
            self._stage("episodes", self._episodes)
            for table, rows in parts.items():
                self._stage(table, rows)
                fetch(
                    con,
                    f"DELETE FROM _stage_{table} USING main.episodes e WHERE "
                    + " AND ".join(f"_stage_{table}.{k} = e.{k}" for k in schema.EPISODE_KEY),
                )
            inserted = self._insert("episodes")
            for table in parts:
                self._insert(table)
        self.ignored += len(self._episodes) - inserted
        self._episodes, self._actions, self._exchanges, self._briefs, self._keys = [], [], [], [], set()
        self._text_bytes = 0

    def _stage(self, table: str, rows: list[tuple]) -> None:
        # a fresh TEMP table per use: nothing staged by an earlier write on this connection stays
        con = self._live()
        fetch(con, f"CREATE OR REPLACE TEMP TABLE _stage_{table} AS SELECT * FROM main.{table} LIMIT 0")
        appender = con.appender(f"_stage_{table}")
        appender.append_rows(rows)
        appender.flush()

    def _insert(self, table: str) -> int:
        """Move staged rows into ``table``; rows whose primary key exists are ignored."""
        return fetch(self._live(), f"INSERT OR IGNORE INTO main.{table} SELECT * FROM _stage_{table}")[0][0]

    def run_usage(self, run_id: str) -> tuple[int, float]:
        """Tokens and cost of the run's stored episodes (what a resumed run has spent)."""
        with self._connected() as con, translated(self.path, "read the run's usage"):
            row = fetch(con, "SELECT coalesce(sum(tokens), 0), coalesce(sum(cost_usd), 0.0) "
                             "FROM episodes WHERE run_id = ?", [run_id])[0]
        return int(row[0]), float(row[1])

    def finish_run(self, run_id: str) -> None:
        """Flush, then mark the run finished with its wall-clock end time."""
        self._require_run(run_id)
        self.flush()
        with self._connected() as con:
            with self._transaction("finish the run"):
                fetch(con, "UPDATE runs SET status = 'finished', finished = ? WHERE id = ?", [utcnow(), run_id])
            # Fold the WAL into the file so a finished store is one self-contained file to copy.
            with translated(self.path, "checkpoint"):
                fetch(con, "CHECKPOINT")

    def stop_run(self, run_id: str) -> int:
        """Flush, then mark the run ``stopped`` (interrupted: neither running nor finished;
        the same command resumes it). Returns the run's stored episodes."""
        self._require_run(run_id)
        self.flush()
        with self._connected() as con, self._transaction("mark the run stopped"):
            fetch(con, "UPDATE runs SET status = 'stopped', finished = NULL WHERE id = ?", [run_id])
            return fetch(con, "SELECT count(*) FROM episodes WHERE run_id = ?", [run_id])[0][0]

    def replace_estimates(self, run_id: str, rows: Iterable[EstimateRecord]) -> int:
        """Store a run's estimates, replacing those of the same analyses (one transaction)."""
        rows = list(rows)
        if any(r.run_id != run_id for r in rows):
            raise ValueError("every estimate must belong to the run being replaced")
        analyses = sorted({r.analysis for r in rows})
        with self._connected() as con, self._transaction(f"store the estimates of run {run_id}"):
            if not fetch(con, "SELECT count(*) FROM runs WHERE id = ?", [run_id])[0][0]:
                raise StoreError(f"no run {run_id!r} in {self.path}")
            for analysis in analyses:
                fetch(con, "DELETE FROM estimates WHERE run_id = ? AND analysis = ?", [run_id, analysis])
            if rows:  # a registered frame: executemany is slow, and estimates hold no NaN to lose
                frame = pd.DataFrame([r.model_dump() for r in rows], columns=list(schema.ESTIMATES.names))
                con.register("_estimates_in", frame)
                try:
                    fetch(con, "INSERT INTO estimates SELECT * FROM _estimates_in")
                finally:
                    con.unregister("_estimates_in")
        return len(rows)

    def replace_exec_perf(self, run_id: str, rows: Iterable[tuple]) -> int:
        """Store a run's ``exec_perf`` rows (event, condition, task_id, repeat, metric,
        value), replacing any it had, in one transaction: re-running is idempotent."""
        rows = [(run_id, *r) for r in rows]
        if any(len(r) != len(schema.EXEC_PERF.names) for r in rows):
            raise ValueError(f"exec_perf rows need {list(schema.EXEC_PERF.names[1:])}")
        with self._connected() as con, self._transaction(f"store the exec_perf rows of run {run_id}"):
            if not fetch(con, "SELECT count(*) FROM runs WHERE id = ?", [run_id])[0][0]:
                raise StoreError(f"no run {run_id!r} in {self.path}")
            fetch(con, "DELETE FROM exec_perf WHERE run_id = ?", [run_id])
            if rows:
                appender = con.appender("exec_perf")
                appender.append_rows(rows)
                appender.flush()
        return len(rows)

    def delete_run(self, run_id: str) -> int:
        """Delete a run and every row of it; return the number of episodes deleted."""
        self._alive()
        if self._episodes:
            raise StoreError("cannot delete a run while episodes are buffered", hint="flush first")
        with self._connected() as con, self._transaction(f"delete run {run_id}"):
            n = fetch(con, "SELECT count(*) FROM episodes WHERE run_id = ?", [run_id])[0][0]
            for table in ("actions", "exchanges", "briefs", "episodes", "tasks", "conditions", "checkpoints",
                          "exec_perf", "estimates"):
                fetch(con, f"DELETE FROM {table} WHERE run_id = ?", [run_id])
            fetch(con, "DELETE FROM runs WHERE id = ?", [run_id])
        self._runs.discard(run_id)
        return n

    # ---- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Flush what is buffered and close; the lock is released even if the flush fails."""
        if self._lock is None:
            return
        try:
            self.flush()
            if self._wal_bytes():  # a closed store is one file, as before this writer opened it
                with self._connected() as con, translated(self.path, "checkpoint"):
                    fetch(con, "CHECKPOINT")
        finally:
            self._release()

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            self.close()
            return
        # Finished episodes are never lost: flush even while an exception propagates, but
        # never let a failing flush hide the exception that got us here.
        try:
            self.close()
        except Exception as flush_exc:
            exc.add_note(f"results store: the last batch could not be committed: {flush_exc}")

    # ---- internals ---------------------------------------------------------------------

    def _wal_bytes(self) -> int:
        try:
            return self.path.with_name(self.path.name + ".wal").stat().st_size
        except FileNotFoundError:
            return 0

    def _alive(self) -> None:
        if self._lock is None:
            raise StoreError(f"the writer for {self.path} is closed", hint="open a new ResultWriter")

    def _live(self) -> duckdb.DuckDBPyConnection:
        """The connection of the write under way (inside ``_connected``)."""
        self._alive()
        if self._con is None:
            raise RuntimeError("ResultWriter: a write outside _connected()")
        return self._con

    @contextlib.contextmanager
    def _connected(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The file, open read-write for one write (re-entrant): opened, the staging tables
        closed after, so readers in other processes can open it in between."""
        if self._con is not None:
            yield self._con
            return
        self._alive()
        con = connect(self.path, read_only=False, wait_seconds=WRITE_WAIT_SECONDS)
        self._con = con
        failed = False
        try:
            with translated(self.path, "open it for writing"):
                fetch(con, "PRAGMA disable_checkpoint_on_shutdown")  # see WAL_CHECKPOINT_BYTES
                fetch(con, f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
            yield con
            if self._wal_bytes() > WAL_CHECKPOINT_BYTES:
                with translated(self.path, "checkpoint"):
                    fetch(con, "CHECKPOINT")
        except BaseException:
            failed = True
            raise
        finally:
            self._con = None
            try:
                con.close()
            except duckdb.Error as exc:
                if not failed:  # never hide the exception that is leaving
                    raise store_error(exc, self.path, "close it") from exc

    def _require_run(self, run_id: str) -> None:
        if run_id not in self._runs:
            raise ValueError(f"run {run_id!r} was not started on this writer; call begin_run first")

    def _transaction(self, doing: str) -> Transaction:
        return Transaction(self._live(), self.path, doing)

    def _release(self) -> None:
        lock, self._lock = self._lock, None
        _OPEN_WRITERS.discard(self._key)
        if lock is not None:
            lock.release()


def delete_run(path: str | Path, run_id: str) -> int:
    """Delete one run from a store (for a run id to be reused with a new configuration)."""
    with ResultWriter(path) as writer:
        return writer.delete_run(run_id)
