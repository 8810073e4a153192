"""A deterministic long-session agent and the effects it asks of a ``DiskWorld``.

Each session is a generator: it yields an action and receives that action's observation.
The next action depends on the last observation (``delta`` is a function of the value the
previous action saw), so a rebuilt agent reaches the same point only by being replayed
through the recorded observations (event sourcing), exactly as episodes resume. Its choice
of cell and of read-vs-add comes from the named stream ``soak/<session>``; replay from the
start redraws it, so no RNG state needs to be checkpointed.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.core.rng import stream
from harness.experiment.chaos.diskworld import DiskWorld

Action = dict[str, Any]
Observation = dict[str, Any]


class SoakSpec(BaseModel):
    """What one task's sessions do (public: it is all the agent is told)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int
    task: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")  # it names files and ledger keys
    sessions: int = Field(ge=1)
    actions: int = Field(ge=1)  # per session
    cells: int = Field(default=16, ge=1)
    read_share: float = Field(default=0.25, ge=0.0, le=1.0)

    def session_ids(self) -> list[str]:
        return [f"{self.task}.s{k}" for k in range(self.sessions)]


def agent(spec: SoakSpec, session: str) -> Generator[Action, Observation, None]:
    draws = stream(spec.seed, spec.task, 0, f"soak/{session}")
    # Drawn in bulk: a resume replays the whole session, and per-call draws made that
    # replay (the bulk of recovery time) several times slower.
    cells = draws.integers(spec.cells, size=spec.actions).tolist()
    reads = (draws.random(spec.actions) < spec.read_share).tolist()
    last = 0
    for i, cell in enumerate(cells):
        if reads[i]:
            action: Action = {"op": "read", "cell": cell}
        else:
            action = {"op": "add", "cell": cell, "delta": (last * 31 + i) % 97 - 48}
        observation = yield action
        last = int(observation["value"])


def perform(world: DiskWorld, session: str, seq: int, action: Action) -> Observation:
    """Apply one action to the world; ``add`` is the (non-idempotent) effect."""
    if action["op"] == "add":
        return {"value": world.add(session, seq, action["cell"], action["delta"])}
    return {"value": world.read(action["cell"])}


def reconcile(world: DiskWorld, session: str, seq: int, action: Action) -> Observation | None:
    """The observation of an interrupted action if the world shows it happened, else None.
    A read has no effect to find, so it is simply performed again."""
    if action["op"] != "add":
        return None
    value = world.value_after(session, seq)
    return None if value is None else {"value": value}


def run_reference(spec: SoakSpec, root: str | Path) -> str:
    """The fault-free run, in process and without any execution layer: the final world
    digest a chaos run must reproduce (an oracle independent of checkpoints and intents)."""
    world = DiskWorld(root, fsync=False)
    try:
        for session in spec.session_ids():
            steps = agent(spec, session)
            seq, obs = 0, None
            try:
                action = next(steps)
                while True:
                    obs = perform(world, session, seq, action)
                    seq += 1
                    action = steps.send(obs)
            except StopIteration:
                pass
        return world.digest()
    finally:
        world.close()
