"""Excerpts of real packages for the tests (``tests/data/realsyntax/README.md``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent / "data" / "realsyntax"


def package(name: str) -> dict[str, str]:
    """The excerpt of package ``name`` as {workspace path: text}, ``.txt`` dropped."""
    base = ROOT / name
    return {str(p.relative_to(base))[: -len(".txt")]: p.read_text(encoding="utf-8")
            for p in sorted(base.rglob("*.py.txt"))}
