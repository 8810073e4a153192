"""Reference-agent strategies for the document_processing families, run through the port."""

import pytest

from harness.agents.reference.doc_invoice import read_invoice
from harness.agents.reference.doc_policy_read import notes_in, parse_rules
from tests.strategy_support import HUMAN, NATIVE, only, run, tasks

EXTRACT, POLICY = "document_processing/extract_fields", "document_processing/policy_check"


@pytest.fixture(scope="module")
def extract_tasks():
    return tasks(EXTRACT, per_difficulty=2)


@pytest.fixture(scope="module")
def policy_tasks():
    return tasks(POLICY, per_difficulty=2)


def test_the_invoice_reader_reads_every_field_of_every_layout(extract_tasks):
    from harness.workload import get_family

    for spec in extract_tasks:
        files = get_family(spec.family).build_world(spec).workspace.snapshot()
        header = spec.public["header"]
        for path, row in spec.params["rows"].items():
            f = read_invoice(files[path])
            assert [f.vendor, f.invoice_number, f.date, f.total] == [row[c] for c in header[1:]], path


def test_rules_and_notes_are_recognised(policy_tasks):
    for spec in policy_tasks:
        from harness.workload import get_family

        files = get_family(spec.family).build_world(spec).workspace.snapshot()
        rules = parse_rules(files[spec.public["rules"]])
        assert {r.rid: r.kind for r in rules} == spec.params["rules"]
        assert notes_in(spec.brief(0).instructions) == frozenset(spec.params["notes"])


@pytest.mark.parametrize("layers", [NATIVE, HUMAN], ids=["native", "human"])
def test_perfect_agent_extracts_every_task(extract_tasks, layers):
    for spec in extract_tasks:
        episode = run(spec, layers)
        assert episode.error is None and episode.success, (spec.id, episode.check_detail)


def test_perfect_agent_checks_every_policy_task_with_native_layers(policy_tasks):
    for spec in policy_tasks:
        episode = run(spec, NATIVE)
        assert episode.error is None and episode.success, (spec.id, episode.check_detail)


def test_human_layers_lose_the_notes_at_the_session_boundary_unless_written_down(policy_tasks):
    for spec in policy_tasks:
        assert run(spec, HUMAN).success, spec.id
        episode = run(spec, HUMAN, only(note_lapse_rate=1.0))
        assert episode.error is None
        # single-session tasks are told the notes; multi-session ones need them and lose them
        assert episode.success == (len(spec.sessions) == 1), (spec.id, episode.check_detail)


# policy_check from difficulty 3 spans sessions: that is where its layers differ
@pytest.mark.parametrize(("family", "difficulties", "per"), [(EXTRACT, (1, 2), 10), (POLICY, (1, 2, 3), 7)])
def test_default_profile_native_at_least_human_and_no_harness_errors(family, difficulties, per):
    specs = tasks(family, difficulties=difficulties, per_difficulty=per)
    rates = {}
    for name, layers in (("native", NATIVE), ("human", HUMAN)):
        episodes = [run(spec, layers, profile={}, repeat=r) for spec in specs for r in range(3)]
        assert all(e.error is None for e in episodes)
        assert all(e.termination != "harness_error" for e in episodes)
        rates[name] = sum(e.success for e in episodes) / len(episodes)
    assert rates["native"] >= rates["human"], rates
    assert 0 < rates["human"] < 1 or rates["native"] < 1, rates  # errors must show somewhere
