"""Carrying what a session was told into the next session of the same task.

A multi-session task tells the agent something in session 1 (a convention, a metric
definition, a password for the change window) that it needs later and cannot find in the
world unless someone wrote it there. What a worker does, whatever the infrastructure, is
write it down: the agent keeps it in memory (``Remember``) and posts it on the task's
ticket, which every condition keeps. A lapse (``note_lapse_rate``) is forgetting to do
either. In a later session the agent looks where it could have kept it, cheapest first:
its own carried state (when the execution layer kept the agent's state across the session
boundary: ``brief.carried``), then memory (``Recall``: what comes back depends on the
memory layer; a tiered memory keeps what the agent was told without the agent's
diligence), then the ticket (one read; in a shell, text in which a line can be skimmed
over). Each look costs an action and its minutes. Otherwise the fact is gone and the
strategy must rediscover or guess.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.core.models import Brief
from harness.runtime.port import Recall, Remember

T = TypeVar("T")
Parse = Callable[[str], T | None]
NOTE_PREFIX = "Note for a later session"


def keep(kit: Toolkit, errors: ErrorProcesses, key: str, text: str) -> Steps:
    """Write ``text`` (the fact in the words it was given) down for a later session: into
    memory under ``key`` and onto the ticket. False when the agent lapsed and wrote
    nothing, or nothing took it."""
    if errors.lapse():
        return False
    obs = yield Remember(key=key, text=text)
    posted = yield from kit.post_comment(f"{NOTE_PREFIX} ({key}): {text}")
    return bool(posted or (obs and obs.ok))


def recall_fact(kit: Toolkit, brief: Brief, query: str, parse: Parse[T], k: int = 5) -> Steps:
    """The fact ``parse`` finds first in carried state, else in what memory returns for
    ``query``, else on the ticket; None when none of them has it."""
    for text in brief.carried:
        found = parse(text)
        if found is not None:
            return found
    obs = yield Recall(query=query, k=k)
    if obs is not None and obs.ok and obs.data is not None:
        for item in obs.data.get("items", []):
            found = parse(str(item.get("text", "")))
            if found is not None:
                return found
    comments = yield from kit.read_ticket()
    for text in reversed(comments or []):  # the newest note first: a correction beats what it corrects
        found = parse(text)
        if found is not None:
            return found
    return None
