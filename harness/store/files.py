"""The store file: path validation before DuckDB sees it, opening it, transactions, errors.

DuckDB opened on a file that is not its own may refuse it or, in some versions and
modes, initialise over it. We check the header ourselves first, so a mistyped
``store.path`` pointing at someone's CSV or notebook can never be touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from harness.core.errors import StoreBusyError, StoreError

# A DuckDB file starts with an 8-byte checksum followed by the magic bytes "DUCK".
MAGIC = b"DUCK"
MAGIC_OFFSET = 8

_RUN_HINT = "run `harness run experiment=...` first, or point --db / store.path at an existing store"


def check_store_path(path: str | Path, *, must_exist: bool = False) -> Path:
    """Return ``path`` as a Path if it can be used as a results store, else raise StoreError.

    - a directory, a non-regular file or an unreadable file: refused;
    - an existing file without the DuckDB magic bytes: refused, and never opened by DuckDB;
    - an empty (0-byte) file: refused. DuckDB 2 itself rejects it even for writing, so
      using it would mean deleting a file we did not create; it is far more often a
      mistaken path (a ``touch``-ed placeholder) than a store, and it holds nothing, so
      deleting it is the user's one-step fix;
    - missing: fine for writing (the writer creates the parents), an error for reading.
    """
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except FileNotFoundError:
        if must_exist:
            raise StoreError(f"no results at {p}", hint=_RUN_HINT) from None
        _check_parent(p)
        return p
    except NotADirectoryError:
        raise StoreError(
            f"cannot use {p}: a parent of it is a file, not a directory",
            hint="choose a store.path inside a directory",
        ) from None
    except OSError as exc:
        raise StoreError(f"cannot access {p}: {exc.strerror}", hint="check the path and its permissions") from None

    if stat.S_ISDIR(st.st_mode):
        raise StoreError(
            f"{p} is a directory, not a results file",
            hint=f"point store.path / --db at a file, e.g. {p / 'harness.duckdb'}",
        )
    if not stat.S_ISREG(st.st_mode):
        # Reading the header of a FIFO or device could block or consume it.
        raise StoreError(f"{p} is not a regular file", hint="point store.path / --db at a DuckDB file")
    if st.st_size == 0:
        if must_exist:
            raise StoreError(f"no results at {p} (the file is empty)", hint=_RUN_HINT)
        raise StoreError(
            f"{p} is an empty file, not a DuckDB database (left untouched)",
            hint="delete it (it holds nothing) or choose another store.path",
        )
    try:
        with open(p, "rb") as fh:
            header = fh.read(MAGIC_OFFSET + len(MAGIC))
    except OSError as exc:
        raise StoreError(f"cannot read {p}: {exc.strerror}", hint="check its permissions") from None
    if header[MAGIC_OFFSET:] != MAGIC:
        raise StoreError(
            f"{p} exists but is not a DuckDB database (left untouched)",
            hint="choose another store.path / --db; the harness never overwrites a file it did not create",
        )
    return p


def _check_parent(p: Path) -> None:
    """The nearest existing ancestor must be a writable directory (the writer creates the rest)."""
    parent = p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise StoreError(
            f"cannot create {p}: {parent} is a file, not a directory",
            hint="choose a store.path inside a directory",
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(f"cannot create {p}: {parent} is not writable", hint="choose a writable store.path")

BUSY_HINT = "wait for it to finish, or copy the file (with its .wal beside it) and read the copy"
BUSY_WRITE_HINT = "wait for that run to finish, or choose another store.path"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def is_lock_error(exc: BaseException) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def store_error(exc: duckdb.Error, path: Path, doing: str, *, writing: bool = False) -> StoreError:
    """One StoreError, one line plus a hint, for a duckdb exception raised while ``doing``."""
    if is_lock_error(exc):
        return StoreBusyError(
            f"the store {path} is being written by a running experiment (another process holds its lock)",
            hint=BUSY_WRITE_HINT if writing else BUSY_HINT,
        )
    text = first_line(exc)
    if "Corrupt WAL file" in text:
        return StoreError(
            f"results store {path}: its write-ahead log ({path.name}.wal) is damaged, so DuckDB will not open it "
            f"(nothing was changed): {text.split(': ', 1)[-1]}",
            hint=f"run `harness store recover {path}`: it keeps the damaged log aside and restores every commit "
                 "before the damage; then re-run the same command to resume",
        )
    if "No space left" in text:
        hint = "free disk space and resume the run; batches committed earlier are kept"
    elif "not a valid DuckDB database" in text or "Corrupt" in text or "checksum" in text.lower():
        hint = "the file is damaged or not a store; choose another store.path"
    else:
        hint = "results committed before this failure are kept; check the path and retry"
    return StoreError(f"results store {path}: could not {doing}: {text}", hint=hint)


@contextlib.contextmanager
def translated(path: Path, doing: str, *, writing: bool = False) -> Iterator[None]:
    try:
        yield
    except duckdb.Error as exc:
        raise store_error(exc, path, doing, writing=writing) from exc


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list | tuple | None = None) -> list[tuple]:
    # DuckDB 2 streams results and silently drops an unfinished one at the next query on the
    # connection, so every statement is run to completion here.
    return con.execute(sql, list(params) if params else []).fetchall()


def connect(path: Path, *, read_only: bool, writing: bool = False,
            wait_seconds: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open ``path``; ``writing`` says the caller means to write (it words a lock error).

    The writer holds the file only while it commits a batch (``harness.store.writer``), so
    a lock conflict is usually over in milliseconds: it is retried for up to
    ``wait_seconds`` (backing off) before it becomes the "being written" StoreError.
    """
    deadline = time.monotonic() + wait_seconds
    pause = 0.01
    while True:
        try:
            return _connect(path, read_only=read_only, writing=writing)
        except StoreError as exc:
            cause = exc.__cause__
            if cause is None or not is_lock_error(cause) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _connect(path: Path, *, read_only: bool, writing: bool) -> duckdb.DuckDBPyConnection:
    with translated(path, "open it", writing=writing or not read_only):
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.ConnectionException:
            if not read_only:
                raise
            # This process already holds the file read-write (a writer in the same process,
            # e.g. a notebook or a test): DuckDB refuses a second configuration of one file,
            # but a plain connection shares the open database instance and sees its commits.
            return duckdb.connect(str(path))


class WriterLock:
    """The store's one-writer rule across processes, held for a writer's whole life.

    DuckDB's own lock is held only while a batch commits (so readers get in between), so
    it no longer keeps a second writer out; this ``flock`` on the store file does. It is
    independent of DuckDB's ``fcntl`` record locks on Linux (readers never see it), needs no
    file beside the store, and the kernel drops it when the process dies.
    """

    def __init__(self, path: Path):
        try:
            self.fd: int | None = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise StoreError(f"cannot open {path}: {exc.strerror}", hint="check its permissions") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.release()
            raise StoreBusyError(
                f"the store {path} is being written by a running experiment (another process holds its lock)",
                hint=BUSY_WRITE_HINT,
            ) from None

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock


class Transaction:
    """BEGIN ... COMMIT, rolled back on any exception (including KeyboardInterrupt);
    duckdb exceptions leave as StoreError, harness errors (ResumeConflictError) as they are."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, doing: str):
        self.con, self.path, self.doing = con, path, doing

    def __enter__(self) -> None:
        with translated(self.path, self.doing):
            self.con.begin()

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            try:
                self.con.commit()
            except duckdb.Error as err:
                self._rollback()
                raise store_error(err, self.path, self.doing) from err
            return False
        self._rollback()
        if isinstance(exc, duckdb.Error):
            raise store_error(exc, self.path, self.doing) from exc
        return False

    def _rollback(self) -> None:
        # The transaction may already be gone (DuckDB aborts it on some errors).
        with contextlib.suppress(duckdb.Error):
            self.con.rollback()
