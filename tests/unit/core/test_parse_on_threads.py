"""``serialise_parsing``: threads that parse at once while finalizers run Python code mid-parse
(which lets another thread in) get their trees, not CPython 3.11's ``SystemError: AST
constructor recursion depth mismatch``."""

from __future__ import annotations

import ast
import gc
import sys
from concurrent.futures import ThreadPoolExecutor

from harness.core.pyast import serialise_parsing

SOURCE = "\n".join(f"def f{i}(x):\n    return [y for y in range(x) if (y and (x or (y + {i})))]\n" for i in range(60))


class _Cycle:
    """Garbage whose finalizer runs Python code: collected mid-parse, it lets another thread run."""

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        for _ in range(50):
            pass


def _parse_while_collecting(_: int) -> list[str]:
    errors = []
    for _ in range(100):
        for _ in range(20):
            _Cycle()
        try:
            ast.parse(SOURCE)
        except SystemError as exc:
            errors.append(str(exc))
    return errors


def test_parsing_on_threads_is_serialised():
    serialise_parsing()
    serialise_parsing()  # idempotent: one lock, not two
    assert ast.parse.__wrapped__.__module__ == "ast"
    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(1e-6)
    gc.set_threshold(50, 5, 5)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            errors = [e for found in pool.map(_parse_while_collecting, range(8)) for e in found]
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
    assert errors == []
