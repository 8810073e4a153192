"""An outside agent in its own process behaves like one in ours: same draws, same actions,
probes answered through the port; and it is refused what it may not have."""

from __future__ import annotations

import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.core.models import Brief
from harness.core.rng import AgentStreams, RngStreams
from tests.scripted import make_agent

AGENT = textwrap.dedent('''
    from harness.runtime.port import Submit, Think

    class Drawing:
        def __init__(self, n=3):
            self.n = n

        def run(self, brief, tools, rng):
            draws = [rng.uniform("agent.slip") for _ in range(self.n)]
            obs = yield Think(step=f"drew {draws}")
            yield Submit(answer={"draws": draws, "seen": obs is None})

        def answer_probe(self, question, brief, recall):
            return "|".join([question, *recall(question, 2)])

    class Greedy:
        def run(self, brief, tools, rng):
            rng.uniform("fault.crash")
            yield Submit()
''')
BRIEF = Brief(task_id="t-1", category="c", family="f", instructions="do it")


@pytest.fixture()
def agent_module(tmp_path, monkeypatch):
    (tmp_path / "drawing_agent.py").write_text(AGENT)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "drawing_agent"


def test_its_draws_are_the_harness_streams_and_come_back_to_them(agent_module):
    agent = make_agent({"name": "custom", "import_path": f"{agent_module}:Drawing", "options": {"n": 4}})
    streams = RngStreams(7, "t-1", 2)
    steps = agent.run(BRIEF, [], AgentStreams(streams))
    think = next(steps)
    submit = steps.send(None)
    steps.close()
    expected = RngStreams(7, "t-1", 2)
    draws = [expected.uniform("agent.slip") for _ in range(4)]
    assert think.step == f"drew {draws}" and submit.answer == {"draws": draws, "seen": True}
    assert streams.state() == expected.state()  # the parent's streams moved as the agent drew


def test_a_probe_is_answered_through_the_port_with_the_harness_recall(agent_module):
    agent = make_agent({"name": "custom", "import_path": f"{agent_module}:Drawing"})
    asked = []
    answer = agent.answer_probe("where?", BRIEF, lambda q, k: asked.append((q, k)) or ["m1", "m2"])
    assert answer == "where?|m1|m2" and asked == [("where?", 2)]


def test_an_abandoned_run_does_not_confuse_the_next(agent_module):
    agent = make_agent({"name": "custom", "import_path": f"{agent_module}:Drawing"})
    first = agent.run(BRIEF, [], AgentStreams(RngStreams(1, "t-1", 0)))
    next(first)  # left waiting for its observation
    second = agent.run(BRIEF, [], AgentStreams(RngStreams(1, "t-1", 0)))
    assert next(second).kind == "think"
    second.close()


def test_another_stream_than_its_own_is_the_agents_error(agent_module):
    from harness.agents.outside.host import AgentProcessError

    agent = make_agent({"name": "custom", "import_path": f"{agent_module}:Greedy"})
    with pytest.raises(AgentProcessError, match="StreamAccessError"):
        next(agent.run(BRIEF, [], AgentStreams(RngStreams(1, "t-1", 0))))


@pytest.mark.parametrize("path,message", [("nodots", "package.module:Class"), ("no_such_mod:X", "cannot import"),
                                          ("json:NoSuch", "has no attribute")])
def test_bad_import_paths_are_config_errors(path, message):
    from harness.core.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        make_agent({"name": "custom", "import_path": path})


def test_runs_on_threads_at_once_each_get_their_own_agent_process(agent_module):
    """Episodes running at once on a worker's threads (executor.concurrency) do not share
    an agent process, which serves one run at a time."""
    config = {"name": "custom", "import_path": f"{agent_module}:Drawing", "options": {"n": 2}}

    def run(seed: int):
        steps = make_agent(config).run(BRIEF, [], AgentStreams(RngStreams(seed, "t-1", 0)))
        think = next(steps)
        submit = steps.send(None)
        steps.close()
        return think.step, submit.answer["draws"]

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(run, [1, 2, 3, 1, 2, 3]))
    for seed, (think, draws) in zip([1, 2, 3, 1, 2, 3], results, strict=True):
        expected = RngStreams(seed, "t-1", 0)
        assert draws == [expected.uniform("agent.slip") for _ in range(2)] and think == f"drew {draws}"
