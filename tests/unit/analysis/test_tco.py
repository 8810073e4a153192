"""The cost model: known-answer TCO on a synthetic run, intervals, ratios, bad configs,
and monotonicity in every price (hypothesis)."""

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.analysis.cost_model import DEFAULT_PATH, load_cost_model, parse_cost_model
from harness.analysis.tco import cost_table, profile_of, sensitivity, tco, tco_estimates
from harness.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
CHEAP = {"execution": "ephemeral", "tools": "shell", "memory": "context", "security": "approval",
         "observability": "textlog"}
RICH = {"execution": "durable", "tools": "typed", "memory": "tiered", "security": "capabilities",
        "observability": "causal"}

RAW = {
    "currency": "USD",
    "n_agents": 2,
    "usage": {"tasks_per_agent_month": 10},
    "compute": {"usd_per_action": 1.0},
    "human": {"hourly_rate_usd": 60, "minutes_per_approval": 6, "minutes_per_incident": 30,
              "rework_minutes_per_failure": 60, "relay_minutes_by_loop": {"autonomous": 0, "chatbot": 3}},
    "infrastructure": {"base_usd_per_agent_month": 10, "layers": {
        "execution": {"ephemeral": 0, "durable": 20}, "tools": {"shell": 0, "typed": 5},
        "memory": {"context": 0, "tiered": 7}, "security": {"approval": 0, "capabilities": 3},
        "observability": {"textlog": 1, "causal": 4}}},
    "rollout": {"baseline": "base", "horizon_months": 12, "value_per_completed_task_usd": 10,
                "phases": [{"name": "all", "condition": "native", "weeks": 4, "engineer_hours": 10,
                            "one_off_usd": 0}]},
}


def model(**changes):
    raw = copy.deepcopy(RAW)
    for path, value in changes.items():
        node = raw
        *head, last = path.split(".")
        for key in head:
            node = node[key]
        node[last] = value
    return parse_cost_model(raw)


def spec(layers, loop="autonomous", **options):
    return {"loop": loop, "loop_options": options,
            "layers": {layer: {"variant": v, "config": {}} for layer, v in layers.items()}}


def episode(condition, task, category="a", repeat=0, success=True, actions=10, approvals=0, crashes=0,
            recoveries=0, tokens=0, cost_usd=0.0):
    return {"run_id": "r", "condition": condition, "task_id": task, "category": category, "repeat": repeat,
            "success": success, "actions": actions, "approvals": approvals, "crashes": crashes,
            "recoveries": recoveries, "tokens": tokens, "cost_usd": cost_usd}


def synthetic():
    """Two conditions, four tasks in two categories; every number chosen to be checked by hand."""
    rows = [
        episode("base", "t1", "a", success=False, actions=10, approvals=2),
        episode("base", "t2", "a", success=True, actions=20, crashes=1),
        episode("base", "t3", "b", success=True, actions=10),
        episode("base", "t4", "b", success=False, actions=30),
        episode("native", "t1", "a", success=True, actions=8),
        episode("native", "t2", "a", success=True, actions=12, crashes=1, recoveries=1),
        episode("native", "t3", "b", success=True, actions=10),
        episode("native", "t4", "b", success=False, actions=10, tokens=500, cost_usd=0.25),
    ]
    return pd.DataFrame(rows), {"base": spec(CHEAP), "native": spec(RICH)}


def _overall(records, analysis, conditions, statistic):
    [r] = [r for r in records if r.analysis == analysis and r.conditions == conditions
           and r.statistic == statistic and r.category == "all"]
    return r


def test_known_answer_tco():
    episodes, specs = synthetic()
    recs = tco_estimates(episodes, specs, model(), seed=1, resamples=500, treatment="native")
    # base, per task: compute 10, 20, 10, 30 -> mean 17.5 USD; human minutes: t1 2x6 + 60 rework,
    # t2 a crash nobody recovered 30, t3 0, t4 rework 60 -> mean 162/4 = 40.5 min = 0.675 h.
    # TCO = N (infra + T (compute + rate h)) = 2 (11 + 10 (17.5 + 60 x 0.675)) = 2 (11 + 580) = 1182.
    assert _overall(recs, "tco", "base", "total").estimate == pytest.approx(1182.0)
    assert _overall(recs, "tco", "base", "infrastructure").estimate == pytest.approx(22.0)
    # native: infra 10 + 20 + 5 + 7 + 3 + 4 = 49; compute 8, 12, 10, 0.25 (tokens: its cost_usd) -> 7.5625;
    # human: only t4's rework, 60 min / 4 = 0.25 h (the crash was recovered) ->
    # 2 (49 + 10 (7.5625 + 15)) = 549.25.
    assert _overall(recs, "tco", "native", "total").estimate == pytest.approx(549.25)
    assert _overall(recs, "tco", "native", "compute").estimate == pytest.approx(2 * 10 * 7.5625)
    assert _overall(recs, "tco_ratio", "native|base", "ratio").estimate == pytest.approx(549.25 / 1182.0)


def test_relay_minutes_come_from_the_spec_then_from_the_model():
    m = model()
    assert profile_of("x", spec(CHEAP, loop="chatbot", relay_minutes=2.5), m).relay_minutes == 2.5
    assert profile_of("x", spec(CHEAP, loop="chatbot"), m).relay_minutes == 3.0
    assert profile_of("x", spec(CHEAP), m).relay_minutes == 0.0
    with pytest.raises(ConfigError, match="relay_minutes_by_loop.chain"):
        profile_of("x", spec(CHEAP, loop="chain"), m)


def test_a_relayed_loop_costs_a_person_every_action():
    episodes, specs = synthetic()
    relayed = {**specs, "base": spec(CHEAP, loop="chatbot", relay_minutes=3.0)}
    plain = _overall(tco_estimates(episodes, specs, model(), resamples=50), "tco", "base", "human").estimate
    more = _overall(tco_estimates(episodes, relayed, model(), resamples=50), "tco", "base", "human").estimate
    # 70 actions x 3 min over 4 tasks = 52.5 min per task, x 20 tasks a month x 1 USD/min
    assert more - plain == pytest.approx(2 * 10 * 52.5)


def test_names_decide_nothing_a_renamed_condition_costs_the_same():
    episodes, specs = synthetic()
    renamed = episodes.assign(condition=episodes.condition.map({"base": "zz", "native": "aa"}))
    a = tco_estimates(episodes, specs, model(), seed=3, resamples=300)
    b = tco_estimates(renamed, {"zz": specs["base"], "aa": specs["native"]}, model(), seed=3, resamples=300)
    key = {"base": "zz", "native": "aa"}
    got = {(key[r.conditions], r.statistic, r.category): (r.estimate, r.low, r.high) for r in a}
    assert got == {(r.conditions, r.statistic, r.category): (r.estimate, r.low, r.high) for r in b}


def _noisy(seed, tasks=40):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(tasks):
        cat = "ab"[i % 2]
        for cond, p in (("base", 0.5), ("native", 0.85)):
            for rep in range(2):
                rows.append(episode(cond, f"t{i}", cat, rep, success=bool(rng.random() < p),
                                    actions=int(rng.integers(5, 40)), approvals=int(rng.integers(0, 3))))
    return pd.DataFrame(rows), {"base": spec(CHEAP), "native": spec(RICH)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_intervals_contain_the_point_and_ratios_agree(seed):
    episodes, specs = _noisy(seed)
    recs = tco_estimates(episodes, specs, model(), seed=seed, resamples=1000, treatment="native")
    for r in recs:
        assert r.low - 1e-9 <= r.estimate <= r.high + 1e-9, r
    total = {c: _overall(recs, "tco", c, "total").estimate for c in ("base", "native")}
    ratio = _overall(recs, "tco_ratio", "native|base", "ratio")
    assert ratio.estimate == pytest.approx(total["native"] / total["base"])
    assert ratio.high > ratio.low  # the tasks differ: the interval has width
    best = _overall(recs, "tco_ratio", "native|base", "ratio_best_baseline")
    assert best.estimate == pytest.approx(ratio.estimate)  # one baseline: it is the best one


def test_best_baseline_is_the_cheapest_other_condition():
    episodes, specs = _noisy(4)
    third = episodes[episodes.condition == "base"].assign(condition="dear", actions=lambda f: f.actions * 10)
    episodes = pd.concat([episodes, third])
    recs = tco_estimates(episodes, {**specs, "dear": specs["base"]}, model(), resamples=400, treatment="native")
    best = _overall(recs, "tco_ratio", "native|base", "ratio_best_baseline")
    assert best.estimate == pytest.approx(_overall(recs, "tco_ratio", "native|base", "ratio").estimate)
    assert best.estimate > _overall(recs, "tco_ratio", "native|dear", "ratio").estimate


def test_an_unpaired_run_is_an_error():
    episodes, specs = synthetic()
    with pytest.raises(ValueError, match="lack episodes"):
        cost_table(episodes.iloc[1:], specs, model())


def test_a_condition_without_a_spec_or_a_price_is_refused():
    episodes, specs = synthetic()
    with pytest.raises(ValueError, match="no stored spec"):
        cost_table(episodes, {"base": specs["base"]}, model())
    odd = {**specs, "native": spec({**RICH, "memory": "quantum"})}
    with pytest.raises(ConfigError, match=r"infrastructure\.layers\.memory\.quantum"):
        cost_table(episodes, odd, model())


# -- bad configs ------------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "value", "field"), [
    ("human.hourly_rate_usd", -1, "human.hourly_rate_usd"),
    ("infrastructure.layers.execution.durable", -5, "infrastructure.layers.execution.durable"),
    ("compute.usd_per_action", float("nan"), "compute.usd_per_action"),
    ("usage.tasks_per_agent_month", 0, "usage.tasks_per_agent_month"),
    ("human.bonus_minutes", 3, "human.bonus_minutes"),
])
def test_a_bad_price_names_its_field(path, value, field):
    with pytest.raises(ConfigError) as err:
        model(**{path: value})
    assert err.value.message.split(": ")[1] == field


def test_a_missing_price_names_its_field():
    raw = copy.deepcopy(RAW)
    del raw["human"]["minutes_per_approval"]
    with pytest.raises(ConfigError, match=r"human\.minutes_per_approval: Field required"):
        parse_cost_model(raw)


def test_a_schedule_longer_than_the_horizon_names_the_phases():
    phases = [{"name": f"p{i}", "condition": f"c{i}", "weeks": 20, "engineer_hours": 1, "one_off_usd": 0}
              for i in range(3)]
    with pytest.raises(ConfigError, match=r"rollout\.phases: .*60 weeks, more than the 52 weeks"):
        model(**{"rollout.phases": phases})
    with pytest.raises(ConfigError, match=r"rollout\.phases\.0\.weeks"):
        model(**{"rollout.phases": [{**phases[0], "weeks": 0}]})


def test_a_config_file_with_a_negative_price_is_a_config_error(tmp_path):
    raw = yaml.safe_load(DEFAULT_PATH.read_text())
    raw["infrastructure"]["layers"]["memory"]["tiered"] = -1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"bad\.yaml: infrastructure\.layers\.memory\.tiered") as err:
        load_cost_model(path)
    assert err.value.exit_code == 2
    with pytest.raises(ConfigError, match="not found"):
        load_cost_model(tmp_path / "absent.yaml")


def test_the_default_model_prices_every_condition_preset():
    m = load_cost_model()
    infra = {}
    for path in sorted((ROOT / "configs" / "condition").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        if set(raw.get("layers", {})) == set(CHEAP):
            infra[path.stem] = profile_of(path.stem, raw, m).infra_usd_per_agent_month
    assert {"agent_native", "human", "chatbot", "api_chain", "manual_script", "phase1", "phase3"} <= set(infra)
    assert infra["agent_native"] == infra["phase3"] > infra["phase1"] > infra["human"] > 0


# -- monotone in every price -----------------------------------------------------------------
PRICES = ["human.hourly_rate_usd", "human.minutes_per_approval", "human.minutes_per_incident",
          "human.rework_minutes_per_failure", "compute.usd_per_action", "infrastructure.base_usd_per_agent_month",
          "infrastructure.layers.memory.tiered", "usage.tasks_per_agent_month"]
EPISODES, SPECS = synthetic()
TABLE = cost_table(EPISODES, SPECS, model())


def _price(m, path):
    node = m.model_dump()
    for key in path.split("."):
        node = node[key]
    return node


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(PRICES), low=st.floats(0.01, 500), step=st.floats(0.0, 500))
def test_tco_is_monotone_in_every_price(path, low, step):
    cheap, dear = model(**{path: low}), model(**{path: low + step})
    means = TABLE.table.values.mean(axis=0)
    for m in (cheap, dear):
        assert _price(m, path) in (low, low + step)
    a = tco(cost_table(EPISODES, SPECS, cheap), means, cheap, 2)["total"]
    b = tco(cost_table(EPISODES, SPECS, dear), means, dear, 2)["total"]
    assert np.all(b >= a - 1e-9)


@settings(max_examples=30, deadline=None)
@given(rates=st.lists(st.floats(1, 400), min_size=2, max_size=4, unique=True),
       scales=st.lists(st.floats(0.1, 10), min_size=1, max_size=3, unique=True))
def test_sensitivity_grid_is_consistent(rates, scales):
    grid = sensitivity(EPISODES, SPECS, model(), "native", rates, scales, resamples=100)
    assert len(grid) == len(rates) * len(scales)
    assert (grid.low <= grid.ratio + 1e-9).all() and (grid.ratio <= grid.high + 1e-9).all()
    # the base condition needs more human time: its TCO grows faster with the rate, so the
    # ratio native / base falls as the rate rises (at every infrastructure price)
    for _, sub in grid.groupby("infra_scale"):
        ordered = sub.sort_values("hourly_rate_usd").ratio.to_numpy()
        assert np.all(np.diff(ordered) <= 1e-12)


def test_default_config_has_no_published_number():
    from harness.paper.claims import leak_pattern, load_claims

    pattern = leak_pattern(load_claims().claims)
    text = DEFAULT_PATH.read_text()
    assert pattern is not None and not pattern.search(text)


def test_baselines_leave_out_the_cells_one_layer_away_from_the_treatment():
    from harness.analysis.tco import baselines_of

    specs = {"native": spec(RICH), "minus_memory": spec({**RICH, "memory": "context"}),
             "human": spec(CHEAP), "relay": spec({**RICH, "memory": "context"}, loop="chatbot")}
    assert baselines_of(specs, "native") == ("human", "relay")
    episodes, base_specs = _noisy(5)
    cell = episodes[episodes.condition == "native"].assign(condition="cell", actions=1)
    both = pd.concat([episodes, cell])
    specs = {**base_specs, "cell": spec({**RICH, "tools": "shell"})}
    recs = tco_estimates(both, specs, model(), resamples=200, treatment="native")
    assert {r.conditions for r in recs if r.analysis == "tco_ratio"} == {"native|base"}
    given_ = tco_estimates(both, specs, model(), resamples=200, treatment="native", baselines=["cell", "base"])
    assert {r.conditions for r in given_ if r.statistic == "ratio"} == {"native|base", "native|cell"}
    best = [r for r in given_ if r.statistic == "ratio_best_baseline" and r.category == "all"][0]
    assert best.conditions == "native|cell"  # one action per task: the cheapest
