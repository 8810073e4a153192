"""Cross-session retention: probes asked at the start of each later session.

A multi-session task declares, privately, the facts its early sessions tell the agent
(``TaskSpec.probes``). At the start of every later session the harness asks the agent
each due question through the optional ``Agent.answer_probe`` hook, giving it what it
would have at that moment: the brief (with whatever the execution layer carried) and a
read-only view of its memory layer. A reply is correct when every expected string occurs
in it (case-insensitive, whitespace collapsed).

Probes measure; they never act: they take no action, spend no budget, draw from no
random stream and leave memory as it was (``recall(record=False)``), so an episode is
the same whether or not it is probed. Agents without the hook are not asked (0 asked).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.core.models import Brief
from harness.workload.spec import TaskSpec


@dataclass
class Retention:
    asked: int = 0
    correct: int = 0

    def add(self, other: Retention) -> None:
        self.asked += other.asked
        self.correct += other.correct


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def scored(reply: str, expect: tuple[str, ...]) -> bool:
    said = normalise(reply)
    return all(normalise(e) in said for e in expect)


def ask_probes(spec: TaskSpec, brief: Brief, agent: Any, memory: Any) -> Retention:
    due = [p for p in spec.probes if p.told_in < brief.session]
    answer = getattr(agent, "answer_probe", None)
    if not due or answer is None:
        return Retention()

    def recall(query: str, k: int = 5) -> list[str]:
        return [r.text for r in memory.recall(query, k, record=False)] if memory is not None else []

    correct = sum(scored(str(answer(p.question, brief, recall) or ""), p.expect) for p in due)
    return Retention(len(due), correct)
