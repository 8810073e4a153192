"""A task's world on disk, outside every worker process, so it outlives SIGKILLs.

The world is a directory holding one append-only ``ledger``. Each effect appends one line
``<session> <seq> <cell> <delta>`` with a single ``write`` on an ``O_APPEND`` descriptor and
then fsyncs it, so a killed process leaves the line either whole or absent. The state (cell
values) is the fold of the ledger. Effects are deliberately NOT idempotent: applying the
same ``(session, seq)`` twice appends a second line and adds ``delta`` twice, so the
exactly-once guarantee is the intent log's job and a failure of it shows in ``digest()``
and ``duplicates()``.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

LEDGER = "ledger"


@dataclass(frozen=True)
class Entry:
    session: str
    seq: int
    cell: int
    delta: int

    @property
    def key(self) -> tuple[str, int]:
        return self.session, self.seq

    def line(self) -> bytes:
        return f"{self.session} {self.seq} {self.cell} {self.delta}\n".encode("ascii")

    @classmethod
    def parse(cls, line: str) -> Entry:
        session, seq, cell, delta = line.split(" ")
        return cls(session, int(seq), int(cell), int(delta))


class DiskWorld:
    """Open (or create) the world in ``root``; ``fsync=False`` only for the in-process
    fault-free reference, which no process kill can interrupt."""

    def __init__(self, root: str | Path, fsync: bool = True):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self.values: dict[int, int] = {}
        self.after: dict[tuple[str, int], int] = {}  # key -> the cell's value right after it
        self._fd = os.open(self.root / LEDGER, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        for entry in self.entries():
            self._fold(entry)

    def entries(self) -> list[Entry]:
        text = (self.root / LEDGER).read_text("ascii")
        return [Entry.parse(line) for line in text.splitlines()]

    def _fold(self, entry: Entry) -> int:
        value = self.values.get(entry.cell, 0) + entry.delta
        self.values[entry.cell] = value
        self.after[entry.key] = value
        return value

    def read(self, cell: int) -> int:
        return self.values.get(cell, 0)

    def add(self, session: str, seq: int, cell: int, delta: int) -> int:
        """The effect: append + fsync, then the cell's new value."""
        entry = Entry(session, seq, cell, delta)
        os.write(self._fd, entry.line())
        if self.fsync:
            os.fsync(self._fd)
        return self._fold(entry)

    def value_after(self, session: str, seq: int) -> int | None:
        """What the world shows of effect ``(session, seq)``: the value it left, or None if
        it never happened (how an interrupted intent is reconciled)."""
        return self.after.get((session, seq))

    def duplicates(self) -> dict[tuple[str, int], int]:
        """Keys applied more than once, with their counts (must be empty)."""
        counts = Counter(e.key for e in self.entries())
        return {k: n for k, n in sorted(counts.items()) if n > 1}

    def digest(self) -> str:
        """sha256 over every file of the world, in name order."""
        h = hashlib.sha256()
        for path in sorted(p for p in self.root.rglob("*") if p.is_file()):
            h.update(str(path.relative_to(self.root)).encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
        return h.hexdigest()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
