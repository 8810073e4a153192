"""Named random streams: every draw in the harness comes from one of these.

A stream is identified by (root seed, task id, repeat, stream name). Because the identity
does not include the condition, the k-th draw of a kind is the same in every condition
(common random numbers), which is what makes paired comparisons sharp.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.core.hashing import stable_int


def stream(root_seed: int, task_id: str, repeat: int, name: str) -> np.random.Generator:
    """A fresh generator for one named stream; same arguments, same sequence, any process."""
    entropy = [int(root_seed) & 0xFFFFFFFFFFFFFFFF, stable_int(task_id), int(repeat), stable_int(name)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


@dataclass
class RngStreams:
    """The streams of one episode, created lazily by name and then reused.

    Keeping one generator per name (instead of one shared generator) means that adding a
    draw of one kind never shifts the draws of another kind.
    """

    root_seed: int
    task_id: str
    repeat: int
    _streams: dict[str, np.random.Generator] = field(default_factory=dict, repr=False)

    def get(self, name: str) -> np.random.Generator:
        if name not in self._streams:
            self._streams[name] = stream(self.root_seed, self.task_id, self.repeat, name)
        return self._streams[name]

    def uniform(self, name: str) -> float:
        return float(self.get(name).random())

    def bernoulli(self, name: str, p: float) -> bool:
        """One draw, always consumed, even when p is 0 or 1, so streams stay aligned."""
        return self.uniform(name) < p

    def state(self) -> dict[str, dict]:
        """JSON-able state of every stream created so far (for checkpoints)."""
        return {k: g.bit_generator.state for k, g in sorted(self._streams.items())}

    def restore(self, state: dict[str, dict]) -> None:
        for name, st in state.items():
            self.get(name).bit_generator.state = st

    def rewind(self, state: dict[str, dict], prefix: str) -> None:
        """Put every stream named ``prefix*`` back where ``state`` had it; streams ``state``
        does not know (created later) start over, as they had not been drawn from then."""
        for name in [n for n in self._streams if n.startswith(prefix) and n not in state]:
            del self._streams[name]
        self.restore({k: v for k, v in state.items() if k.startswith(prefix)})


AGENT_PREFIX = "agent."


class StreamAccessError(PermissionError):
    """An agent asked for a stream that is not its own (``fault.*``, ``approval.*``, ...)."""


class AgentStreams:
    """What an agent is handed: its own ``agent.*`` streams and nothing else.

    The environment's draws (faults, approvals) live in another ``RngStreams`` object the
    agent never gets a reference to, so an agent can neither read nor shift them; asking
    this view for another stream is an error (the agent's, so an ``agent_error``). The
    draws are the same as ever: a stream is identified by its name, not by its holder.
    """

    __slots__ = ("_streams",)

    def __init__(self, streams: RngStreams):
        self._streams = streams

    def get(self, name: str) -> np.random.Generator:
        if not name.startswith(AGENT_PREFIX):
            raise StreamAccessError(f"an agent draws only from its own streams ({AGENT_PREFIX}*), not {name!r}")
        return self._streams.get(name)

    def uniform(self, name: str) -> float:
        return float(self.get(name).random())

    def bernoulli(self, name: str, p: float) -> bool:
        return self.uniform(name) < p
