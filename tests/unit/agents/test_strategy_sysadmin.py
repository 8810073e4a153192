"""Reference-agent strategies for the system_administration families, run through the port."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.agents.reference.config_fix import _apply
from harness.agents.reference.credential_rotation import given_password
from harness.agents.reference.disk_cleanup import deletable_roots
from harness.agents.reference.toolkit_ops import config_keys
from tests.strategy_support import HUMAN, NATIVE, only, run, tasks

CONFIG, DISK = "system_administration/config_fix", "system_administration/disk_cleanup"
CREDS, ROLLOUT = "system_administration/credential_rotation", "system_administration/staged_rollout"
SINGLE = [CONFIG, DISK, ROLLOUT]
KEY = st.from_regex(r"[a-z][a-z_.]{0,10}", fullmatch=True)
VALUE = st.from_regex(r"[a-z0-9.\-]{1,8}", fullmatch=True)


def test_the_deletable_roots_are_the_permitted_ones_only():
    spec = tasks(DISK, (3,), 1)[0]
    assert deletable_roots(spec.brief().instructions) == ["/var/log/", "/var/cache/", "/tmp/"]


def test_the_new_password_is_read_from_the_planning_session_only():
    spec = next(s for s in tasks(CREDS, (3,), 2) if s.params["sessions"] == 2)
    assert given_password(spec.brief(0).instructions) == spec.params["new_secret"]
    assert given_password(spec.brief(1).instructions) is None


@given(st.dictionaries(KEY, VALUE, min_size=1, max_size=8), st.data())
def test_a_repair_changes_only_the_keys_it_names(cfg, data):
    text = "".join(f"{k}={v}\n" for k, v in cfg.items())
    key = data.draw(st.sampled_from(sorted(cfg)))
    value = data.draw(VALUE)
    fixed = config_keys(_apply(text, {key: value}))
    assert fixed == {**cfg, key: value}
    assert key not in config_keys(_apply(text, {key: None}))


@pytest.mark.parametrize("family", SINGLE)
@pytest.mark.parametrize("layers", [NATIVE, HUMAN], ids=["native", "human"])
def test_perfect_agent_solves_every_task(family, layers):
    for spec in tasks(family, per_difficulty=2):
        episode = run(spec, layers)
        assert episode.error is None and episode.success, (spec.id, episode.check_detail)


def test_perfect_agent_rotates_every_credential_with_native_layers():
    for spec in tasks(CREDS, per_difficulty=2):
        episode = run(spec, NATIVE)
        assert episode.error is None and episode.success, (spec.id, episode.check_detail)


def test_human_layers_lose_the_password_at_the_session_boundary_unless_it_was_written_down():
    specs = tasks(CREDS, per_difficulty=2)
    assert {s.params["sessions"] for s in specs} == {1, 2}
    for spec in specs:
        assert run(spec, HUMAN).success, spec.id  # the planning session's note is on the ticket
        episode = run(spec, HUMAN, only(note_lapse_rate=1.0))
        assert episode.error is None
        # single-session tasks are told the password; two-session ones need it and lose it
        assert episode.success == (spec.params["sessions"] == 1), (spec.id, episode.check_detail)


@pytest.mark.parametrize("family", [*SINGLE, CREDS])
def test_default_profile_does_no_better_with_human_tools(family):
    rates = {}
    for name, layers in (("native", NATIVE), ("human", HUMAN)):
        outcomes = [run(spec, layers, {}, repeat=r) for spec in tasks(family, (1, 2), 10) for r in range(3)]
        assert all(e.error is None for e in outcomes)
        rates[name] = sum(e.success for e in outcomes) / len(outcomes)
    assert rates["native"] >= rates["human"], rates
    assert rates["native"] > 0.5, rates
