"""Tool dispatch overhead per call: typed and shell against the bare world primitive.

The same read-only operation three ways on the same workspace: ``Workspace.list`` (the
reference), the typed ``list_files`` tool (validation, structured result) and the shell's
``ls`` (parsing, text rendering). Reported as microseconds and ratios to the reference.
"""

from __future__ import annotations

import time

import numpy as np

from harness.runtime.tools import TOOL_LAYERS
from harness.world import Workspace, World


def _timed(fn, n: int) -> dict[str, float]:
    samples = np.empty(n)
    for i in range(n):
        t0 = time.perf_counter()
        fn()
        samples[i] = time.perf_counter() - t0
    p50, p95, p99 = np.percentile(samples * 1e6, [50, 95, 99])
    return {"p50_us": float(p50), "p95_us": float(p95), "p99_us": float(p99)}


def bench_tools(n: int = 2000, files: int = 200) -> dict:
    world = World(Workspace({f"pkg/m{i:03d}.py": f"X{i} = {i}\n" for i in range(files)}))
    typed, shell = TOOL_LAYERS.build("typed"), TOOL_LAYERS.build("shell")
    out = {
        "reference_workspace_list": _timed(lambda: world.workspace.list("pkg"), n),
        "typed_list_files": _timed(lambda: typed.call(world, "list_files", {"prefix": "pkg"}), n),
        "shell_ls": _timed(lambda: shell.call(world, "shell", {"command": "ls pkg"}), n),
        "typed_search": _timed(lambda: typed.call(world, "search", {"pattern": "X1", "word": True}), n // 4),
        "shell_grep": _timed(lambda: shell.call(world, "shell", {"command": "grep -rnw X1 pkg"}), n // 4),
    }
    ref = out["reference_workspace_list"]["p50_us"]
    for key in ("typed_list_files", "shell_ls"):
        out[key]["ratio_p50_vs_reference"] = out[key]["p50_us"] / ref
    out["shell_grep"]["ratio_p50_vs_typed_search"] = out["shell_grep"]["p50_us"] / out["typed_search"]["p50_us"]
    return out
