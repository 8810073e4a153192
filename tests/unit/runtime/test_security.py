"""The security layer: patterns, capabilities, delegation, the policy compiler, approval,
ambient, and the registry."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.core.errors import ConfigError
from harness.core.rng import RngStreams
from harness.runtime.security import (
    SECURITY_LAYERS,
    CapabilitySet,
    DelegationError,
    Denial,
    PolicyError,
    SecurityLayer,
    compile_policy,
)
from harness.runtime.security import patterns as P
from harness.runtime.security.base import SnapshotError
from harness.runtime.security.bench import bench_security
from harness.runtime.security.policy import DOCS, VERBS, docs, parse, sentences


# -- patterns -------------------------------------------------------------------------------
@pytest.mark.parametrize("pattern,resource,expected", [
    ("file:src/**", "file:src/a/b/c.py", True),
    ("file:src/**", "file:src/", True),
    ("file:src/**", "file:srcx/a.py", False),
    ("file:src/**", "service:src/a", False),
    ("file:src/*", "file:src/a.py", True),
    ("file:src/*", "file:src/a/b.py", False),  # * stays inside one segment
    ("file:src/**/*.py", "file:src/a.py", True),  # **/ may be zero segments
    ("file:src/**/*.py", "file:src/x/y/a.py", True),
    ("file:src/**/*.py", "file:src/x/a.txt", False),
    ("file:src/?.py", "file:src/a.py", True),
    ("file:src/?.py", "file:src/ab.py", False),
    ("file:src/?.py", "file:src//.py", False),
    ("service:prod/*", "service:prod/api", True),
    ("service:prod/*", "service:staging/api", False),
    ("table:orders", "table:orders", True),
    ("table:orders", "table:orders2", False),
    ("host:db-1:/var/log/**", "host:db-1:/var/log/syslog", True),
    ("host:db-1:/var/log/**", "host:db-2:/var/log/syslog", False),
    ("*:**", "table:anything/at/all", True),
    ("file:a[1].py", "file:a[1].py", True),  # no character classes: brackets are literal
])
def test_pattern_matching(pattern, resource, expected):
    assert P.matches(pattern, resource) is expected


@pytest.mark.parametrize("parent,child,expected", [
    ("file:src/**", "file:src/a/*.py", True),
    ("file:src/**", "file:src/**/*.py", True),
    ("file:src/*", "file:src/?.py", True),
    ("file:src/*", "file:src/**", False),
    ("file:src/**/*.py", "file:src/*.py", True),
    ("file:src/*.py", "file:src/**/*.py", False),
    ("file:src/**", "file:**", False),
    ("file:**", "file:src/**", True),
    ("*:**", "table:orders", True),
    ("table:*", "*:orders", False),
    ("file:src/**", "service:src/**", False),
    ("service:*", "service:prod/*", False),
    ("file:a*", "file:ab*", True),
    ("file:*b", "file:a*b", True),
    ("file:a*b", "file:*b", False),
])
def test_pattern_containment(parent, child, expected):
    assert P.contains(parent, child) is expected


def test_malformed_pattern_is_refused():
    with pytest.raises(P.PatternError):
        P.split("no-type-here")
    with pytest.raises(P.PatternError):
        P.split("bad type:x")


# -- capability sets ----------------------------------------------------------------------
def test_authorize_allows_only_what_is_granted_and_names_the_capability():
    caps = CapabilitySet()
    cap = caps.grant("file:src/**", ["read"])
    d = caps.authorize("file:src/a.py", "read", 0.0)
    assert d.allowed and d.capability_id == cap.id and d.code == "allowed"
    for resource, action in [("file:src/a.py", "write"), ("file:docs/a.md", "read"), ("table:src", "read")]:
        d = caps.authorize(resource, action, 0.0)
        assert not d.allowed and d.code == "no_capability" and d.capability_id is None


def test_bad_resource_is_a_denial_not_an_exception():
    caps = CapabilitySet()
    caps.grant("*:**", ["read"])
    d = caps.authorize("no colon", "read", 0.0)
    assert not d.allowed and d.code == "bad_resource"


def test_deny_rules_win_over_grants():
    caps = CapabilitySet()
    caps.grant("service:**", ["restart"])
    caps.deny(Denial(resource="service:production/*", actions=frozenset({"restart"})))
    assert caps.authorize("service:staging/api", "restart", 0).allowed
    d = caps.authorize("service:production/api", "restart", 0)
    assert not d.allowed and d.code == "denied_by_rule"


def test_expiry_is_exclusive_and_uses_are_consumed():
    caps = CapabilitySet()
    caps.grant("table:orders", ["query"], expiry=10.0, uses=2)
    assert caps.authorize("table:orders", "query", 9.99).allowed
    assert caps.authorize("table:orders", "query", 5.0).allowed
    assert caps.authorize("table:orders", "query", 5.0).code == "exhausted"
    caps2 = CapabilitySet()
    caps2.grant("table:orders", ["query"], expiry=10.0)
    assert caps2.authorize("table:orders", "query", 10.0).code == "expired"


def test_unlimited_capability_is_preferred_over_a_limited_one():
    caps = CapabilitySet()
    limited = caps.grant("table:orders", ["query"], uses=1)
    free = caps.grant("table:*", ["query"])
    for _ in range(3):
        assert caps.authorize("table:orders", "query", 0).capability_id == free.id
    assert caps.uses_left(limited.id) == 1


def test_derive_narrows_and_child_uses_count_against_the_parent():
    caps = CapabilitySet()
    root = caps.grant("file:src/**", ["read", "write"], expiry=100.0, uses=3)
    child = caps.derive(root.id, "file:src/app/*.py", ["write"], uses=2)
    assert child.depth == 1 and child.parent == root.id and child.expiry == 100.0
    assert caps.authorize("file:src/app/x.py", "write", 0).capability_id in (root.id, child.id)
    assert caps.authorize("file:src/app/x.py", "write", 0).allowed
    assert caps.authorize("file:src/app/x.py", "write", 0).allowed
    # three uses of the root in total, however they were split between root and child
    assert not caps.authorize("file:src/app/x.py", "write", 0).allowed
    assert not caps.authorize("file:src/b.py", "read", 0).allowed


@pytest.mark.parametrize("kwargs,code", [
    ({"resource": "file:**", "actions": ["read"]}, "resource_not_contained"),
    ({"resource": "service:src/**", "actions": ["read"]}, "resource_not_contained"),
    ({"resource": "file:src/a", "actions": ["delete"]}, "actions_not_subset"),
    ({"resource": "file:src/a", "actions": []}, "actions_not_subset"),
    ({"resource": "file:src/a", "actions": ["read"], "expiry": 51.0}, "expiry_exceeds_parent"),
    ({"resource": "file:src/a", "actions": ["read"], "uses": 6}, "uses_exceed_parent"),
    ({"resource": "nonsense", "actions": ["read"]}, "bad_pattern"),
])
def test_derive_refuses_anything_not_narrower(kwargs, code):
    caps = CapabilitySet()
    root = caps.grant("file:src/**", ["read", "write"], expiry=50.0, uses=5)
    with pytest.raises(DelegationError) as e:
        caps.derive(root.id, **kwargs)
    assert e.value.code == code and e.value.to_dict()["code"] == code
    assert len(caps.caps) == 1  # nothing added


def test_derive_depth_limit_and_dead_parents():
    caps = CapabilitySet(max_depth=2)
    a = caps.grant("file:**", ["read"], expiry=10.0)
    b = caps.derive(a.id, "file:src/**", ["read"])
    c = caps.derive(b.id, "file:src/x/**", ["read"])
    with pytest.raises(DelegationError, match="depth_limit"):
        caps.derive(c.id, "file:src/x/y", ["read"])
    with pytest.raises(DelegationError, match="parent_expired"):
        caps.derive(a.id, "file:z", ["read"], now=10.0)
    caps.revoke(b.id)
    with pytest.raises(DelegationError, match="parent_revoked"):
        caps.derive(c.id, "file:src/x/y", ["read"])
    with pytest.raises(DelegationError, match="unknown_parent"):
        caps.derive("cap-999", "file:src/x/y", ["read"])


def test_revocation_cascades_to_the_whole_subtree_only():
    caps = CapabilitySet()
    root = caps.grant("file:**", ["read", "write"])
    a = caps.derive(root.id, "file:a/**", ["read", "write"])
    a1 = caps.derive(a.id, "file:a/1/**", ["read"])
    a2 = caps.derive(a1.id, "file:a/1/x", ["read"])
    b = caps.derive(root.id, "file:b/**", ["read"])
    revoked = caps.revoke(a.id)
    assert set(revoked) == {a.id, a1.id, a2.id}
    for cid in (a.id, a1.id, a2.id):
        assert caps.status(cid, 0) == "revoked"
        assert not caps.permits(cid, "file:a/1/x", "read", 0)
    assert caps.permits(b.id, "file:b/q", "read", 0)
    assert caps.authorize("file:a/1/x", "read", 0).capability_id == root.id  # root untouched
    caps.revoke(root.id)
    d = caps.authorize("file:b/q", "read", 0)
    assert not d.allowed and d.code == "revoked"
    with pytest.raises(DelegationError, match="unknown_capability"):
        caps.revoke("cap-404")


def test_capability_set_round_trips_through_json():
    caps = CapabilitySet(max_depth=4)
    root = caps.grant("file:src/**", ["read", "write"], uses=5)
    caps.derive(root.id, "file:src/a/**", ["read"], uses=2)
    caps.deny(Denial(resource="file:src/secret/**", actions=frozenset({"read"}), source="s1"))
    caps.authorize("file:src/a/x", "read", 0)
    caps.revoke("cap-2")
    text = json.dumps(caps.to_dict(), sort_keys=True)
    again = CapabilitySet.from_dict(json.loads(text))
    assert json.dumps(again.to_dict(), sort_keys=True) == text
    assert again.grant("table:t", ["query"]).id == "cap-3"  # id counter restored
    for r, a in [("file:src/a/x", "read"), ("file:src/secret/k", "read"), ("file:src/b", "write")]:
        assert again.authorize(r, a, 0) == caps.authorize(r, a, 0)


# -- policy compiler ------------------------------------------------------------------------
@pytest.mark.parametrize("sentence,resources,actions", [
    ("may read files under src/", ["file:src/**"], ("read",)),
    ("may write files matching *.py under src/", ["file:src/**/*.py"], ("write",)),
    ("may read files matching *.md", ["file:**/*.md"], ("read",)),
    ("may read and write files under src/ and tests/", ["file:src/**", "file:tests/**"], ("read", "write")),
    ("may read the file src/app.py", ["file:src/app.py"], ("read",)),
    ("may read files under /var/log/ on host db-1", ["host:db-1:/var/log/**"], ("read",)),
    ("may restart services in staging", ["service:staging/*"], ("restart",)),
    ("may restart, stop or start services api and web", ["service:api", "service:web"],
     ("restart", "stop", "start")),
    ("may deploy service prod/api", ["service:prod/api"], ("deploy",)),
    ("may query tables orders and customers", ["table:orders", "table:customers"], ("query",)),
    ("may query tables orders, customers, and items", ["table:orders", "table:customers", "table:items"],
     ("query",)),
    ("may query any table", ["table:*"], ("query",)),
    ("may read logs of any service", ["log:**"], ("read",)),
    ("may read logs of services in prod", ["log:prod/*"], ("read",)),
    ("may execute commands matching pytest*", ["command:pytest*"], ("execute",)),
    ("MAY READ anything", ["*:**"], ("read",)),
])
def test_policy_sentences_compile_to_documented_resources(sentence, resources, actions):
    (rule,) = parse(sentence)
    assert rule.allow and rule.resources == resources and rule.actions == actions
    caps = compile_policy(sentence)
    assert sorted(c.resource for c in caps.caps.values()) == sorted(resources)
    assert all(c.actions == frozenset(actions) for c in caps.caps.values())


def test_policy_deny_wins_whatever_the_order():
    allow, deny = "may restart services in production", "may not restart services in production"
    for policy in ([allow, deny], [deny, allow]):
        d = compile_policy(policy).authorize("service:production/api", "restart", 0)
        assert not d.allowed and d.code == "denied_by_rule" and "may not restart" in d.reason


def test_policy_limits_inline_and_as_their_own_sentence():
    caps = compile_policy("may restart services in staging for 30 minutes at most 2 times", now=100.0)
    (cap,) = caps.caps.values()
    assert cap.expiry == 130.0 and cap.uses == 2
    caps = compile_policy("may query table orders. at most 5 times. For 2 hours.")
    (cap,) = caps.caps.values()
    assert cap.expiry == 120.0 and cap.uses == 5


def test_sentence_splitting_keeps_dots_inside_paths():
    assert sentences("may write files matching *.py under src/. may read the file a.py.\n# note\n"
                     "may query table t; may read files") == [
        "may write files matching *.py under src/", "may read the file a.py", "may query table t",
        "may read files"]


@pytest.mark.parametrize("policy,index,expected_fragment", [
    ("may fly to the moon", 1, "a verb"),
    ("may read files under src/. may read moons", 2, "a target"),
    ("may read the moon", 1, "'file'"),
    ("may read files under src/. read files under src/", 2, "'may'"),
    ("may read", 1, "a target"),
    ("may read files under", 1, "a directory"),
    ("may read files under src/ quickly", 1, "'for N minutes'"),
    ("may read files for ever", 1, "number of minutes"),
    ("may read files for 10 fortnights", 1, "'minute'"),
    ("may read files at most 2.5 times", 1, "whole number"),
    ("may read files at most 2 times at most 3 times", 1, "'for N minutes'"),
    ("may not restart services in prod for 10 minutes", 1, "no limits on a 'may not' rule"),
    ("at most 3 times", 1, "a 'may' sentence before"),
    ("may not read files. for 3 minutes", 2, "a 'may' sentence before"),
    ("may read files for 3 minutes. for 5 minutes", 2, "limits the previous rule"),
    ("may query tables", 1, "a table name"),
])
def test_policy_errors_name_the_sentence_and_what_was_expected(policy, index, expected_fragment):
    with pytest.raises(PolicyError) as e:
        compile_policy(policy)
    err = e.value
    assert isinstance(err, ConfigError)
    assert err.index == index and err.sentence == sentences(policy)[index - 1]
    assert expected_fragment in err.expected
    assert f"policy sentence {index} " in str(err) and err.sentence in str(err)


def test_policy_language_is_documented():
    assert docs == DOCS and "may not" in DOCS and "at most" in DOCS and "services in" in DOCS
    assert all(v in DOCS for v in VERBS)


def test_empty_policy_grants_nothing():
    assert not compile_policy([]).authorize("file:a", "read", 0).allowed


# -- approval -------------------------------------------------------------------------------
POLICY = ("may read, query and execute anything", "may write, restart and deploy any service",
          "may delete files under tmp/", "may not delete files under data/")


def approval(rng_seed: int = 7, policy=POLICY, **config):
    return SECURITY_LAYERS.build("approval", config, rng=RngStreams(rng_seed, "task", 0), policy=policy)


def test_approval_config_is_checked():
    with pytest.raises(ConfigError, match="RngStreams"):
        SECURITY_LAYERS.build("approval", {})
    with pytest.raises(ConfigError, match="latency: Extra inputs are not permitted"):
        approval(latency=3)
    with pytest.raises(ConfigError, match="probability"):
        approval(availability=1.5)
    with pytest.raises(ConfigError, match="availability 0"):
        approval(availability=0.0)
    with pytest.raises(ConfigError, match="latency_median"):
        approval(latency_median_minutes=100, latency_p90_minutes=50)
    with pytest.raises(ConfigError, match="working_hours"):
        approval(working_hours=[18, 9])


def test_unprivileged_actions_pass_at_once_without_drawing():
    layer = approval()
    d = layer.authorize("read", "file:a", 0.0)
    assert d.allowed and d.code == "not_privileged" and d.waited_minutes == 0.0
    assert layer.rng.state() == {}  # no stream was touched


def test_timeout_denies_after_the_timeout():
    d = approval(timeout_probability=1.0, timeout_minutes=120).authorize("delete", "file:tmp/a", 0.0)
    assert not d.allowed and d.code == "approval_timeout" and d.waited_minutes == 120.0


CAREFUL = {"timeout_probability": 0.0, "rubber_stamp_probability": 0.0, "false_refusal_probability": 0.0}


def test_the_approver_approves_what_the_policy_sanctions_and_refuses_what_it_does_not():
    # The same verb both ways: deleting under tmp/ is the task's work, under data/ it is not.
    layer = approval(**CAREFUL)
    refused = layer.authorize("delete", "file:data/db.sqlite", 0.0)
    assert not refused.allowed and refused.code == "approval_denied" and refused.waited_minutes > 0
    assert "policy does not allow delete on file:data/db.sqlite" in refused.reason
    ok = layer.authorize("delete", "file:tmp/cache.bin", refused.waited_minutes)
    assert ok.allowed and ok.code == "approved" and ok.waited_minutes > 0 and not ok.approver_rubber_stamped


def test_the_label_never_decides_only_the_policy_does():
    for unsafe in (False, True):
        layer = approval(**CAREFUL)
        assert layer.authorize("delete", "file:tmp/a", 0.0, unsafe=unsafe).allowed
        assert not layer.authorize("delete", "file:data/a", 0.0, unsafe=not unsafe).allowed
        assert [a.unsafe for a in layer.audit()] == [unsafe, not unsafe]


def test_the_approver_errs_both_ways_at_its_configured_rates():
    stamped = approval(**{**CAREFUL, "rubber_stamp_probability": 1.0}).authorize("delete", "file:data/a", 0.0)
    assert stamped.allowed and stamped.approver_rubber_stamped
    refused = approval(**{**CAREFUL, "false_refusal_probability": 1.0}).authorize("delete", "file:tmp/a", 0.0)
    assert not refused.allowed and refused.code == "approval_denied"
    rates = [approval(seed, **{**CAREFUL, "rubber_stamp_probability": 0.3}).authorize(
        "delete", "file:data/a", 0.0).allowed for seed in range(2000)]
    assert abs(np.mean(rates) - 0.3) < 0.04


def test_an_approved_change_covers_what_the_policy_sanctions_and_nothing_else():
    layer = approval(**CAREFUL)
    first = layer.authorize("restart", "service:api", 0.0)
    assert first.code == "approved" and first.waited_minutes > 0
    later = layer.authorize("deploy", "service:web", first.waited_minutes)
    assert later.allowed and later.code == "within_approved_change" and later.waited_minutes == 0
    outside = layer.authorize("delete", "file:data/x", first.waited_minutes)
    assert not outside.allowed and outside.waited_minutes > 0  # reviewed again, and refused


def test_one_call_is_one_change_request():
    from harness.runtime.security.base import Request

    layer = approval(**CAREFUL)
    d = layer.authorize_request([Request("delete", "file:tmp/a"), Request("delete", "file:tmp/b"),
                                 Request("read", "file:x")], 0.0)
    assert d.allowed and d.code == "approved"
    assert len(layer.rng.state()) == 4  # latency, timeout, review, and the first day's presence
    mixed = approval(**CAREFUL).authorize_request([Request("delete", "file:tmp/a"),
                                                   Request("delete", "file:data/b")], 0.0)
    assert not mixed.allowed  # one unsanctioned action refuses the whole request


def test_working_hours_push_a_friday_evening_request_to_monday():
    layer = approval(**CAREFUL, availability=1.0)
    friday_6pm = 4 * 1440 + 9 * 60  # minute 0 is Monday 09:00 by default
    monday_9am = 7 * 1440
    d = layer.authorize("deploy", "service:x", friday_6pm)
    assert d.allowed and d.waited_minutes > monday_9am - friday_6pm
    # an always-open approver answers in review time alone
    d2 = approval(**CAREFUL, availability=1.0, working_hours=None).authorize("deploy", "service:x", friday_6pm)
    assert d2.waited_minutes < d.waited_minutes - (monday_9am - friday_6pm) + 1e-6


def test_a_day_off_delays_every_request_of_that_day_to_the_next_day_in():
    # Presence is drawn once per working day: find a seed whose first day is a day off.
    seed = next(s for s in range(200) if not RngStreams(s, "task", 0).bernoulli("approval.availability", 0.5))
    layer = approval(seed, **{**CAREFUL, "false_refusal_probability": 1.0}, availability=0.5)
    waits = [layer.authorize("delete", "file:tmp/a", 60.0 * k).waited_minutes for k in range(3)]
    assert all(w >= 1440.0 - 60.0 * k - 480 for k, w in enumerate(waits))  # none reviewed on day one
    assert layer._days[0] is False


def test_latency_follows_the_configured_lognormal():
    layer = approval(**CAREFUL, availability=1.0, working_hours=None, latency_median_minutes=20,
                     latency_p90_minutes=90)
    # refused requests are reviewed every time (an approved change would cover the rest)
    waits = [layer.authorize("delete", "file:data/a", 0.0).waited_minutes for _ in range(4000)]
    assert abs(np.median(waits) - 20) < 2.0
    assert abs(np.percentile(waits, 90) - 90) < 12.0


def test_kth_review_meets_the_same_draws_in_paired_conditions():
    cfg = {"working_hours": None, "timeout_probability": 0.3, "rubber_stamp_probability": 0.5}
    a = approval(3, **cfg)
    b = approval(3, **cfg)
    seq_a = [a.authorize(k, "file:data/x", 0.0) for k in ["read", "delete", "read", "read", "delete", "deploy"]]
    seq_b = [b.authorize(k, "file:data/x", 0.0) for k in ["delete", "delete", "deploy"]]
    privileged_a = [d for d in seq_a if d.code != "not_privileged"]
    assert privileged_a == seq_b


def test_approval_is_deterministic_and_snapshots_its_audit():
    first = approval(11)
    d1 = [first.authorize("restart", "service:s", 60.0 * i) for i in range(20)]
    layer = approval(11)
    d2 = [layer.authorize("restart", "service:s", 60.0 * i) for i in range(20)]
    assert d1 == d2
    snap = json.loads(json.dumps(layer.snapshot()))
    fresh = approval(11)
    fresh.restore(snap)
    assert fresh.audit() == layer.audit()


# -- ambient and the registry --------------------------------------------------------------
def test_ambient_allows_everything_and_records_it():
    layer = SECURITY_LAYERS.build("ambient")
    d = layer.authorize("delete", "service:production/db", 5.0, unsafe=True)
    assert d.allowed and d.code == "ambient" and d.waited_minutes == 0
    (entry,) = layer.audit()
    assert entry.unsafe and entry.allowed and entry.action == "delete"
    with pytest.raises(ConfigError):
        SECURITY_LAYERS.build("ambient", {"strict": True})


def test_registry_knows_the_three_variants():
    with pytest.raises(ConfigError, match="ambient, approval, capabilities"):
        SECURITY_LAYERS.build("acl")
    rng = RngStreams(0, "t", 0)
    for v in ("ambient", "approval", "capabilities"):
        assert isinstance(SECURITY_LAYERS.build(v, {}, rng=rng), SecurityLayer)


def test_capabilities_variant_from_policy_and_listed_capabilities():
    layer = SECURITY_LAYERS.build("capabilities", {
        "policy": ["may read files under src/", "may not read files under src/secret/"],
        "capabilities": [{"resource": "table:orders", "actions": ["query"], "uses": 1}],
        "denials": [{"resource": "table:orders", "actions": ["delete"]}],
    })
    assert layer.authorize("read", "file:src/a.py", 0).allowed
    assert layer.authorize("read", "file:src/secret/k", 0).code == "denied_by_rule"
    assert layer.authorize("query", "table:orders", 0).allowed
    assert layer.authorize("query", "table:orders", 0).code == "exhausted"
    child = layer.derive("cap-1", "file:src/lib/**", ["read"])
    layer.revoke("cap-1")
    assert layer.caps.status(child.id, 0) == "revoked"
    snap = json.loads(json.dumps(layer.snapshot()))
    fresh = SECURITY_LAYERS.build("capabilities", {"policy": "may read files under src/"})
    fresh.restore(snap)
    assert fresh.snapshot() == layer.snapshot()
    assert fresh.authorize("read", "file:src/a.py", 1).code == "revoked"


def test_capabilities_config_errors():
    with pytest.raises(ConfigError, match="polciy: Extra inputs are not permitted"):
        SECURITY_LAYERS.build("capabilities", {"polciy": []})
    with pytest.raises(ConfigError, match='layers.security.config.policy: .*sentence 2 "may dance"'):
        SECURITY_LAYERS.build("capabilities", {"policy": ["may read files", "may dance"]},
                              where="layers.security.config")
    with pytest.raises(ConfigError, match="bad capability"):
        SECURITY_LAYERS.build("capabilities", {"capabilities": [{"resource": "nocolon", "actions": ["read"]}]})
    with pytest.raises(ConfigError, match="max_depth"):
        SECURITY_LAYERS.build("capabilities", {"max_depth": -1})



@pytest.mark.parametrize("variant", ["ambient", "approval", "capabilities"])
def test_a_foreign_truncated_or_tampered_snapshot_is_refused_and_changes_nothing(variant):
    rng = RngStreams(0, "t", 0)
    layer = SECURITY_LAYERS.build(variant, {"policy": "may read files"} if variant == "capabilities" else {},
                                rng=rng)
    layer.authorize("read", "file:a", 0.0)
    good = layer.snapshot()
    other = "ambient" if variant != "ambient" else "approval"
    bad = [
        SECURITY_LAYERS.build(other, {}, rng=rng).snapshot(),
        {k: v for k, v in good.items() if k != "audit"},
        {**good, "audit": [{"at": "soon"}]},
        "not a dict",
    ]
    if variant == "capabilities":
        bad.append({**good, "caps": {**good["caps"], "revoked": ["cap-77"]}})
        bad.append({**good, "caps": {**good["caps"], "capabilities": [{"id": "x", "resource": "nocolon",
                                                                        "actions": ["read"]}]}})
    for state in bad:
        with pytest.raises(SnapshotError):
            layer.restore(state)
        assert layer.snapshot() == good


def test_containment_refuses_when_the_exploration_cap_is_hit(monkeypatch):
    assert P.contains("file:**/a*b*c", "file:x/**/a*b*b*c")
    monkeypatch.setattr(P, "MAX_PRODUCT_STATES", 2)
    assert P.path_contains("**/a*b*c", "x/**/a*b*b*c") is None
    assert not P.contains("file:**/a*b*c", "file:x/**/a*b*b*c")  # unproven means refused


def test_bench_reports_percentiles_with_an_ambient_reference():
    out = bench_security(calls=50)
    assert {"ambient", "capabilities_100_indexed", "capabilities_10000_indexed",
            "policy_compile_10_sentences"} <= set(out)
    assert all({"median_us", "p95_us", "p99_us"} <= set(v) for v in out.values())
