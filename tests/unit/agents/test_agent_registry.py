"""Agents and strategies on the plug-in registry: names, options checked once with the key
named, strategies found by a folder scan, and one explicit scope per episode."""

from __future__ import annotations

import pickle
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from harness.agents.registry import AGENTS, AgentSpec, build_agent, code_trusted, validate_agent
from harness.agents.scope import EpisodeScope, RunBudget, Spending
from harness.core.errors import ConfigError
from harness.core.registry import Entry, NoOptions, PluginError
from harness.experiment.conditions import Condition, LayerChoice
from harness.experiment.episode import run_episode
from harness.workload.workloads import WorkloadConfig, build_workload

CONFIGS = Path(__file__).resolve().parents[3] / "configs"
MOCK = {"name": "mock", "model": "mock", "script": "default", "price": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}}
TYPED = Condition(name="typed", layers={"tools": LayerChoice(variant="typed")})


@pytest.fixture(scope="module")
def rename_spec():
    return build_workload(WorkloadConfig(name="t", families=[{"family": "code_modification/rename_symbol",
                                                              "count": 1, "difficulties": [1]}]))[0]


def test_every_configured_agent_is_registered_and_its_config_validates():
    for path in sorted((CONFIGS / "agent").glob("*.yaml")):
        config = yaml.safe_load(path.read_text())
        config.pop("defaults", None)
        if path.stem == "mock":  # its defaults list puts llm.yaml under it
            config = {**yaml.safe_load((CONFIGS / "agent" / "llm.yaml").read_text()), **config}
        if path.stem == "custom":
            config["import_path"] = "json:JSONDecoder"  # the shipped config leaves it to the user
        name, options = validate_agent(config)
        assert name == path.stem and name in AGENTS.names()
        assert options.model_config.get("extra") == "forbid" and options.model_config.get("frozen")


def test_a_name_registered_twice_is_refused():
    with pytest.raises(PluginError, match="registered twice"):
        AGENTS.register("reference")(lambda options, **context: None)
    assert "reference" in AGENTS  # the first registration stands


@pytest.mark.parametrize("config,key", [
    ({"name": "reference", "profile": {"error_scale": -1}}, "agent.profile.error_scale"),
    ({"name": "reference", "profile": {"slip_rte": 0.1}}, "agent.profile.slip_rte"),
    ({"name": "reference", "temperature": 0.5}, "agent.temperature"),
    ({"name": "llm", "max_tokens": 0}, "agent.max_tokens"),
    ({"name": "custom", "import_path": "json:JSONDecoder", "limits": {"memory_mb": 1}}, "agent.limits.memory_mb"),
    ({"name": "no-such-agent"}, "agent.name"),
    ({"name": 7}, "agent.name"),
])
def test_a_bad_agent_option_is_a_config_error_naming_the_key(config, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate_agent(config)


def test_options_are_parsed_once_and_passed_on_as_they_are():
    spec = validate_agent({"name": "reference", "profile": {"error_scale": 0.5}})
    assert validate_agent(spec) is spec
    assert AGENTS.options(spec.name, spec.options) is spec.options
    assert build_agent(spec, EpisodeScope()).profile is spec.options.profile
    assert validate_agent({}).name == "reference"  # no name: the reference agent


def test_trust_is_registration_metadata():
    assert code_trusted({"name": "reference"}) and code_trusted(validate_agent({"name": "reference"}))
    assert not code_trusted({"name": "mock"}) and not code_trusted({"name": "custom"})
    with pytest.raises(ConfigError, match="agent.name"):
        code_trusted({"name": "no-such-agent"})


def test_every_w500_and_s12_family_has_a_strategy():
    from harness.agents.reference.strategies import STRATEGIES

    for workload in ("w500", "s12"):
        listed = yaml.safe_load((CONFIGS / "workload" / f"{workload}.yaml").read_text())["families"]
        families = {f["family"] for f in listed}
        assert families and families <= set(STRATEGIES.names()), (workload, families - set(STRATEGIES.names()))


def test_each_strategy_module_is_named_after_its_family():
    from harness.agents.reference.strategies import STRATEGIES

    for entry in STRATEGIES.entries():
        assert entry.factory.__module__ == f"harness.agents.reference.{entry.name.split('/')[1]}", entry.name


@pytest.mark.parametrize("crash_rate", [0.0, 1.0], ids=["calm", "crashing"])
def test_every_agent_built_for_an_episode_gets_its_scope(substitute, crash_rate):
    """Per session, per probe and per crash recovery: one scope, the one given."""
    from harness.runtime.port import Call, Submit

    seen = []

    class Looking:
        def run(self, brief, tools, rng):
            yield Call(tool="list_files", args={})
            yield Submit()

    def make(options, *, scope):
        seen.append(scope)
        return Looking()

    substitute(AGENTS, Entry("scope-seer", make, NoOptions))
    tasks = build_workload(WorkloadConfig(name="m", families=[{"family": "code_modification/follow_convention",
                                                               "count": 6, "difficulties": [3]}]))
    multi = next(t for t in tasks if len(t.sessions) > 1)
    condition = TYPED.model_copy(update={"faults": {"crash_rate": crash_rate, "max_restarts": 2}})
    scope = EpisodeScope()
    episode, _ = run_episode("r", multi, condition, {"name": "scope-seer"}, 0, 0, scope=scope)
    assert episode.error is None
    if crash_rate:  # a probe agent, a working agent, and one more per restart
        assert episode.crashes > 1 and len(seen) > 2
    else:  # a probe agent and a working agent per session
        assert len(seen) == 2 * len(multi.sessions)
    assert all(s is scope for s in seen)


def test_two_episodes_with_separate_scopes_do_not_share_usage(rename_spec):
    first, second = EpisodeScope(), EpisodeScope()
    a, _ = run_episode("r", rename_spec, TYPED, MOCK, 0, 0, scope=first)
    tokens_after_first = first.tokens
    b, _ = run_episode("r", rename_spec, TYPED, MOCK, 0, 0, scope=second)
    assert a.tokens > 0 and a.tokens == first.tokens == tokens_after_first
    assert b.tokens == second.tokens == a.tokens  # the same episode again: its own count, from zero
    assert (a.cost_usd, b.cost_usd) == (first.usage()[1], second.usage()[1])
    assert len(first.exchanges()) == len(second.exchanges()) > 0


def test_a_shared_spending_carries_earlier_episodes_into_the_cap(rename_spec):
    spending = Spending()
    budget = RunBudget(max_tokens=1)
    scope = EpisodeScope(budget=budget, spending=spending)
    assert scope.cap_reached() is None
    episode, _ = run_episode("r", rename_spec, TYPED, MOCK, 0, 0, scope=scope)
    assert episode.termination == "budget_cap" and episode.tokens > 0
    assert spending.totals() == (episode.tokens, scope.cost_usd)  # charged as the answers came
    assert "token cap" in EpisodeScope(budget=budget, spending=spending).cap_reached()
    assert EpisodeScope(budget=budget).cap_reached() is None  # another invocation's: nothing spent yet


def test_a_spending_shared_by_threads_loses_no_charge_and_travels_with_a_lock_of_its_own():
    spending = Spending()

    def charge_many(_: int) -> None:
        for _ in range(500):
            spending.charge(_Yielding(3), 0.5)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(charge_many, range(8)))
    assert spending.totals() == (8 * 500 * 3, 8 * 500 * 0.5)
    copy = pickle.loads(pickle.dumps(spending))  # as sent to a worker process
    assert copy.totals() == spending.totals() and copy._lock is not spending._lock


class _Yielding(int):
    """An amount whose addition lets another thread run mid-update (an unlocked ``+=``
    then loses charges)."""

    def __radd__(self, other: int) -> int:
        time.sleep(0)
        return int(other) + int(self)


def test_episodes_on_threads_see_each_other_s_spending_at_their_next_request(rename_spec):
    spending = Spending()
    first = EpisodeScope(spending=spending)
    run_episode("r", rename_spec, TYPED, MOCK, 0, 0, scope=first)  # as if still running on another thread
    budget = RunBudget(max_tokens=first.tokens + 1)
    second = EpisodeScope(budget=budget, spending=spending)
    assert second.cap_reached() is None
    episode, _ = run_episode("r", rename_spec, TYPED, MOCK, 0, 1, scope=second)
    assert episode.termination == "budget_cap" and 0 < episode.tokens < first.tokens


def test_an_agent_spec_is_a_name_and_options():
    name, options = validate_agent({"name": "mock", "script": "default"})
    assert isinstance(validate_agent({"name": "mock"}), AgentSpec)
    assert name == "mock" and options.name == "mock" and options.script == "default"
    with pytest.raises(ConfigError, match="no mock script"):
        validate_agent({"name": "mock", "script": "no-such-script"})
