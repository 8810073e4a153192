"""Incremental checkpoints: a full snapshot every N records and small deltas between them.

A large session state (a long replay log, a big memory) changes little between two
checkpoints: the replay log only grows at its tail and a few memory keys change. A delta
records exactly that:

* ``replay_keep`` / ``replay_append``: keep the first k entries of the base's replay log,
  then append these (a JSON-patch-like diff of an append-mostly list);
* ``set`` / ``unset``: changed paths, ``"field"`` for top-level fields and ``"field/key"``
  inside the dict-valued fields (rng, memory, layers).

Each delta names its ``base_seq`` (the record it applies to) and ``full_seq`` (the full
snapshot its chain starts from). Restoring composes full + deltas and validates the result
as an ``AgentSnapshot``; a missing or corrupt link makes every later delta of that chain
unusable (``BrokenChainError``) and recovery walks back to an older record.
"""

from __future__ import annotations

import hashlib
import zlib
from itertools import accumulate
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.runtime.execution.codec import (
    KIND_DELTA,
    KIND_FULL,
    canonical_bytes,
    decode_record,
    encode_body,
    encode_record,
    gc_paused,
    record_prefix,
    replay_entries_ok,
    snapshot_from_payload,
    stored_entries,
)
from harness.runtime.execution.errors import (
    BrokenChainError,
    CheckpointError,
    MalformedPayloadError,
)
from harness.runtime.execution.snapshot import AgentSnapshot
from harness.runtime.execution.stores import CheckpointStore, latest_valid

DICT_FIELDS = ("rng", "memory", "layers")
SCALAR_FIELDS = ("session_id", "session_index", "action_seq", "counters")
_ENTRY_KEYS = {"action", "observation"}


class DeltaRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_seq: int
    full_seq: int
    replay_keep: int
    replay_append: list[dict[str, Any]] = Field(default_factory=list)
    set: dict[str, Any] = Field(default_factory=dict)
    unset: list[str] = Field(default_factory=list)


def _key_digests(state: dict[str, Any]) -> dict[str, bytes]:
    # Digests of canonical JSON, not object identity: a caller that mutates a memory dict
    # in place must still produce a delta.
    return {
        f"{f}/{k}": hashlib.sha256(canonical_bytes(v)).digest()
        for f in DICT_FIELDS
        for k, v in state.get(f, {}).items()
    }


def _common_prefix(prev: list, cur: list) -> int:
    n = min(len(prev), len(cur))
    # Fast path: the list only grew. Entries are compared by == (identity short-circuits).
    if prev[:n] == cur[:n]:
        return n
    for i in range(n):
        if prev[i] != cur[i]:
            return i
    return n


class IncrementalEncoder:
    """Turns successive states of one session into full or delta records.

    ``state`` is the plain-JSON form of an ``AgentSnapshot`` (``snapshot.model_dump()``);
    replay entries must not be mutated after being passed: their serialized bytes are
    cached (the durable layer owns them; ``record`` takes ownership of the dicts it gets).
    """

    def __init__(self, full_every: int = 10, compress: bool = False):
        if full_every < 1:
            raise ValueError("full_every must be >= 1")
        self.full_every = full_every
        self.compress = compress
        self.reset()

    def reset(self) -> None:
        """Forget the base: the next record is a full snapshot (used after a resume, so a
        new chain never hangs off records that recovery skipped)."""
        self._prev: dict[str, Any] | None = None
        self._prev_digests: dict[str, bytes] = {}
        self._prev_seq = -1
        self._full_seq = -1
        self._since_full = 0
        # The replay log's canonical JSON, entries joined by commas, and where each entry
        # ends in it: a full snapshot of a long log is then one hash and one copy of these
        # bytes, not a re-encode (nor a join of thousands of small pieces).
        self._replay = bytearray()
        self._ends: list[int] = []
        self._ref: list[Any] = []  # the replay entries those bytes are of

    def seed(self, replay: list[dict[str, Any]], stored: list[Any]) -> None:
        """After a resume: take over ``stored``, the bytes each entry of ``replay`` has in
        the records it was restored from, so the next record (still a full one) does not
        encode the whole log again."""
        self.reset()
        if len(stored) != len(replay):
            return
        self._replay = bytearray(b",".join(stored))
        self._ends = [end + i for i, end in enumerate(accumulate(map(len, stored)))]
        self._ref = list(replay)

    def encode(self, seq: int, state: dict[str, Any]) -> tuple[int, bytes]:
        """(kind, blob) for the record at ``seq``."""
        try:
            return self._encode(seq, state)
        except BaseException:
            self.reset()  # a half-updated cache must never serve a later record
            raise

    def _encode(self, seq: int, state: dict[str, Any]) -> tuple[int, bytes]:
        digests = _key_digests(state)
        replay = state["replay"]
        prev = self._prev
        keep = _common_prefix(self._ref, replay)
        fresh = [_entry_bytes(i, entry) for i, entry in enumerate(replay[keep:], start=keep)]
        if prev is None or self._since_full + 1 >= self.full_every or seq <= self._prev_seq:
            before, after = _full_frame(state)
            self._splice(keep, fresh)
            blob = _frame_full(before, self._replay, after, self.compress)
            kind, self._full_seq, self._since_full = KIND_FULL, seq, 0
        else:
            changed: dict[str, Any] = {}
            for f in SCALAR_FIELDS:
                if state.get(f) != prev.get(f):
                    changed[f] = state.get(f)
            for path, d in digests.items():
                if self._prev_digests.get(path) != d:
                    f, k = path.split("/", 1)
                    changed[path] = state[f][k]
            removed = sorted(p for p in self._prev_digests if p not in digests)
            delta = DeltaRecord(base_seq=self._prev_seq, full_seq=self._full_seq, replay_keep=keep,
                                replay_append=replay[keep:], set=changed, unset=removed)
            blob = encode_record(delta.model_dump(), KIND_DELTA, self.compress)
            self._splice(keep, fresh)
            kind = KIND_DELTA
            self._since_full += 1
        self._ref = list(replay)
        self._prev = {**state, "replay": self._ref}
        self._prev_digests = digests
        self._prev_seq = seq
        return kind, blob

    def _splice(self, keep: int, fresh: list[bytes]) -> None:
        """Cut the cached log to its first ``keep`` entries and append ``fresh``."""
        if keep < len(self._ends):
            del self._replay[self._ends[keep - 1] if keep else 0:]
            del self._ends[keep:]
        buf, ends = self._replay, self._ends
        for piece in fresh:
            if ends:
                buf += b","
            buf += piece
            ends.append(len(buf))


def _entry_bytes(i: int, entry: Any) -> bytes:
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        raise ValueError(f"replay[{i}] must have exactly the keys action, observation")
    return canonical_bytes(entry)


_KEY_BYTES = {name: canonical_bytes(name) + b":" for name in AgentSnapshot.model_fields}


def _full_frame(state: dict[str, Any]) -> tuple[bytes, bytes]:
    """The canonical JSON of the snapshot before and after the replay log's entries.

    Everything but the replay log goes through the pydantic model (same normalization as a
    plain encode), so ``before + entries + after`` is identical to
    ``canonical_bytes(snapshot.model_dump())``.
    """
    head = AgentSnapshot.model_validate({**state, "replay": []}).model_dump()
    before: list[bytes] = [b"{"]
    after: list[bytes] = []
    out = before
    for n, key in enumerate(sorted(head)):
        if n:
            out.append(b",")
        out.append(_KEY_BYTES[key])
        if key == "replay":
            before.append(b"[")
            out = after
            after.append(b"]")
        else:
            out.append(canonical_bytes(head[key]))
    after.append(b"}")
    return b"".join(before), b"".join(after)


def _frame_full(before: bytes, entries: bytearray, after: bytes, compress: bool) -> bytes:
    """A full record from its three parts: hashed part by part, then one copy into the blob."""
    if compress:
        return encode_body(b"".join((before, entries, after)), KIND_FULL, True)
    prefix = record_prefix(KIND_FULL, 0, len(before) + len(entries) + len(after))
    digest = hashlib.sha256(prefix)
    for part in (before, entries, after):
        digest.update(part)
    return b"".join((prefix, digest.digest(), before, entries, after))


def apply_delta(base: dict[str, Any], delta: DeltaRecord) -> dict[str, Any]:
    """The state ``delta`` describes, from its base (``base`` is left as it is)."""
    out = _working_copy(base)
    _apply_in_place(out, delta)
    return out


def _working_copy(state: dict[str, Any]) -> dict[str, Any]:
    # Own containers for everything a delta edits; the values themselves are shared.
    out = {**state, "replay": list(state["replay"])}
    for f in DICT_FIELDS:
        out[f] = dict(state.get(f, {}))
    return out


def _apply_in_place(out: dict[str, Any], delta: DeltaRecord) -> None:
    replay = out["replay"]
    if delta.replay_keep > len(replay):
        raise BrokenChainError(f"delta keeps {delta.replay_keep} replay entries but its base has {len(replay)}")
    del replay[delta.replay_keep:]
    replay.extend(delta.replay_append)
    for path in delta.unset:
        f, _, k = path.partition("/")
        if f in DICT_FIELDS:
            out[f].pop(k, None)
    for path, value in delta.set.items():
        f, sep, k = path.partition("/")
        if sep and f in DICT_FIELDS:
            out[f][k] = value
        elif not sep and f in SCALAR_FIELDS:
            out[f] = value
        else:
            raise MalformedPayloadError(f"delta sets an unknown path {path!r}")


class ChainReader:
    """Decodes records of one session and composes deltas onto their full snapshot.

    Decoded records (and their errors) are memoized. A chain is composed in one working
    copy: the 20 MB replay log of the full record is copied once, not once per delta."""

    def __init__(self, store: CheckpointStore, session_id: str):
        self.store, self.session_id = store, session_id
        self._records: dict[int, AgentSnapshot | DeltaRecord | CheckpointError] = {}
        self._blobs: dict[int, bytes] = {}  # of the records that verified

    def record(self, seq: int, blob: bytes | None = None) -> AgentSnapshot | DeltaRecord:
        """The verified record at ``seq``: a full snapshot or a delta."""
        hit = self._records.get(seq)
        if isinstance(hit, CheckpointError):
            raise hit
        if hit is not None:
            return hit
        try:
            rec = self._decode(seq, blob)
        except CheckpointError as exc:
            self._records[seq] = exc
            raise
        self._records[seq] = rec
        return rec

    def _decode(self, seq: int, blob: bytes | None) -> AgentSnapshot | DeltaRecord:
        if blob is None:
            blob = self.store.get(self.session_id, seq)
        if blob is None:
            raise BrokenChainError(f"checkpoint {seq} of {self.session_id} is missing")
        kind, payload = decode_record(blob)
        self._blobs[seq] = blob
        if kind == KIND_FULL:
            return snapshot_from_payload(payload)
        try:
            delta = DeltaRecord.model_validate(payload)
        except ValidationError as exc:
            raise MalformedPayloadError(f"checkpoint {seq} is not a valid delta: {exc}") from None
        if not delta.full_seq <= delta.base_seq < seq:
            raise BrokenChainError(f"delta {seq} has an impossible base {delta.base_seq}/{delta.full_seq}")
        if not replay_entries_ok(delta.replay_append):
            raise MalformedPayloadError(f"delta {seq} appends replay entries without exactly action, observation")
        return delta

    def _chain(self, seq: int, blob: bytes | None) -> tuple[AgentSnapshot, list[DeltaRecord]]:
        """The full snapshot under ``seq`` and the deltas from it up to ``seq``, in order."""
        deltas: list[DeltaRecord] = []
        rec = self.record(seq, blob)
        while isinstance(rec, DeltaRecord):
            deltas.append(rec)
            try:
                rec = self.record(rec.base_seq)
            except CheckpointError as exc:
                raise BrokenChainError(f"delta {seq} cannot be composed: base {rec.base_seq}: {exc.message}") from None
            seq = deltas[-1].base_seq
        deltas.reverse()
        return rec, deltas

    def latest(self) -> tuple[int, AgentSnapshot] | None:
        """The newest record that verifies end to end, as (seq, snapshot)."""
        return latest_valid(self.store, self.session_id, self.snapshot_at)  # each record read once

    def entries_as_stored(self, seq: int) -> list[Any] | None:
        """The replay entries of the (verified) state at ``seq``, each as the JSON text the
        records hold it in, for ``IncrementalEncoder.seed``; None if they cannot be had."""
        chain = [seq]
        try:
            while isinstance(rec := self.record(chain[-1]), DeltaRecord):
                chain.append(rec.base_seq)
            entries = stored_entries(self._blobs[chain.pop()])
            for delta_seq in reversed(chain):
                del entries[self.record(delta_seq).replay_keep:]
                entries.extend(stored_entries(self._blobs[delta_seq]))
        except (CheckpointError, KeyError, ValueError, zlib.error):  # msgspec's errors are ValueErrors
            return None
        return entries

    def state_at(self, seq: int, blob: bytes | None = None) -> dict[str, Any]:
        """The composed state at ``seq`` as plain fields; ``blob``: the record if already read."""
        return _compose(*self._chain(seq, blob))

    def snapshot_at(self, seq: int, blob: bytes | None = None) -> AgentSnapshot:
        with gc_paused():
            full, deltas = self._chain(seq, blob)
            if not deltas:
                return full
            # Every entry was checked: the full record's on decode, appended ones per delta.
            return snapshot_from_payload(_compose(full, deltas), entries_checked=True)


def _compose(full: AgentSnapshot, deltas: list[DeltaRecord]) -> dict[str, Any]:
    # The validated model's own containers, not a model_dump copy (resume latency).
    state = {**{f: getattr(full, f) for f in type(full).model_fields}, "counters": full.counters.model_dump()}
    if deltas:
        state = _working_copy(state)
        for delta in deltas:
            _apply_in_place(state, delta)
    return state


def _composed_snapshot(state: dict[str, Any]) -> AgentSnapshot:
    """Validate a composed (full + deltas) state, its replay entries included."""
    return snapshot_from_payload(state)


def restore_latest(store: CheckpointStore, session_id: str) -> tuple[int, AgentSnapshot] | None:
    """The newest record (full or composed delta chain) that verifies end to end."""
    return ChainReader(store, session_id).latest()
