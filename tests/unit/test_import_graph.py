"""The package's import graph: no circle between modules, no arrow up the package order.

Built from the source (every ``import`` and ``from ... import`` in every module, including
imports inside functions: a lazy import that dodges a circle at import time is still a
circle in the design). Imports under ``if TYPE_CHECKING:`` never run and are left out of
the circle check, but not out of the order check.

The order (a module imports only from packages earlier in it) is DESIGN §3's with two
corrections: ``sandbox`` (process containment, used by world's test runner) sits between
core and world, and ``store`` (which imports only core) comes before ``experiment``,
whose runner writes episodes to it; ``view`` (the web viewer, reading the store) sits just
before ``cli``, which serves it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "harness"
ORDER = ("core", "sandbox", "world", "workload", "runtime", "agents", "store", "experiment", "analysis", "paper",
         "view", "cli")
FORBIDDEN = {  # DESIGN §3: an agent sees the world only through the runtime's port; checkers never see agents
    "agents": {"world", "workload"},
    "workload": {"agents", "runtime"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(every import, imports that run) as module -> imported harness modules."""
    mods = _modules()
    every: dict[str, set[str]] = defaultdict(set)
    running: dict[str, set[str]] = defaultdict(set)
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        tree = ast.parse(path.read_text())
        typing_only = _type_checking_lines(tree)
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for target in targets:
                while target and target not in mods:  # `import harness.x.y` names the module y
                    target = target.rpartition(".")[0]
                if target.startswith("harness") and target != mod:
                    every[mod].add(target)
                    if node.lineno not in typing_only:
                        running[mod].add(target)
    return every, running


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    nodes = sorted(set(graph) | {t for ts in graph.values() for t in ts})
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def wrong_arrows(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    bad = []
    for mod, targets in graph.items():
        a = _package(mod)
        for target in targets:
            b = _package(target)
            if a is None or b is None or a == b or a not in ORDER or b not in ORDER:
                continue
            if ORDER.index(b) > ORDER.index(a) or b in FORBIDDEN.get(a, ()):
                bad.append((mod, target))
    return sorted(bad)


def test_every_package_is_placed_in_the_order():
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == set(ORDER)


def test_no_import_circle():
    _, running = import_graph()
    assert cycles(running) == []


def test_no_import_runs_up_the_package_order():
    every, _ = import_graph()
    assert wrong_arrows(every) == []


def test_the_checks_can_fail():
    """The two checks find what they are meant to find (a graph built to fail them)."""
    graph = {"harness.core.a": {"harness.world.b"}, "harness.world.b": {"harness.core.a"},
             "harness.agents.c": {"harness.world.d"}}
    assert cycles(graph) == [["harness.core.a", "harness.world.b"]]
    assert wrong_arrows(graph) == [("harness.agents.c", "harness.world.d"), ("harness.core.a", "harness.world.b")]
