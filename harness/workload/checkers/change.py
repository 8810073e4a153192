"""Checkers for a reverted config change: the file, what the service runs, what was named.

A revert is judged on the final world: the culprit's config file holds exactly the
settings it had before the bad change plus every later change (a revert puts back what
one change replaced, it does not roll the service back in time), the service runs that
file, and the symptom is clear by the estate's rule: its errors last as long as the
culprit runs with the bad setting.
"""

from __future__ import annotations

from typing import Any

from harness.workload.checks import CHECKERS
from harness.world import World
from harness.world.components.services import Services, parse_config


def _svcs(world: World) -> Services:
    if world.services is None:
        raise ValueError("the world has no services component")
    return world.services


def _brief(items: list[str], limit: int = 4) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


@CHECKERS.register("config_reverted")
def config_reverted(world: World, spec: Any, service: str, expected: dict[str, str]) -> tuple[bool, str]:
    """The config file of ``service`` holds exactly ``expected``: every setting the change
    replaced is back, a setting it added is gone, and nothing else differs."""
    final = parse_config(_svcs(world).read_config(service))
    wrong = sorted(k for k in expected if final.get(k) != expected[k])
    extra = sorted(k for k in final if k not in expected)
    if wrong or extra:
        parts = [f"wrong or missing: {_brief(wrong)}" if wrong else "", f"unexpected: {_brief(extra)}" if extra else ""]
        return False, f"{service} config is not the reverted one ({'; '.join(p for p in parts if p)})"
    return True, f"{service} config is back to its settings before the change"


@CHECKERS.register("regression_cleared")
def regression_cleared(world: World, spec: Any, symptom: str, culprit: str, key: str, bad: str) -> tuple[bool, str]:
    """The estate's rule: ``symptom`` errors while ``culprit`` runs with ``key`` = ``bad``
    (its loaded config, not its file); it is clear once the culprit runs without it and
    the symptom itself runs."""
    svcs = _svcs(world)
    c, s = svcs.services.get(culprit), svcs.services.get(symptom)
    if c is None or s is None:
        return False, f"{culprit if c is None else symptom} is gone"
    if c["status"] not in ("running", "degraded"):
        return False, f"{culprit} is {c['status']}: {symptom} still fails its calls"
    if parse_config(c["running_config"]).get(key) == bad:
        return False, f"{culprit} still runs {key}={bad}: {symptom} keeps erroring"
    if s["status"] != "running":
        return False, f"{symptom} is {s['status']}"
    return True, f"{culprit} no longer runs {key}={bad}; {symptom} recovers"


@CHECKERS.register("change_named")
def change_named(world: World, spec: Any, change: str) -> tuple[bool, str]:
    """The submission names the one change that caused the regression (by its id)."""
    sub = world.submission
    got = sub.get("change") if isinstance(sub, dict) else None
    if not isinstance(got, str):
        return False, "the submission must name one change: {\"change\": \"CHG-NNNN\"}"
    if got.strip().upper() != change.upper():
        return False, f"wrong change named: {got!r}"
    return True, f"{change} named as the cause"
