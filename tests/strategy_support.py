"""Running the reference agent on a family's tasks under chosen layers, for strategy tests.

Layer sets named by what they are, never by a condition: a test says which variants it
means. ``NATIVE`` and ``HUMAN`` mirror the two ends of the gap without the execution layer.
"""

from __future__ import annotations

from harness.agents.profile import AgentProfile
from harness.agents.scope import EpisodeScope
from harness.core.models import EpisodeRecord
from harness.experiment.conditions import Condition, LayerChoice
from harness.experiment.episode import run_episode
from harness.workload.spec import TaskSpec
from harness.workload.workloads import WorkloadConfig, build_workload

TYPED = {"tools": {"variant": "typed"}}
SHELL = {"tools": {"variant": "shell"}}
NATIVE = {"tools": {"variant": "typed"}, "memory": {"variant": "tiered", "config": {"embedder": "hashing"}},
          "security": {"variant": "ambient"}, "observability": {"variant": "causal"}}
HUMAN = {"tools": {"variant": "shell"}, "memory": {"variant": "context"},
         "security": {"variant": "ambient"}, "observability": {"variant": "textlog"}}
PERFECT = AgentProfile.perfect().model_dump()


def only(**rates) -> dict:
    """A profile making only the named errors (every other rate 0, working context
    unbounded): ``only(slip_rate=1.0)`` slips at every decision and errs in no other way."""
    from harness.agents.profile import RATES, UNBOUNDED

    return AgentProfile(**{**{r: 0.0 for r in RATES}, "context_capacity": UNBOUNDED, **rates}).model_dump()


def tasks(family: str, difficulties=(1, 2, 3, 4, 5), per_difficulty: int = 2, seed: int = 7) -> list[TaskSpec]:
    count = len(difficulties) * per_difficulty
    cfg = WorkloadConfig(name="t", seed=seed, families=[{"family": family, "count": count,
                                                         "difficulties": list(difficulties)}])
    return build_workload(cfg)


def run(spec: TaskSpec, layers: dict, profile: dict | None = None, seed: int = 0, repeat: int = 0) -> EpisodeRecord:
    condition = Condition(name="test", layers={k: LayerChoice(**v) for k, v in layers.items()})
    agent = {"name": "reference", "profile": PERFECT if profile is None else profile}
    episode, _ = run_episode("test-run", spec, condition, agent, seed, repeat, scope=EpisodeScope())
    return episode
