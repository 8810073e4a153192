"""Stable, process-independent hashing of JSON-able data.

Python's ``hash()`` is salted per process, so everything that must agree across workers,
runs and machines (config hashes, seeds derived from names, content hashes) goes through
here instead.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal data gives equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def stable_hash(value: Any, length: int = 16) -> str:
    """Hex sha256 of the canonical JSON of ``value`` (or of a str/bytes as is), truncated."""
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, str):
        data = value.encode()
    else:
        data = canonical_json(value).encode()
    return hashlib.sha256(data).hexdigest()[:length]


def stable_int(value: Any, bits: int = 64) -> int:
    """A non-negative integer derived from ``value``; used as seed entropy."""
    return int(stable_hash(value, length=bits // 4), 16)
