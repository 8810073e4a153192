"""Retention probes: every multi-session task asks about each fact it told, and only that.

A probe measures retention only if its answer was told in session ``told_in`` and cannot be
read off anything a later session shows (its brief, the question itself). These tests check
that over every registered family at every difficulty (hypothesis over seeds) and over the
frozen W500 and S12 workloads.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.core.errors import TaskGenerationError
from harness.core.rng import stream
from harness.experiment.config import compose_config, config_dir
from harness.workload.registry import FAMILIES, get_family
from harness.workload.spec import Probe, SessionSpec, TaskSpec
from harness.workload.workloads import WorkloadConfig, build_workload

ALL_FAMILIES = FAMILIES.names()
# The families whose multi-session tasks tell a fact early; the scan below must find each.
MULTI_SESSION = {
    "code_modification/add_parameter", "code_modification/follow_convention", "code_review/review_convention",
    "data_analysis/metric_sessions", "document_processing/policy_check",
    "system_administration/credential_rotation", "system_administration/incident_diagnosis",
}
# Words every question or telling sentence may share without pointing at the fact.
FILLER = {"what", "which", "does", "with", "that", "this", "from", "their", "each", "every", "there"}


def _norm(text: str) -> str:
    """The scorer's comparison: case-insensitive, whitespace collapsed."""
    return " ".join(text.lower().split())


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z_-]{3,}", text.lower()) if w not in FILLER}


def probe_problems(spec: TaskSpec) -> list[str]:
    """Every way the spec's probes break the contract; empty when they keep it."""
    n = len(spec.sessions)
    if n <= 1:
        return [f"single-session task has probes {spec.probes}"] if spec.probes else []
    problems = [] if spec.probes else ["multi-session task has no probe"]
    for p in spec.probes:
        problems += _one_probe_problems(spec, p)
    return problems


def _one_probe_problems(spec: TaskSpec, p: Probe) -> list[str]:
    n = len(spec.sessions)
    if not p.told_in < n - 1:
        return [f"told_in {p.told_in} leaves no later session of {n}"]
    told = spec.sessions[p.told_in].asks
    problems = [] if _words(p.question) & _words(told) else [f"question {p.question!r} shares no word with its telling"]
    later = [spec.brief(k) for k in range(p.told_in + 1, n)]
    for e in p.expect:
        if not e.strip():
            problems.append("blank expect string")
        if _norm(e) not in _norm(told):
            problems.append(f"{e!r} was never told in session {p.told_in}")
        if _norm(e) in _norm(p.question):
            problems.append(f"question {p.question!r} gives away {e!r}")
        for b in later:
            # The agent is given the instructions and the public parameters: neither may hold the answer.
            if _norm(e) in _norm(b.instructions) or _norm(e) in _norm(json.dumps(b.public)):
                problems.append(f"{e!r} is shown again in session {b.session}")
    return problems


def _generated(name: str, difficulty: int, seed: int) -> TaskSpec:
    fam = get_family(name)
    params = fam.sample_params(stream(seed, name, 0, "test.probes"), difficulty)
    try:
        return fam.generate(f"probe-{seed}", params, seed)
    except TaskGenerationError:
        assume(False)  # some seeds are refused by design (e.g. a metric that does not stand out)
        raise


@pytest.mark.parametrize("name", ALL_FAMILIES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(difficulty=st.integers(1, 5), seed=st.integers(0, 2**31 - 1))
def test_every_family_keeps_the_probe_contract(name, difficulty, seed):
    spec = _generated(name, difficulty, seed)
    assert probe_problems(spec) == []


@pytest.mark.parametrize("name", sorted(MULTI_SESSION))
def test_each_multi_session_family_probes_every_fact_it_tells(name):
    """One probe per fact: a fact the harness never asks about is a retention it never measures."""
    specs = [s for d in range(1, 6) for s in _safe(name, d, range(4)) if len(s.sessions) > 1]
    assert specs, f"{name} built no multi-session task"
    for spec in specs:
        assert len(spec.probes) >= len(spec.knowledge), spec.id


def test_only_the_known_families_build_multi_session_tasks():
    """A new multi-session family must join MULTI_SESSION (and so get the per-fact check)."""
    found = {name for name in ALL_FAMILIES for d in range(1, 6)
             if any(len(s.sessions) > 1 for s in _safe(name, d, range(3)))}
    assert found == MULTI_SESSION


def _safe(name: str, difficulty: int, seeds: range) -> list[TaskSpec]:
    fam, out = get_family(name), []
    for seed in seeds:
        params = fam.sample_params(stream(seed, name, 0, "test.probes"), difficulty)
        try:
            out.append(fam.generate(f"probe-{seed}", params, seed))
        except TaskGenerationError:
            continue
    return out


@pytest.mark.slow
@pytest.mark.parametrize("workload", ["w500", "s12"])
def test_frozen_workloads_keep_the_probe_contract(workload):
    data = compose_config(["~experiment", f"workload={workload}"])
    tasks = build_workload(WorkloadConfig(**data["workload"]), base_dir=config_dir().parent)
    multi = [t for t in tasks if len(t.sessions) > 1]
    assert multi, f"{workload} has no multi-session task"
    assert {t.id: probe_problems(t) for t in tasks if probe_problems(t)} == {}


# -- the checker itself must be able to fail ----------------------------------------------------

def _two_session(probe: Probe, later: str = "Do the rest.") -> TaskSpec:
    base = _safe("system_administration/credential_rotation", 3, range(5))[0]
    return base.model_copy(update={
        "sessions": (SessionSpec(asks="The new password for `db` is `pw-secret`."), SessionSpec(asks=later)),
        "probes": (probe,)})


def test_probe_problems_catches_each_broken_contract():
    good = Probe(told_in=0, question="What is the new password for `db`?", expect=("pw-secret",))
    assert probe_problems(_two_session(good)) == []
    cases = {
        "never told": good.model_copy(update={"expect": ("pw-other",)}),
        "gives away": good.model_copy(update={"question": "Is the new password for `db` pw-secret?"}),
        "no later session": good.model_copy(update={"told_in": 1}),
        "no shared word": good.model_copy(update={"question": "Remind me of the secret?"}),
    }
    for what, probe in cases.items():
        assert probe_problems(_two_session(probe)), what
    assert probe_problems(_two_session(good, later="Use PW-SECRET  now.")), "shown again, case and spaces aside"
    assert probe_problems(_two_session(good).model_copy(update={"probes": ()})) == ["multi-session task has no probe"]
