"""code_review/review_security: flag the security holes a change opens.

One or two of: SQL built by string formatting, a user-supplied name joined into a path
without normalisation, a hard-coded credential, unsafe deserialization of input. From
difficulty 2 the change also adds safe look-alikes (parametrised queries, checked paths,
secrets read from the environment, ``json.loads``/``yaml.safe_load``), so flagging every
``execute`` or ``open`` fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.workload.families.review_common import (
    Block,
    Draft,
    ReviewFamily,
    benign,
    fill,
    sample_common,
)
from harness.workload.registry import family

KINDS = ("injection", "path_traversal", "secret", "deserialization")
# kind -> (before or None for a new function, after); ``#@`` marks the line to flag.
HOLES: dict[str, tuple[tuple[str | None, str], ...]] = {
    "injection": (
        ('''def $name(conn: sqlite3.Connection, code: str) -> list[tuple]:
    """Rows of the $table table for one code."""
    cursor = conn.execute("SELECT * FROM $table WHERE code = ?", (code,))
    return cursor.fetchall()''', '''def $name(conn: sqlite3.Connection, code: str) -> list[tuple]:
    """Rows of the $table table for one code."""
    query = f"SELECT * FROM $table WHERE code = '{code}'"  #@
    cursor = conn.execute(query)  #+
    return cursor.fetchall()'''),
        (None, '''def $name(conn: sqlite3.Connection, owner: str) -> int:
    """Delete the $noun rows of one owner; the number deleted."""
    cursor = conn.execute("DELETE FROM $table WHERE owner = '%s'" % owner)  #@
    conn.commit()
    return cursor.rowcount'''),
    ),
    "path_traversal": (
        ('''def $name(filename: str) -> str:
    """Contents of one $noun export from the export directory."""
    path = os.path.normpath(os.path.join(EXPORT_DIR, filename))
    if not path.startswith(EXPORT_DIR + os.sep):
        raise ValueError(f"outside the export directory: {filename}")
    with open(path, encoding="utf-8") as handle:
        return handle.read()''', '''def $name(filename: str) -> str:
    """Contents of one $noun export from the export directory."""
    path = os.path.join(EXPORT_DIR, filename)  #@
    with open(path, encoding="utf-8") as handle:  #+
        return handle.read()'''),
        (None, '''def $name(filename: str, data: bytes) -> int:
    """Store an uploaded $noun file; the number of bytes written."""
    with open(os.path.join(EXPORT_DIR, filename), "wb") as out:  #@
        return out.write(data)'''),
    ),
    "secret": (
        ('''${NOUN}_API_TOKEN = os.environ.get("${NOUN}_API_TOKEN", "")''',
         '''${NOUN}_API_TOKEN = "$token"  #@'''),
        ('''def $name(host: str) -> dict[str, str]:
    """Connection settings for the $noun database."""
    return {"host": host, "user": "${noun}_svc", "password": os.environ["${NOUN}_DB_PASSWORD"]}''',
         '''def $name(host: str) -> dict[str, str]:
    """Connection settings for the $noun database."""
    return {"host": host, "user": "${noun}_svc", "password": "$password"}  #@'''),
    ),
    "deserialization": (
        ('''def $name(payload: bytes) -> dict:
    """Decode a $noun message from the queue."""
    return json.loads(payload)''', '''def $name(payload: bytes) -> dict:
    """Decode a $noun message from the queue."""
    return pickle.loads(payload)  #@'''),
        ('''def $name(text: str) -> dict:
    """Settings of a $noun job as uploaded by its owner."""
    return yaml.safe_load(text) or {}''', '''def $name(text: str) -> dict:
    """Settings of a $noun job as uploaded by its owner."""
    return yaml.load(text, Loader=yaml.Loader) or {}  #@'''),
    ),
}
# Safe code that looks like the holes: new functions the change adds.
DECOYS = (
    '''def $name(conn: sqlite3.Connection, code: str) -> int:
    """How many $noun rows carry ``code``."""
    row = conn.execute("SELECT COUNT(*) FROM $table WHERE code = ?", (code,)).fetchone()
    return int(row[0])''',
    '''def $name(filename: str) -> bool:
    """Whether a $noun export of that name exists inside the export directory."""
    path = os.path.normpath(os.path.join(EXPORT_DIR, filename))
    return path.startswith(EXPORT_DIR + os.sep) and os.path.exists(path)''',
    '''def $name() -> str:
    """The $noun service token, from the environment."""
    return os.environ.get("${NOUN}_SERVICE_TOKEN", "")''',
    '''def $name(payload: bytes) -> dict:
    """Decode a $noun event."""
    return json.loads(payload.decode("utf-8"))''',
    '''def $name(text: str) -> dict:
    """Defaults of a $noun job."""
    return yaml.safe_load(text) or {}''',
)
N_HOLES = {1: (1, 1), 2: (1, 1), 3: (1, 2), 4: (2, 2), 5: (2, 2)}
N_DECOYS = {1: (0, 0), 2: (1, 1), 3: (1, 2), 4: (2, 3), 5: (3, 4)}
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _secret(rng: np.random.Generator, prefix: str, length: int) -> str:
    return prefix + "".join(_ALNUM[int(i)] for i in rng.integers(0, len(_ALNUM), length))


@family
class ReviewSecurity(ReviewFamily):
    name = "code_review/review_security"
    input_keys = ("holes", "n_decoys")
    require_kind = True
    kinds = KINDS

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        params = sample_common(rng, difficulty)
        low, high = N_HOLES[difficulty]
        n = int(rng.integers(low, high + 1))
        holes = [KINDS[int(i)] for i in rng.permutation(len(KINDS))[:n]]
        low, high = N_DECOYS[difficulty]
        return {**params, "holes": holes, "n_decoys": int(rng.integers(low, high + 1))}

    def header_extra(self) -> str:
        return 'import pickle\nimport sqlite3\n\nimport yaml\n\nEXPORT_DIR = "/srv/exports"\n'

    def compose(self, draft: Draft, params: dict[str, Any]) -> None:
        for kind in params["holes"]:
            if kind not in HOLES:
                raise ValueError(f"unknown security kind {kind!r}")
            variants = HOLES[kind]
            before, after = variants[int(draft.rng.integers(len(variants)))]
            fields = {**draft.fields(), "token": _secret(draft.rng, "sk_live_", 24),
                      "password": _secret(draft.rng, "", 14)}
            after_text = fill(after, fields)
            if before is not None and after_text.startswith("def") and int(params["difficulty"]) >= 3:
                after_text = benign(draft.rng, after_text, allow_extract=False)
            draft.add(Block(None if before is None else fill(before, fields), after_text, kind))
        for i in draft.rng.permutation(len(DECOYS))[: int(params["n_decoys"])]:
            draft.add(Block(None, fill(DECOYS[int(i)], draft.fields())))

    def task_text(self, package: str) -> str:
        return (f"Security review: check the change to the package `{package}/` shown in "
                f"`review/change.diff` (the workspace already holds the changed files) for security "
                f"holes it introduces. Flag each with its kind, one of `injection` (SQL built from "
                f"input by string formatting), `path_traversal` (input joined into a file path "
                f"without normalising and checking it), `secret` (a hard-coded credential) or "
                f"`deserialization` (unsafe deserialization of input, e.g. pickle or yaml.load).")
