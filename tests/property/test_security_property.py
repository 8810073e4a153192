"""Properties of the security layer: containment is sound, delegation only narrows,
revocation empties a subtree, policy sentence order does not matter."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.runtime.security import CapabilitySet, DelegationError, compile_policy
from harness.runtime.security import patterns as P
from harness.runtime.security.approval import WorkingHours

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Small alphabets so that random patterns and random paths actually meet.
glob_parts = st.sampled_from(["a", "b", "/", "*", "**", "**/", "?", "a/", "b/"])
globs = st.lists(glob_parts, min_size=0, max_size=6).map("".join)
paths = st.lists(st.sampled_from(["a", "b", "c", "/"]), min_size=0, max_size=8).map("".join)
kinds = st.sampled_from(["file", "service"])
ACTIONS = ["read", "write", "delete"]
action_sets = st.frozensets(st.sampled_from(ACTIONS), min_size=1)


def specialize(glob: str, rnd: random.Random) -> str:
    """A glob that is narrower by construction: wildcards replaced by narrower pieces."""
    toks = P._tokens(glob)
    out = []
    for t in toks:
        if t.startswith("LIT:"):
            out.append(t[4:])
        elif t == "?":
            out.append(rnd.choice(["?", "a"]))
        elif t == "*":
            out.append(rnd.choice(["*", "a", "", "a*", "?*", "*b"]))
        elif t == "**":
            out.append(rnd.choice(["**", "*", "a/**", "*/*", "", "b"]))
        else:  # "**/"
            out.append(rnd.choice(["**/", "", "a/", "*/", "a/**/"]))
    return "".join(out)


def instantiate(glob: str, rnd: random.Random) -> str:
    """A literal path the glob matches (so probes actually hit the pattern)."""
    pieces = {"?": ["a", "c"], "*": ["", "a", "bc"], "**": ["", "a/b", "c", "/"], "**/": ["", "a/", "b/c/"]}
    return "".join(t[4:] if t.startswith("LIT:") else rnd.choice(pieces[t]) for t in P._tokens(glob))


@SETTINGS
@given(globs, globs, paths)
def test_containment_is_sound(parent, child, path):
    """If containment is proven, no path the child matches escapes the parent."""
    if P.path_contains(parent, child) is True and P.path_matches(child, path):
        assert P.path_matches(parent, path)


@SETTINGS
@given(globs, paths)
def test_containment_of_a_literal_path_is_matching(glob, path):
    """A wildcard-free child matches one path, so containment must equal matching: this
    checks the automata against the regex semantics and shows the check is exact."""
    assert P.path_contains(glob, path) is P.path_matches(glob, path)


@SETTINGS
@given(globs, st.randoms(use_true_random=False))
def test_containment_proves_narrower_by_construction(glob, rnd):
    """The check is not merely refusing: specializations are always proven contained."""
    assert P.path_contains(glob, specialize(glob, rnd)) is True
    assert P.path_contains(glob, glob) is True


@SETTINGS
@given(kinds, globs, globs, action_sets, action_sets,
       st.one_of(st.none(), st.floats(0, 100)), st.one_of(st.none(), st.floats(0, 100)),
       st.one_of(st.none(), st.integers(0, 4)), st.one_of(st.none(), st.integers(0, 4)),
       st.lists(st.tuples(kinds, paths, st.sampled_from(ACTIONS), st.floats(0, 120)), max_size=15),
       st.randoms(use_true_random=False))
def test_derived_capability_never_authorizes_more_than_its_parent(
        kind, pglob, cglob, pacts, cacts, pexp, cexp, puses, cuses, probes, rnd):
    caps = CapabilitySet()
    parent = caps.grant(f"{kind}:{pglob}", pacts, expiry=pexp, uses=puses)
    # often a child pattern narrower by construction, so that derive gets past the
    # containment check and the other rules (actions, expiry, uses) are what is tested
    if rnd.random() < 0.7:
        cglob = specialize(pglob, rnd)
    if rnd.random() < 0.5:
        cacts = frozenset(a for a in cacts if a in pacts) or pacts
    try:
        child = caps.derive(parent.id, f"{kind}:{cglob}", cacts, expiry=cexp, uses=cuses)
    except DelegationError:
        assert len(caps.caps) == 1
        return
    hits = [(kind, instantiate(cglob, rnd), a, rnd.uniform(0, 120)) for a in ACTIONS for _ in range(3)]
    for rkind, path, action, now in probes + hits:
        resource = f"{rkind}:{path}"
        parent_would = caps.permits(parent.id, resource, action, now)
        if caps.permits(child.id, resource, action, now):
            assert parent_would
        # authorizing through the child (as a sub-agent would) also spends the parent's uses
        before = caps.uses_left(parent.id)
        d = caps.authorize(resource, action, now, via=child.id)
        if d.allowed:
            assert parent_would
            if before is not None:
                assert caps.uses_left(parent.id) == before - 1


@SETTINGS
@given(st.integers(1, 12), st.data())
def test_nothing_in_a_revoked_subtree_authorizes(n, data):
    rnd = data.draw(st.randoms(use_true_random=False))
    caps = CapabilitySet(max_depth=20)
    root = caps.grant("file:" + data.draw(globs), ACTIONS)
    ids = [root.id]
    for _ in range(n):  # a random tree of successful derivations
        pid = rnd.choice(ids)
        parent = caps.caps[pid]
        glob = specialize(P.split(parent.resource)[1], rnd)
        acts = frozenset(a for a in parent.actions if rnd.random() < 0.7) or parent.actions
        ids.append(caps.derive(pid, "file:" + glob, acts).id)
    victim = data.draw(st.sampled_from(ids))
    revoked = set(caps.revoke(victim))

    def subtree(cid: str) -> set[str]:
        return {cid}.union(*(subtree(c) for c in caps.children[cid]))

    assert revoked == subtree(victim)
    for path in data.draw(st.lists(paths, min_size=1, max_size=10)):
        for action in ACTIONS:
            for cid in revoked:
                assert not caps.permits(cid, "file:" + path, action, 0.0)
            d = caps.authorize("file:" + path, action, 0.0)
            assert d.capability_id not in revoked or not d.allowed


ENVS = ["prod", "staging", "dev"]
VERB_LISTS = [["restart"], ["restart", "deploy"], ["read"], ["deploy"]]
rule = st.tuples(st.booleans(), st.sampled_from(VERB_LISTS), st.sampled_from(ENVS + ["*"]))


def sentence(allow: bool, verbs: list[str], env: str) -> str:
    target = "any service" if env == "*" else f"services in {env}"
    return f"may {'' if allow else 'not '}{' and '.join(verbs)} {target}"


@SETTINGS
@given(st.lists(rule, min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_policy_decisions_do_not_depend_on_sentence_order_and_deny_wins(rules, rnd):
    policy = [sentence(*r) for r in rules]
    shuffled = policy[:]
    rnd.shuffle(shuffled)
    a, b = compile_policy(policy), compile_policy(shuffled)
    for env in ENVS:
        for verb in ("restart", "deploy", "read"):
            resource = f"service:{env}/api"
            da, db = a.authorize(resource, verb, 0), b.authorize(resource, verb, 0)
            assert da.allowed == db.allowed
            denied = any(not al and verb in vs and e in (env, "*") for al, vs, e in rules)
            granted = any(al and verb in vs and e in (env, "*") for al, vs, e in rules)
            assert da.allowed == (granted and not denied)


@SETTINGS
@given(st.lists(st.sampled_from(["may", "not", "read", "files", "under", "src/", "for", "3",
                                 "minutes", "at", "most", "times", "services", "in", "prod",
                                 "tables", "and", ",", "the", "file", "x", "logs", "of"]),
                max_size=9))
def test_any_word_salad_either_compiles_or_raises_policy_error(words):
    from harness.runtime.security import PolicyError

    text = " ".join(words)
    assume(text.strip())
    try:
        compile_policy(text)
    except PolicyError as e:
        assert e.index == 1 and e.sentence == " ".join(text.split())


@SETTINGS
@given(st.floats(0, 30 * 1440), st.floats(0.1, 600), st.sampled_from([[9, 17], [0, 24], [22, 23.5]]),
       st.integers(1, 7))
def test_working_time_is_added_only_inside_working_windows(t, minutes, hours, days):
    wh = WorkingHours(hours, days, 540.0)
    end = wh.add_working(t, minutes)
    assert end >= t + minutes - 1e-9
    # the end lies inside (or at the close of) a working window
    ws, we = wh.window(end - 1e-9)
    assert ws - 1e-6 <= end <= we + 1e-6
    # and the working time inside [t, end] is exactly ``minutes``
    worked, cur = 0.0, t
    while cur < end - 1e-9:
        ws, we = wh.window(cur)
        lo, hi = max(cur, ws), min(end, we)
        worked += max(0.0, hi - lo)
        cur = we
    assert abs(worked - minutes) < 1e-6
