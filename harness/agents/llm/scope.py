"""The episode scope: one episode's recorder, token and cost meter, and the run's cap.

The driver builds a fresh agent per session and per crash recovery, so nothing an agent
object holds outlives them; what must last the whole episode (the recording that answers
a rebuilt agent's repeated requests, the tokens spent) lives here. The runner opens one
scope around each episode and takes the new exchanges from it, to store them in the same
batch as the episode; ``run_episode`` reads the usage for the episode row.
"""

from __future__ import annotations

import contextlib
import contextvars
import weakref
from collections.abc import Iterator
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

    ``invocation`` names one runner invocation: spending is added up per process under it,
    so one worker sees the run's stored spending plus its own. With one worker the cap is
    exact; with N workers up to N episodes in flight may finish past it (the runner stops
    scheduling as soon as the committed total reaches it)."""

    max_tokens: int | None = None
    max_cost_usd: float | None = None
    spent_tokens: int = 0
    spent_cost_usd: float = 0.0
    invocation: str = ""

    def reached(self, tokens: int, cost_usd: float) -> str | None:
        if self.max_tokens is not None and tokens >= self.max_tokens:
            return f"the run's token cap ({self.max_tokens:,} tokens) is reached"
        if self.max_cost_usd is not None and cost_usd >= self.max_cost_usd:
            return f"the run's cost cap (${self.max_cost_usd:g}) is reached"
        return None


_PROCESS_SPENT: dict[str, tuple[int, float]] = {}  # invocation -> this process's spending


def process_spent(budget: RunBudget) -> tuple[int, float]:
    """The run's spending as far as this process knows: stored before, plus its own."""
    tokens, cost = _PROCESS_SPENT.get(budget.invocation, (0, 0.0))
    return budget.spent_tokens + tokens, budget.spent_cost_usd + cost


@dataclass
class EpisodeScope:
    recorder: Recorder = field(default_factory=Recorder)
    budget: RunBudget = field(default_factory=RunBudget)
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
            self.tokens += exchange.prompt_tokens + exchange.completion_tokens
            self.cost_usd += self.price.cost(exchange.prompt_tokens, exchange.completion_tokens)
        return exchange.response

    def cap_reached(self) -> str | None:
        tokens, cost = process_spent(self.budget)
        self.capped = self.budget.reached(tokens + self.tokens, cost + self.cost_usd)
        return self.capped

    def exchanges(self) -> list[Exchange]:
        return sorted(self.recorder.exchanges.values(), key=lambda e: e.seq)


_CURRENT: contextvars.ContextVar[EpisodeScope | None] = contextvars.ContextVar("llm_episode_scope", default=None)


@contextlib.contextmanager
def episode_scope(scope: EpisodeScope) -> Iterator[EpisodeScope]:
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)
        tokens, cost = _PROCESS_SPENT.get(scope.budget.invocation, (0, 0.0))
        _PROCESS_SPENT[scope.budget.invocation] = (tokens + scope.tokens, cost + scope.cost_usd)


# Episodes run outside the runner (``harness trace`` re-running one) have no scope opened
# for them; each gets its own live one, found by the episode's random streams (one
# ``RngStreams`` object per episode, handed to every agent the driver builds for it).
_UNSCOPED: dict[int, EpisodeScope] = {}


def current_scope(rng: object) -> EpisodeScope:
    scope = _CURRENT.get()
    if scope is not None:
        return scope
    key = id(rng)
    if key not in _UNSCOPED:
        _UNSCOPED[key] = EpisodeScope()
        weakref.finalize(rng, _UNSCOPED.pop, key, None)
    return _UNSCOPED[key]


def episode_usage(rng: object) -> tuple[int, float, str | None]:
    """(tokens, cost in USD, cap reason) of the episode whose streams are ``rng``; zeros
    for an agent that called no model."""
    scope = _CURRENT.get() or _UNSCOPED.get(id(rng))
    if scope is None:
        return 0, 0.0, None
    return scope.tokens, round(scope.cost_usd, 9), scope.capped
