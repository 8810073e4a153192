"""Reference-agent strategy for system_administration/incident_diagnosis, run through the port."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.agents.reference.incident_diagnosis import CHECKS, SIMILAR, owner_in, read_evidence
from harness.workload.registry import get_family
from tests.strategy_support import HUMAN, NATIVE, only, run, tasks

FAMILY = "system_administration/incident_diagnosis"
NAME = st.from_regex(r"[a-z]{2,8}(-[a-z]{2,6})?", fullmatch=True)
TEAM = st.from_regex(r"team-[a-z]{3,9}", fullmatch=True)


def test_evidence_separates_own_faults_pointers_and_noise():
    ev = read_evidence(["t+0040m WARN upstream orders-db slow or failing (p99 900 ms)",
                        "t+0041m WARN retrying request to external partner API (HTTP 503)",
                        "t+0042m INFO started version 2.4.0"])
    assert ev.fault is None and ev.culprit is None and ev.upstream == ["orders-db"]
    ev = read_evidence(["t+0031m ERROR calling auth.internal: x509: certificate has expired or is not yet valid"])
    assert ev.culprit == ("auth", "expired_certificate")
    assert read_evidence(["t+0033m ERROR NullPointerException in RequestHandler.handle (3.5.0)"]).fault == "bad_deploy"
    assert not read_evidence(["t+0001m INFO health check ok"]).useful


@given(st.dictionaries(NAME, TEAM, min_size=1, max_size=12), st.data())
def test_the_owner_is_read_for_that_service_only(owners, data):
    text = "The ownership map (kept nowhere else): " + "; ".join(f"{s} is owned by {t}" for s, t in owners.items())
    service = data.draw(st.sampled_from(sorted(owners)))
    assert owner_in(text, service) == owners[service]
    assert owner_in(text, service + "x") is None


def test_each_fault_is_confirmed_by_its_metric_and_its_look_alike_refuted():
    for spec in tasks(FAMILY, (1, 3, 5), 4):
        svcs = get_family(FAMILY).build_world(spec).services
        root, fault = spec.params["root"], spec.params["fault"]

        assert _shows(svcs, root, fault), (spec.id, fault)
        assert not _shows(svcs, root, SIMILAR[fault]), (spec.id, fault)


def _shows(svcs, service, fault):
    metric, test = CHECKS[fault]
    series = svcs.query_metrics(service, metric)
    return test(series[:20], series[-15:])


@pytest.mark.parametrize("layers", [NATIVE, HUMAN], ids=["native", "human"])
def test_perfect_agent_diagnoses_every_task(layers):
    specs = tasks(FAMILY, per_difficulty=2)
    assert {s.params["sessions"] for s in specs} == {1, 2}
    for spec in specs:
        episode = run(spec, layers)
        assert episode.error is None
        assert episode.success, (spec.id, episode.check_detail)  # the map was written down
        lapsed = run(spec, layers, only(note_lapse_rate=1.0))
        if layers is NATIVE or spec.params["sessions"] == 1:
            assert lapsed.success, (spec.id, lapsed.check_detail)
        else:  # told in session 1 only, nowhere in the estate, and never written down
            assert not lapsed.success and "team" in str(lapsed.check_detail), (spec.id, lapsed.check_detail)


def test_default_profile_does_no_better_with_human_layers():
    rates = {}
    for name, layers in (("native", NATIVE), ("human", HUMAN)):
        outcomes = [run(spec, layers, {}, repeat=r) for spec in tasks(FAMILY, (1, 2, 3), 7) for r in range(3)]
        assert all(e.error is None for e in outcomes)
        rates[name] = sum(e.success for e in outcomes) / len(outcomes)
    assert rates["native"] >= rates["human"], rates
    assert rates["native"] > 0.5, rates


def test_diagnosing_touches_no_service():
    for spec in tasks(FAMILY, (2, 4), 2):
        episode = run(spec, NATIVE, {})
        assert "untouched" in str(episode.check_detail)
        assert "should not have been touched" not in str(episode.check_detail), spec.id


@pytest.mark.parametrize("layers", [NATIVE, HUMAN], ids=["native", "human"])
def test_a_slipped_fault_is_caught_by_the_culprits_metrics(layers):
    always_slips = only(slip_rate=1.0)
    for spec in tasks(FAMILY, (1, 2, 3), 3):
        episode = run(spec, layers, always_slips)
        assert episode.error is None and episode.success, (spec.id, episode.check_detail)
