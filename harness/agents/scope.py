"""The episode scope: what lasts one whole episode across the agents built for it.

The driver builds a fresh agent per session and per crash recovery, so nothing an agent
object holds outlives them; what must last the whole episode (the recording that answers
a rebuilt agent's repeated requests, the tokens and cost spent, the run's cap) lives in an
``EpisodeScope``. Whoever runs an episode makes one and passes it down explicitly: the
runner one per episode (taking the new exchanges from it, to store them in the same batch
as the episode), ``harness trace`` and tests a fresh one. ``run_episode`` hands it to the
driver, the driver to every agent it builds for that episode, and reads the usage for the
episode row from it. Agents that call no model ignore it.

The run's spending seen by a scope is the stored spending (``RunBudget``) plus what every
episode sharing its ``Spending`` has spent so far, its own included (see ``RunBudget``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from harness.agents.llm.recording import Exchange, Recorder, Send


@dataclass(frozen=True)
class Price:
    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1e6


@dataclass(frozen=True)
class RunBudget:
    """The run's token and cost cap, and what the run had spent when this invocation began.

    What an invocation spends after that is counted in a ``Spending`` the runner makes per
    invocation and shares among the episodes run in one process, charged as each answer
    comes. With one worker running one episode at a time the cap is exact. Episodes running
    at once on a process's threads (``executor.concurrency``) see each other's spending at
    their next request, so the answers in flight when the cap is crossed pass it. With a
    process pool each process has its own copy and sees the others' spending only through
    the runner, which stops scheduling as soon as the committed total reaches the cap (with
    one job per process the jobs then in flight finish unstored; with more, the runner
    stores them as they finish, those of a process past the cap cut short by it)."""

    max_tokens: int | None = None
    max_cost_usd: float | None = None
    spent_tokens: int = 0
    spent_cost_usd: float = 0.0

    def reached(self, tokens: int, cost_usd: float) -> str | None:
        if self.max_tokens is not None and tokens >= self.max_tokens:
            return f"the run's token cap ({self.max_tokens:,} tokens) is reached"
        if self.max_cost_usd is not None and cost_usd >= self.max_cost_usd:
            return f"the run's cost cap (${self.max_cost_usd:g}) is reached"
        return None


@dataclass
class Spending:
    """Tokens and cost spent so far by the episodes of one invocation in one process (see
    ``RunBudget``), charged by each episode's scope as each answer comes.

    Shared by the episodes that run at once on one process's threads, hence the lock; a
    copy sent to a worker process starts with a lock of its own."""

    tokens: int = 0
    cost_usd: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def charge(self, tokens: int, cost_usd: float) -> None:
        with self._lock:
            self.tokens += tokens
            self.cost_usd += cost_usd

    def totals(self) -> tuple[int, float]:
        with self._lock:
            return self.tokens, self.cost_usd

    def __getstate__(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "cost_usd": self.cost_usd}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.tokens, self.cost_usd = state["tokens"], state["cost_usd"]
        self._lock = threading.Lock()


@dataclass
class EpisodeScope:
    recorder: Recorder = field(default_factory=Recorder)
    budget: RunBudget = field(default_factory=RunBudget)
    spending: Spending = field(default_factory=Spending)  # this invocation's episodes, this one's included
    price: Price = field(default_factory=Price)
    tokens: int = 0
    cost_usd: float = 0.0
    capped: str | None = None  # why the cap ended the episode
    fatal: BaseException | None = None  # an endpoint failure or replay miss: the run must stop

    def complete(self, body: dict[str, Any], send: Send | None) -> dict[str, Any]:
        try:
            exchange, new = self.recorder.complete(body, send)
        except Exception as exc:
            self.fatal = exc
            raise
        if new:
            tokens = exchange.prompt_tokens + exchange.completion_tokens
            cost = self.price.cost(exchange.prompt_tokens, exchange.completion_tokens)
            self.tokens += tokens
            self.cost_usd += cost
            self.spending.charge(tokens, cost)  # at once: episodes on other threads see it
        return exchange.response

    def cap_reached(self) -> str | None:
        tokens, cost = self.spending.totals()
        self.capped = self.budget.reached(self.budget.spent_tokens + tokens, self.budget.spent_cost_usd + cost)
        return self.capped

    def usage(self) -> tuple[int, float, str | None]:
        """(tokens, cost in USD, cap reason) for the episode row; zeros for an agent that
        called no model."""
        return self.tokens, round(self.cost_usd, 9), self.capped

    def exchanges(self) -> list[Exchange]:
        return sorted(self.recorder.exchanges.values(), key=lambda e: e.seq)
