"""Creating a store file so that a kill mid-creation leaves either a whole store or none."""

from __future__ import annotations

import os
from pathlib import Path

from harness.store import schema
from harness.store.files import connect, translated


def create_atomically(path: Path) -> None:
    """Create a complete, empty store at ``path`` or nothing at all.

    A run killed while DuckDB is creating a file can leave an empty or half-written file
    that no later open accepts, and the rerun would refuse it. So the store is built under
    a temporary name beside the target and hard-linked into place: ``path`` either does not
    exist or is a whole store. ``os.link`` never replaces a file that appeared meanwhile.
    A kill during these few milliseconds leaves at most a ``.NAME.PID.creating`` file.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.creating")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        con = connect(tmp, read_only=False)
        try:
            with translated(path, "create it"):
                con.begin()
                schema.create(con)
                con.commit()
        finally:
            con.close()  # checkpoints: everything is in the main file, no .wal remains
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # created by someone else meanwhile; the caller validates what is there
        except OSError:
            if not path.exists():  # a filesystem without hard links
                os.rename(tmp, path)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
