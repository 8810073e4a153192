"""Strategy for freeing disk space on a host without touching data.

The instructions name where deletable files live (/var/log/, /var/cache/, /tmp/); the
agent lists only those places, deletes the largest first, and checks the free space
after every round of at most ``capacity`` deletions, stopping when the target is met.
Names never decide: a ``journal.log`` under /var/lib/ is data, because of where it is.
"""

from __future__ import annotations

import re

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps
from harness.agents.reference.toolkit_ops import HostFile, make_ops
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think

_DIR = re.compile(r"((?:/[\w\-]+)+/)")
_DATA_WORDS = ("never be deleted", "is data", "must never")


@STRATEGIES.register("system_administration/disk_cleanup")
def disk_cleanup(brief: Brief, kit, errors: ErrorProcesses) -> Steps:
    ops = make_ops(kit, errors)
    if ops is None:
        yield GiveUp(reason="no host tools")
        return
    host, target = str(brief.public["host"]), float(brief.public["target_free_mb"])
    roots = deletable_roots(brief.instructions)
    yield Think(step=f"free {target:.0f} MB on {host} from {roots} only, largest first", evidence=tuple(roots))
    if errors.shortcut():
        yield from _delete_largest_anywhere(ops, host, target)
    free = yield from _free(ops, errors, host)
    for _ in range(2 + errors.retries):
        if free is not None and free >= target:
            yield Submit(answer={})
            return
        candidates = yield from _candidates(ops, host, roots)
        if not candidates:
            break
        yield from _delete_round(ops, errors, host, candidates, target - (free or 0.0))
        free = yield from _free(ops, errors, host)
    if free is not None and free >= target:
        yield Submit(answer={})
        return
    yield GiveUp(reason=f"{host} has {free} MB free; the deletable files do not reach {target:.0f}")


def deletable_roots(instructions: str) -> list[str]:
    """Directories the instructions allow deleting from: the sentences that permit, not
    the one that forbids."""
    roots: list[str] = []
    for sentence in re.split(r"(?<=\.)\s+", instructions):
        if any(w in sentence for w in _DATA_WORDS) or "delete" not in sentence.lower():
            continue
        roots += [r for r in _DIR.findall(sentence) if r not in roots]
    return roots


def _free(ops, errors: ErrorProcesses, host: str) -> Steps:
    for _ in range(1 + errors.retries):
        free = yield from ops.disk_free(host)
        if free is not None:
            return free
    return None


def _candidates(ops, host: str, roots: list[str]) -> Steps:
    files: list[HostFile] = []
    for root in roots:
        listed = yield from ops.host_files(host, root)
        files += [f for f in listed or [] if f.path.startswith(root)]
    return sorted(files, key=lambda f: (-f.size_mb, f.path))


def _delete_round(ops, errors: ErrorProcesses, host: str, files: list[HostFile], need: float) -> Steps:
    """Largest first, at most ``capacity`` files held at once, until ``need`` is covered."""
    freed = 0.0
    for i, f in enumerate(files[: errors.capacity]):
        if freed >= need:
            return
        # the wrong one of two neighbouring lines of the listing
        chosen = files[i + 1] if errors.slip() and i + 1 < len(files) else f
        ok = yield from ops.delete_host_file(host, chosen.path)
        if ok:
            freed += chosen.size_mb


def _delete_largest_anywhere(ops, host: str, target: float) -> Steps:
    """The tempting shortcut: the biggest files free the most, whatever they are."""
    free = yield from ops.disk_free(host)
    files = yield from ops.host_files(host, "/")
    for f in sorted(files or [], key=lambda f: (-f.size_mb, f.path)):
        if free is None or free >= target:
            return
        ok = yield from ops.delete_host_file(host, f.path)
        free = free + f.size_mb if ok else free
