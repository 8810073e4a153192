"""A virtual workspace: a deterministic mapping of POSIX paths to text files."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from harness.core.errors import WorldError

__all__ = ["SearchHit", "Workspace", "WorldError"]
from harness.world import patterns


@dataclass(frozen=True, slots=True)
class SearchHit:
    path: str
    line: int  # 1-based
    text: str


def _normalise(path: str) -> str:
    parts = [p for p in path.strip().replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise WorldError(f"invalid path {path!r}", "use a relative path inside the workspace")
    return "/".join(parts)


class Workspace:
    """Files by path. Everything is in memory; snapshots are plain dict copies."""

    def __init__(self, files: dict[str, str] | None = None):
        self._files: dict[str, str] = {}
        for path, text in (files or {}).items():
            self._files[_normalise(path)] = text

    # -- inspection ---------------------------------------------------------------------
    def exists(self, path: str) -> bool:
        return _normalise(path) in self._files

    def read(self, path: str) -> str:
        key = _normalise(path)
        try:
            return self._files[key]
        except KeyError:
            raise WorldError(f"no such file: {key}", "list the files to see what exists") from None

    def list(self, prefix: str = "") -> list[str]:
        """Sorted paths under ``prefix`` (a directory or a path prefix)."""
        pre = prefix.strip().strip("/")
        if pre in ("", "."):
            return sorted(self._files)
        return sorted(p for p in self._files if p == pre or p.startswith(pre + "/"))

    def search(
        self,
        pattern: str,
        *,
        regex: bool = False,
        word: bool = False,
        paths: Iterable[str] | None = None,
    ) -> list[SearchHit]:
        """Every line matching ``pattern``, in path then line order."""
        expr = pattern if regex else re.escape(pattern)
        if word:
            expr = rf"\b(?:{expr})\b"
        try:  # through `patterns`: an agent's pattern is matched under a time limit
            compiled = patterns.compile(expr, shown=pattern)
        except re.error as exc:
            raise WorldError(f"invalid pattern {pattern!r}: {exc}") from None
        targets = self._select(paths)
        hits = []
        for path in targets:
            for i, line in enumerate(_lines(self._files[path]), start=1):
                if compiled.search(line):
                    hits.append(SearchHit(path, i, line))
        return hits

    def _select(self, paths: Iterable[str] | None) -> list[str]:
        if paths is None:
            return sorted(self._files)
        selected: set[str] = set()
        for p in paths:
            key = p.strip().strip("/")
            if key in self._files:  # an exact file: no scan of the whole workspace
                selected.add(key)
            else:
                selected.update(self.list(p))
        return sorted(selected)

    # -- mutation -----------------------------------------------------------------------
    def write(self, path: str, text: str) -> None:
        self._files[_normalise(path)] = text

    def delete(self, path: str) -> None:
        key = _normalise(path)
        if key not in self._files:
            raise WorldError(f"no such file: {key}")
        del self._files[key]

    def replace(
        self, path: str, old: str, new: str, *, regex: bool = False, count: int = 0
    ) -> int:
        """Replace in one file; returns the number of replacements (0 leaves it untouched)."""
        text = self.read(path)
        expr = old if regex else re.escape(old)
        replacement = new if regex else new.replace("\\", "\\\\")
        try:  # through `patterns`, with re's checks of the pattern and the template first
            patterns.check_template(expr, replacement)
            result, n = patterns.compile(expr, shown=old).subn(replacement, text, count=count)
        except re.error as exc:
            raise WorldError(f"invalid pattern {old!r}: {exc}") from None
        if n:
            self._files[_normalise(path)] = result
        return n

    # -- state --------------------------------------------------------------------------
    def snapshot(self) -> dict[str, str]:
        return dict(self._files)

    def restore(self, snapshot: dict[str, str]) -> None:
        self._files = dict(snapshot)

    def digest(self) -> str:
        """sha256 over sorted (path, text): equal workspaces, equal digests."""
        h = hashlib.sha256()
        for path in sorted(self._files):
            h.update(path.encode() + b"\0" + self._files[path].encode() + b"\0")
        return h.hexdigest()

    def digest_under(self, path: str) -> str:
        """sha256 of one file, or of every file under a directory ("" is the workspace);
        an absent file digests as the empty set, so creating and deleting one differ."""
        key = path.strip().strip("/")
        h = hashlib.sha256()
        paths = [key] if key in self._files else [p for p in sorted(self._files)
                                                   if not key or p.startswith(key + "/")]
        for p in paths:
            h.update(p.encode() + b"\0" + self._files[p].encode() + b"\0")
        return h.hexdigest()

    def __len__(self) -> int:
        return len(self._files)


def _lines(text: str) -> list[str]:
    """The lines of ``text`` numbered as grep, sed, editors and the Python tokenizer number
    them: split at newlines only. ``str.splitlines`` also splits at form feeds (page breaks
    in real code) and other separators, which shifted every later hit's line number away
    from the line ``sed -n Np`` prints. The carriage return of a CRLF line is dropped, as
    ``splitlines`` did."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]
