"""What an episode's action rows keep for the transcript (issue 20): the arguments of each
call, the observation as the agent received it (after the loop's delivery; None when a
crash kept it from the agent), the work session, and each session's brief."""

from __future__ import annotations

import json

import pytest

from harness.agents.profile import AgentProfile
from harness.agents.scope import EpisodeScope
from harness.experiment.conditions import Condition, LayerChoice
from harness.experiment.episode import brief_texts, run_episode
from tests.strategy_support import HUMAN, NATIVE, tasks

DURABLE = {**NATIVE, "execution": {"variant": "durable", "config": {"checkpoint_every": 4}}}
AGENT = {"name": "reference", "profile": AgentProfile().model_dump()}


@pytest.fixture(scope="module")
def renames():
    return tasks("code_modification/rename_symbol", difficulties=(1, 3), per_difficulty=1)


def _episode(spec, layers, faults=None, loop="autonomous"):
    cond = Condition(name="c", loop=loop, layers={k: LayerChoice(**v) for k, v in layers.items()},
                     faults=faults or {})
    told: list[str] = []
    episode, actions = run_episode("r", spec, cond, AGENT, 0, 0, scope=EpisodeScope(),
                                   observe=lambda s: told.extend(brief_texts(s)))
    return episode, actions, told


def test_structured_observations_are_canonical_json_and_args_are_the_calls(renames):
    for spec in renames:
        episode, actions, told = _episode(spec, NATIVE)
        assert actions and len(told) == 1 and spec.brief().instructions in told[0]
        for a in actions:
            assert isinstance(json.loads(a.args), dict) and a.session == 0
            shown = json.loads(a.observation)
            assert shown["ok"] == a.ok and a.observation == json.dumps(shown, sort_keys=True, separators=(",", ":"),
                                                                       ensure_ascii=False)
        again = _episode(spec, NATIVE)[1]
        assert [a.model_dump(exclude={"wall_latency_ms"}) for a in again] == \
               [a.model_dump(exclude={"wall_latency_ms"}) for a in actions]  # deterministic


def test_a_human_layer_s_text_is_kept_as_the_agent_read_it(renames):
    _, actions, _ = _episode(renames[0], HUMAN)
    assert actions and all(a.tool == "shell" and not a.observation.startswith('{"') for a in actions)
    assert all("command" in json.loads(a.args) for a in actions)


def test_the_chatbot_loop_s_text_copy_is_what_is_kept(renames):
    """Under the chatbot loop the agent gets text even from typed tools: that text is stored."""
    _, actions, _ = _episode(renames[0], NATIVE, loop="chatbot")
    assert actions and not any(a.observation.startswith('{"ok"') or a.observation.startswith('{"data"')
                               for a in actions)


def test_a_result_a_crash_kept_back_is_kept_as_re_delivered(renames):
    """Durable: the re-issued call is answered from the service's record, so the transcript
    equals the calm run's. Ephemeral: the restarted agent never gets the lost result (it
    calls again), so that action has no observation."""
    lost = 0
    for spec in renames:
        _, calm, _ = _episode(spec, DURABLE)
        _, rough, _ = _episode(spec, DURABLE, {"crash_rate": 0.3, "crash_after_effect": 1.0, "max_restarts": 1000})
        assert [(a.args, a.observation) for a in rough] == [(a.args, a.observation) for a in calm]
        ep, ephemeral, _ = _episode(spec, {**HUMAN, "execution": {"variant": "ephemeral"}},
                                    {"crash_rate": 0.2, "crash_after_effect": 1.0, "max_restarts": 1000})
        assert ep.crashes > 0 and all(a.args is not None for a in ephemeral)
        lost += sum(a.observation is None for a in ephemeral)
    assert lost > 0


def test_each_session_has_its_brief_and_its_actions_say_which():
    spec = tasks("code_modification/follow_convention", difficulties=(1,), per_difficulty=1)[0]
    assert len(spec.sessions) == 2
    _, actions, told = _episode(spec, NATIVE)
    assert len(told) == 2 and [f"Work session {k + 1} of 2." in t for k, t in enumerate(told)] == [True, True]
    assert {a.session for a in actions} == {0, 1}
    assert [a.session for a in actions] == sorted(a.session for a in actions)
