"""Versioned, typed checkpoint encoding: a fixed header and a canonical JSON payload.

Layout (big-endian), 48 bytes of header then the payload:

    magic  4s  b"HXCK"
    version H  format version (FORMAT_VERSION)
    flags  B   bit 0: payload is zlib-compressed
    kind   B   0 = full AgentSnapshot, 1 = incremental delta
    length Q   payload length in bytes
    sha256 32s over the first 16 header bytes + the payload

The checksum covers the header fields too, so a flipped bit in ``kind`` or ``flags`` is
caught, not just one in the payload. Decoding checks, in this order: size, magic, version,
length, checksum, then JSON and the pydantic model; each failure is its own error class.
Nothing in a checkpoint is ever executed (plain JSON, no pickle), so a hostile record can
at worst be rejected. The payload is canonical JSON (sorted keys, no whitespace, ASCII), so
decode followed by encode reproduces the bytes exactly.

Speed without a second format: the bytes are defined by the standard library's
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)``.
Encoding tries python-rapidjson first, which writes the same bytes for everything but
``\\u`` escapes (it writes upper-case hex) and DEL (it leaves it raw); output with either,
and anything it refuses, is re-encoded by the standard library, which also raises exactly
as before. Decoding tries msgspec, which on valid JSON returns what ``json.loads`` returns
and otherwise fails; every failure goes to ``json.loads``, which has the last word. (orjson
and msgspec encoders were measured and rejected: other float notation, NaN written as
``null``, no ASCII escaping.)
"""

from __future__ import annotations

import gc
import hashlib
import json
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import msgspec
import rapidjson
from pydantic import ValidationError

from harness.runtime.execution.errors import (
    BadMagicError,
    ChecksumMismatchError,
    MalformedPayloadError,
    TruncatedCheckpointError,
    UnsupportedVersionError,
)
from harness.runtime.execution.snapshot import AgentSnapshot

MAGIC = b"HXCK"
FORMAT_VERSION = 1
KIND_FULL = 0
KIND_DELTA = 1
FLAG_ZLIB = 0x01
_PREFIX = struct.Struct(">4sHBBQ")
_HEADER = struct.Struct(">4sHBBQ32s")
HEADER_SIZE = _HEADER.size  # 48
_ZLIB_LEVEL = 6  # fixed: the same level always gives the same bytes


@dataclass(frozen=True)
class Header:
    version: int
    flags: int
    kind: int
    length: int
    sha256: bytes

    @property
    def compressed(self) -> bool:
        return bool(self.flags & FLAG_ZLIB)


# The definition of the bytes (json.dumps with these arguments builds exactly this encoder).
_STDLIB_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
# Refuses whatever the standard library refuses (NaN, bytes, sets, UUIDs, datetimes) and,
# to stay on the safe side, also tuples, dict subclasses and non-string keys, which the
# standard library then encodes itself.
_FAST_ENCODER = rapidjson.Encoder(
    ensure_ascii=True, sort_keys=True, number_mode=rapidjson.NM_NONE, bytes_mode=rapidjson.BM_NONE,
    iterable_mode=rapidjson.IM_ONLY_LISTS, mapping_mode=rapidjson.MM_ONLY_DICTS,
    uuid_mode=rapidjson.UM_NONE, datetime_mode=rapidjson.DM_NONE,
)
_FAST_DECODER = msgspec.json.Decoder()


def canonical_bytes(value: Any) -> bytes:
    """Canonical JSON; NaN/inf are refused because they are not JSON."""
    text = fast_canonical(value)
    if text is None:
        text = _STDLIB_ENCODER.encode(value)
    return text.encode("ascii")


def fast_canonical(value: Any) -> str | None:
    """The fast encoder's text where it is known to equal the standard library's, else None."""
    try:
        text = _FAST_ENCODER(value)
    except Exception:  # noqa: BLE001 - whatever it refuses, the standard library decides
        return None
    if "\\u" in text or "\x7f" in text:  # upper-case hex escapes; DEL left unescaped
        return None
    return text


def loads(raw: bytes | memoryview) -> Any:
    """``json.loads(raw)`` with NaN/Infinity refused, fast for well-formed input."""
    try:
        return _FAST_DECODER.decode(raw)
    except Exception:  # noqa: BLE001 - json.loads decides what the input is (and the error)
        return json.loads(bytes(raw), parse_constant=_reject_constant)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Suspend the cyclic GC while building a large acyclic object tree.

    Decoding a 20 MB replay log creates ~1M small dicts and strings; each allocation burst
    triggers generational collections that rescan the growing tree, which measured 2-7x
    the cost of the parse itself. JSON trees have no cycles, so nothing is leaked; the
    previous GC state is restored on exit (nesting-safe).

    After building a large tree, everything the young generations hold is moved to the
    oldest one unscanned (``gc.freeze()`` then ``gc.unfreeze()``): otherwise the first young
    collection after re-enabling walks the whole new tree, which measured as long as the
    decode itself. The price: young cyclic garbage elsewhere in the process waits for the
    next full collection instead of the next young one (delayed, never leaked)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_count()[0] > _PROMOTE_AFTER:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


# Young objects built while paused above which they are promoted unscanned; a small
# decode's young collection is cheap and left alone.
_PROMOTE_AFTER = 50_000


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-JSON constant {name}")


def encode_record(payload: dict[str, Any], kind: int, compress: bool = False) -> bytes:
    return encode_body(canonical_bytes(payload), kind, compress)


def encode_body(body: bytes, kind: int, compress: bool = False) -> bytes:
    """Frame already-canonical JSON bytes (callers that cache parts of the payload)."""
    flags = 0
    if compress:
        body = zlib.compress(body, _ZLIB_LEVEL)
        flags |= FLAG_ZLIB
    prefix = record_prefix(kind, flags, len(body))
    return b"".join((prefix, _sha(prefix, body), body))


def record_prefix(kind: int, flags: int, length: int) -> bytes:
    """The 16 header bytes before the digest (the digest covers them too)."""
    return _PREFIX.pack(MAGIC, FORMAT_VERSION, flags, kind, length)


def _sha(prefix: bytes, body: bytes) -> bytes:
    # Avoids copying a large body just to prepend 16 bytes.
    h = hashlib.sha256(prefix)
    h.update(body)
    return h.digest()


def read_header(blob: bytes) -> Header:
    """Parse and check the header alone (magic, version, announced length)."""
    if len(blob) < 4 or blob[:4] != MAGIC:
        raise BadMagicError(f"not a checkpoint: expected magic {MAGIC!r}, found {bytes(blob[:4])!r}")
    if len(blob) < HEADER_SIZE:
        raise TruncatedCheckpointError(f"checkpoint header truncated: {len(blob)} of {HEADER_SIZE} bytes")
    _, version, flags, kind, length, digest = _HEADER.unpack_from(blob)
    if version > FORMAT_VERSION:
        raise UnsupportedVersionError(version, FORMAT_VERSION)
    if version < 1:
        raise MalformedPayloadError(f"checkpoint format version {version} does not exist")
    have = len(blob) - HEADER_SIZE
    if have != length:
        raise TruncatedCheckpointError(
            f"checkpoint payload is {have} bytes but the header announces {length} (torn or partial write)"
        )
    return Header(version, flags, kind, length, digest)


def decode_record(blob: bytes) -> tuple[int, dict[str, Any]]:
    """Verify a record and return (kind, JSON payload). Raises a CheckpointError subclass."""
    header = read_header(blob)
    view = memoryview(blob)
    prefix, body = bytes(view[: _PREFIX.size]), view[HEADER_SIZE:]
    if header.flags == 0 and header.kind in (KIND_FULL, KIND_DELTA) and len(body) >= _PARALLEL_HASH:
        return header.kind, _verify_while_parsing(header, prefix, body)
    if _sha(prefix, body) != header.sha256:
        raise ChecksumMismatchError(_CHECKSUM_MISMATCH)
    if header.flags & ~FLAG_ZLIB:
        raise MalformedPayloadError(f"unknown checkpoint flags {header.flags:#x}")
    if header.kind not in (KIND_FULL, KIND_DELTA):
        raise MalformedPayloadError(f"unknown checkpoint kind {header.kind}")
    try:
        raw = zlib.decompress(body) if header.compressed else body  # no copy of a large body
        return header.kind, _payload(raw)
    except (zlib.error, ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayloadError(f"checkpoint payload is not valid JSON: {exc}") from None


_CHECKSUM_MISMATCH = "checkpoint sha256 does not match its contents (corrupted or tampered)"
# Bodies from this size on are hashed on a second thread while the main one parses them
# (hashlib releases the GIL): the sha256 of a 20 MB body no longer adds to its parse.
_PARALLEL_HASH = 1 << 20


def _payload(raw: bytes | memoryview) -> dict[str, Any]:
    with gc_paused():
        payload = loads(raw)
    if not isinstance(payload, dict):
        raise MalformedPayloadError("checkpoint payload must be a JSON object")
    return payload


def _verify_while_parsing(header: Header, prefix: bytes, body: memoryview) -> dict[str, Any]:
    """The checksum still decides first: a parse of a damaged body is thrown away, and
    its errors are raised only once the checksum has matched."""
    digest: list[bytes] = []
    hasher = threading.Thread(target=lambda: digest.append(_sha(prefix, body)), daemon=True)
    hasher.start()
    try:
        payload, failure = _payload(body), None
    except BaseException as exc:  # noqa: BLE001 - re-raised below, after the checksum
        payload, failure = None, exc
    finally:
        hasher.join()
    if digest != [header.sha256]:
        raise ChecksumMismatchError(_CHECKSUM_MISMATCH)
    if isinstance(failure, ValueError):  # json's errors, UnicodeDecodeError included
        raise MalformedPayloadError(f"checkpoint payload is not valid JSON: {failure}") from None
    if failure is not None:
        raise failure
    return payload


class _FullEntries(msgspec.Struct):
    replay: list[msgspec.Raw] = []


class _DeltaEntries(msgspec.Struct):
    replay_append: list[msgspec.Raw] = []


def stored_entries(blob: bytes) -> list[msgspec.Raw]:
    """The replay entries of an already verified record, each as the JSON text it holds
    (a full record's log, a delta's appended entries), without building any object.

    Records are canonical JSON, so this text is what ``canonical_bytes`` writes for each
    entry: an encoder can take it over after a resume instead of encoding again."""
    header = read_header(blob)
    body = memoryview(blob)[HEADER_SIZE:]
    raw = zlib.decompress(body) if header.compressed else body
    if header.kind == KIND_FULL:
        return msgspec.json.decode(raw, type=_FullEntries).replay
    return msgspec.json.decode(raw, type=_DeltaEntries).replay_append


def encode_snapshot(snapshot: AgentSnapshot, compress: bool = False) -> bytes:
    return encode_record(snapshot.model_dump(), KIND_FULL, compress)


_ENTRY_KEYS = dict.fromkeys(("action", "observation")).keys()


def replay_entries_ok(replay: Any) -> bool:
    """Is ``replay`` a list of dicts with exactly the keys action, observation? (C-speed: one
    Python-level loop over a 20 MB log cost as much as decoding it.)"""
    if type(replay) is not list:
        return False
    try:
        return all(map(_ENTRY_KEYS.__eq__, map(dict.keys, replay)))
    except TypeError:  # an entry that is not a dict
        return False


def snapshot_from_payload(payload: dict[str, Any], entries_checked: bool = False) -> AgentSnapshot:
    """Validate a decoded JSON payload as an ``AgentSnapshot``.

    The replay log is the bulk of a large snapshot and pydantic would copy every entry: for
    decoded JSON (string keys, any values) the entry check above is the whole of what its
    validation does, so the model validates everything else and takes the log as it is. A
    log that fails the check goes through pydantic for the precise error.
    ``entries_checked``: the caller already ran the entry check on every entry."""
    try:
        with gc_paused():
            replay = payload.get("replay")
            if type(replay) is list and (entries_checked or replay_entries_ok(replay)):
                head = AgentSnapshot.model_validate({**payload, "replay": []})
                return head.model_copy(update={"replay": replay})
            return AgentSnapshot.model_validate(payload)
    except ValidationError as exc:
        raise MalformedPayloadError(f"checkpoint payload is not an AgentSnapshot: {exc}") from None


def decode_snapshot(blob: bytes) -> AgentSnapshot:
    kind, payload = decode_record(blob)
    if kind != KIND_FULL:
        raise MalformedPayloadError("expected a full snapshot, found an incremental delta")
    return snapshot_from_payload(payload)
