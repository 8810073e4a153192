"""Carrying what a session was told into the next session of the same task.

A multi-session task tells the agent something in session 1 (a convention, a metric
definition, a service map) that it needs later and cannot find in the world. The agent
has two ways to still know it: its own state survived the session boundary (the
execution layer carried it: ``brief.carried`` holds what it was told before), or it kept
the fact in memory (``Remember``) and gets it back (``Recall``); what a recall returns
depends on the memory layer. Otherwise the fact is gone and the strategy must
rediscover or guess.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from harness.agents.reference.toolkit import Steps
from harness.core.models import Brief
from harness.runtime.port import Recall, Remember

T = TypeVar("T")
Parse = Callable[[str], T | None]


def keep(key: str, text: str) -> Steps:
    """Ask memory to keep ``text`` (the fact in the words it was given) under ``key``."""
    obs = yield Remember(key=key, text=text)
    return bool(obs and obs.ok)


def recall_fact(brief: Brief, query: str, parse: Parse[T], k: int = 5) -> Steps:
    """The fact ``parse`` finds first in carried state, else in what memory returns for
    ``query``; None when neither has it."""
    for text in brief.carried:
        found = parse(text)
        if found is not None:
            return found
    obs = yield Recall(query=query, k=k)
    if obs is None or not obs.ok or obs.data is None:
        return None
    for item in obs.data.get("items", []):
        found = parse(str(item.get("text", "")))
        if found is not None:
            return found
    return None
