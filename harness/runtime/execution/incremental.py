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
    snapshot_from_payload,
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
        self._prev: dict[str, Any] | None = None
        self._prev_digests: dict[str, bytes] = {}
        self._prev_seq = -1
        self._full_seq = -1
        self._since_full = 0
        self._entry_bytes: list[bytes] = []

    def reset(self) -> None:
        """Forget the base: the next record is a full snapshot (used after a resume, so a
        new chain never hangs off records that recovery skipped)."""
        self._prev = None
        self._prev_digests = {}
        self._prev_seq = -1
        self._full_seq = -1
        self._since_full = 0
        self._entry_bytes: list[bytes] = []

    def encode(self, seq: int, state: dict[str, Any]) -> tuple[int, bytes]:
        """(kind, blob) for the record at ``seq``."""
        digests = _key_digests(state)
        replay = state["replay"]
        prev = self._prev
        keep = _common_prefix(prev["replay"], replay) if prev is not None else 0
        # Each replay entry is serialized once and its bytes reused by every later record:
        # a full snapshot of a long log is then a join plus a hash, not a re-encode.
        cache = self._entry_bytes[:keep]
        for i, entry in enumerate(replay[keep:], start=keep):
            if not isinstance(entry, dict) or set(entry) != {"action", "observation"}:
                raise ValueError(f"replay[{i}] must have exactly the keys action, observation")
            cache.append(canonical_bytes(entry))
        if prev is None or self._since_full + 1 >= self.full_every or seq <= self._prev_seq:
            blob = encode_body(_full_body(state, cache), KIND_FULL, self.compress)
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
            kind = KIND_DELTA
            self._since_full += 1
        self._prev = {**state, "replay": list(replay)}
        self._prev_digests = digests
        self._entry_bytes = cache
        self._prev_seq = seq
        return kind, blob


def _full_body(state: dict[str, Any], entry_bytes: list[bytes]) -> bytes:
    """Canonical JSON of the snapshot, identical to ``canonical_bytes(snapshot.model_dump())``.

    Everything but the replay log goes through the pydantic model (same normalization as a
    plain encode); the replay log is spliced in from cached per-entry bytes.
    """
    head = AgentSnapshot.model_validate({**state, "replay": []}).model_dump()
    # One final join over small pieces: concatenating a 20 MB body step by step would
    # copy it several times.
    pieces: list[bytes] = []
    for key in sorted(head):
        pieces.append(b"," if pieces else b"{")
        pieces.append(canonical_bytes(key) + b":")
        if key == "replay":
            pieces.append(b"[")
            pieces.append(b",".join(entry_bytes))
            pieces.append(b"]")
        else:
            pieces.append(canonical_bytes(head[key]))
    pieces.append(b"}")
    return b"".join(pieces)


def apply_delta(base: dict[str, Any], delta: DeltaRecord) -> dict[str, Any]:
    if delta.replay_keep > len(base["replay"]):
        raise BrokenChainError(
            f"delta keeps {delta.replay_keep} replay entries but its base has {len(base['replay'])}"
        )
    out = {**base, "replay": base["replay"][: delta.replay_keep] + delta.replay_append}
    for f in DICT_FIELDS:
        out[f] = dict(base.get(f, {}))
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
    return out


class ChainReader:
    """Decodes records of one session, composing deltas onto their bases (memoized)."""

    def __init__(self, store: CheckpointStore, session_id: str):
        self.store, self.session_id = store, session_id
        self._cache: dict[int, dict[str, Any] | CheckpointError] = {}
        self._models: dict[int, AgentSnapshot] = {}

    def state_at(self, seq: int) -> dict[str, Any]:
        hit = self._cache.get(seq)
        if isinstance(hit, CheckpointError):
            raise hit
        if hit is not None:
            return hit
        try:
            state = self._load(seq)
        except CheckpointError as exc:
            self._cache[seq] = exc
            raise
        self._cache[seq] = state
        return state

    def _load(self, seq: int) -> dict[str, Any]:
        blob = self.store.get(self.session_id, seq)
        if blob is None:
            raise BrokenChainError(f"checkpoint {seq} of {self.session_id} is missing")
        kind, payload = decode_record(blob)
        if kind == KIND_FULL:
            model = snapshot_from_payload(payload)
            self._models[seq] = model
            # The validated model's own containers, not a model_dump copy (resume latency).
            return {**{f: getattr(model, f) for f in type(model).model_fields}, "counters": model.counters.model_dump()}
        try:
            delta = DeltaRecord.model_validate(payload)
        except ValidationError as exc:
            raise MalformedPayloadError(f"checkpoint {seq} is not a valid delta: {exc}") from None
        if not delta.full_seq <= delta.base_seq < seq:
            raise BrokenChainError(f"delta {seq} has an impossible base {delta.base_seq}/{delta.full_seq}")
        try:
            base = self.state_at(delta.base_seq)
        except CheckpointError as exc:
            raise BrokenChainError(f"delta {seq} cannot be composed: base {delta.base_seq}: {exc.message}") from None
        return apply_delta(base, delta)

    def snapshot_at(self, seq: int) -> AgentSnapshot:
        with gc_paused():
            state = self.state_at(seq)
            return self._models.get(seq) or _composed_snapshot(state)


def _composed_snapshot(state: dict[str, Any]) -> AgentSnapshot:
    """Validate a composed (full + deltas) state without re-validating its replay log.

    Every replay entry was already validated once: those of the full record by the
    ``AgentSnapshot`` model, appended ones as delta payloads; the key check is repeated
    here (cheap). Everything else goes through the model as usual. Re-validating the whole
    log of a 20 MB state was half of the chain's resume time."""
    replay = state["replay"]
    for i, entry in enumerate(replay):
        if not isinstance(entry, dict) or entry.keys() != _ENTRY_KEYS:
            raise MalformedPayloadError(f"replay[{i}] must have exactly the keys action, observation")
    head = snapshot_from_payload({**state, "replay": []})
    return head.model_copy(update={"replay": replay})


def restore_latest(store: CheckpointStore, session_id: str) -> tuple[int, AgentSnapshot] | None:
    """The newest record (full or composed delta chain) that verifies end to end."""
    reader = ChainReader(store, session_id)
    return latest_valid(store, session_id, lambda seq, _blob: reader.snapshot_at(seq))
