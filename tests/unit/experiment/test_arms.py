"""Arms: conditions crossed with agent profiles or world settings, as data on the condition."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core.errors import ConfigError
from harness.experiment.arms import Arm, ArmsSpec, arm_of, cross, level_name
from harness.experiment.conditions import load_condition
from harness.experiment.config import build_run_config, config_dir
from harness.workload.spec import with_budget_scale

AGENT = {"name": "reference", "profile": {"slip_rate": 0.05, "error_scale": 1.0}}


@pytest.fixture(scope="module")
def presets():
    return [load_condition(config_dir(), "agent_native"), load_condition(config_dir(), "human")]


def test_skill_levels_and_processes_become_named_arms():
    spec = ArmsSpec(skill_levels=[0, 0.25, 4], processes_off=["misread_rate", "context_capacity"],
                    process_conditions=["human"])
    arms = {a.name: a for a in spec.arms()}
    assert list(arms) == ["s0", "s0.25", "s4", "no_misread", "no_context_capacity"]
    assert arms["s0.25"].set == {"agent.profile.error_scale": 0.25}
    assert arms["no_misread"].set == {"agent.profile.misread_rate": 0.0}
    assert arms["no_context_capacity"].set["agent.profile.context_capacity"] >= 10**9
    assert arms["no_misread"].conditions == ["human"] and arms["s0"].conditions is None


@pytest.mark.parametrize("bad, words", [
    ({"skill_levels": [-0.5, 1]}, "error_scale >= 0"),
    ({"skill_levels": [1, 1]}, "twice"),
    ({"processes_off": ["typo_rate"]}, "unknown error process"),
    ({}, "no arm"),
    ({"custom": [{"name": "a@b"}]}, "may not contain"),
    ({"settings": [{"name": "x", "set": {"faults.crash_rate": [0.1]}, "source": "none"}]}, "[low, high]"),
])
def test_a_bad_arms_spec_is_refused_with_its_reason(bad, words):
    with pytest.raises(ValueError, match=None) as err:
        ArmsSpec(**bad)
    assert words in str(err.value)


def test_crossing_sets_the_arm_as_data_and_names_it_condition_at_arm(presets):
    spec = ArmsSpec(custom=[Arm(name="slow", set={"layers.security.config.latency_median_minutes": 240.0,
                                                  "faults.crash_rate": 0.03, "budget.actions": 2,
                                                  "agent.profile.slip_rate": 0.2})])
    native, human = cross(presets, spec, AGENT)
    assert (native.name, human.name) == ("agent_native@slow", "human@slow")
    assert arm_of(human.name) == ("human", "slow") and arm_of("human") == ("human", None)
    assert human.layers["security"].config["latency_median_minutes"] == 240.0
    # moved where a preset states it, never added where it does not (capabilities has no approver)
    assert "latency_median_minutes" not in native.layers["security"].config
    for c in (native, human):
        assert c.faults["crash_rate"] == 0.03 and c.budget_scale == {"actions": 2.0}
        assert c.agent_profile == {"slip_rate": 0.2}
    # the rest of the preset is untouched
    assert human.layers["tools"] == presets[1].layers["tools"] and human.loop == presets[1].loop


def test_an_arm_limited_to_some_conditions_crosses_only_those(presets):
    spec = ArmsSpec(skill_levels=[1], processes_off=["slip_rate"], process_conditions=["human"])
    names = [c.name for c in cross(presets, spec, AGENT)]
    assert names == ["agent_native@s1", "human@s1", "human@no_slip"]
    with pytest.raises(ConfigError, match="not in this run"):
        cross(presets, ArmsSpec(processes_off=["slip_rate"], process_conditions=["nope"]), AGENT)


@pytest.mark.parametrize("setting, words", [
    ({"layers.tools.config.nope": 1}, "stated by none"),
    ({"foo.bar": 1}, "unknown setting path"),
    ({"faults.crash_rate": 2}, "faults.crash_rate"),
    ({"budget.actions": 0}, "factor > 0"),
    ({"agent.profile.error_scale": -1}, "agent.profile.error_scale"),
])
def test_a_bad_setting_fails_before_anything_runs(presets, setting, words):
    with pytest.raises(ConfigError) as err:
        cross(presets, ArmsSpec(custom=[Arm(name="x", set=setting)]), AGENT)
    assert words in err.value.message


def test_profile_keys_need_an_agent_with_a_profile(presets):
    with pytest.raises(ConfigError, match="has no profile"):
        cross(presets, ArmsSpec(skill_levels=[0]), {"name": "mock"})


def test_a_preset_without_arms_stores_what_it_stored_before(presets):
    dumped = presets[1].model_dump(mode="json")
    assert "agent_profile" not in dumped and "budget_scale" not in dumped
    assert "arms" not in build_run_config(["experiment=smoke"]).result_relevant()


def test_the_skill_study_crosses_every_cell_with_every_level_and_two_cells_with_each_process():
    cfg = build_run_config(["experiment=skill_study"])
    names = [c.name for c in cfg.conditions]
    assert len(names) == 8 * 6 + 2 * 5 and len(set(names)) == len(names)
    assert cfg.comparison() == ("ctx1-agy1-obs1@s1", "ctx0-agy0-obs0@s1")
    by_name = {c.name: c for c in cfg.conditions}
    assert by_name["ctx0-agy0-obs0@s0"].agent_profile == {"error_scale": 0.0}
    assert by_name["ctx1-agy1-obs1@no_misread"].agent_profile == {"misread_rate": 0.0}


@given(st.floats(min_value=0.05, max_value=10), st.floats(min_value=0.05, max_value=10))
def test_budget_scaling_multiplies_both_budgets_and_keeps_the_task(actions, minutes):
    spec = _one_task()
    scaled = with_budget_scale(spec, {"actions": actions, "minutes": minutes})
    assert scaled.budget.max_actions == max(1, round(spec.budget.max_actions * actions))
    assert scaled.budget.max_minutes == pytest.approx(spec.budget.max_minutes * minutes)
    assert scaled.id == spec.id and scaled.params == spec.params
    assert with_budget_scale(spec, {}) is spec


_TASK = []


def _one_task():
    if not _TASK:
        from harness.workload.workloads import build_workload  # noqa: PLC0415 - slow import, one test
        cfg = build_run_config(["experiment=smoke", "workload.limit=1"])
        _TASK.append(build_workload(cfg.workload, base_dir=config_dir().parent)[0])
    return _TASK[0]


def test_level_names_are_short():
    assert [level_name(x) for x in (0, 0.25, 1.0, 4)] == ["s0", "s0.25", "s1", "s4"]
