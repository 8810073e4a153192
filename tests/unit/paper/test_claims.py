"""paper/claims.yaml: complete, faithful to the report, and loaded strictly."""

import math
import os
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from harness.paper.claims import DEFAULT_PATH, Claim, leak_forms, leak_pattern, load_claims

ROOT = Path(__file__).resolve().parents[3]
# The reference report lives outside the repo; HARNESS_REPORT points elsewhere if needed.
REPORT = Path(os.environ.get("HARNESS_REPORT", "/work/shared/report/000_8d08816d6b671875.txt"))

CATEGORIES = ("code_modification", "code_review", "system_administration", "data_analysis")
REQUIRED = [
    *(f"table2.{c}.{col}" for c in CATEGORIES for col in ("i_human", "i_opt", "gap", "driver")),
    *(f"section3.overall.{col}" for col in ("i_human", "i_opt", "gap")),
    *(f"section3.components.{c}" for c in ("context", "agency", "observability", "total")),
    *(f"abstract.{r}" for r in ("reliability_ratio", "incident_response_ratio", "retention_ratio")),
]
NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(k\b)?")


@pytest.fixture(scope="module")
def claims():
    return load_claims()


@pytest.fixture(scope="module")
def report():
    if not REPORT.is_file():
        pytest.skip(f"reference report not found at {REPORT}")
    return REPORT.read_text()


def _squash(text: str) -> str:
    return " ".join(text.split())


def _printed_numbers(text: str) -> list[float]:
    return [float(m.group(1).replace(",", "")) * (1000 if m.group(2) else 1) for m in NUMBER.finditer(text)]


def _tables(report: str) -> dict[tuple[str, str, str], str]:
    """(table, row, column) -> printed cell, for every body cell of every 'Table N:' block."""
    lines, cells = report.splitlines(), {}
    for i, line in enumerate(lines):
        caption = re.match(r"(Table \d+):", line)
        if not caption:
            continue
        header = [c.strip() for c in lines[i + 1].strip().strip("|").split("|")]
        j = i + 3  # caption, header, |---| separator
        while j < len(lines) and lines[j].startswith("|"):
            row = [c.strip() for c in lines[j].strip().strip("|").split("|")]
            cells.update({(caption.group(1), row[0], h): v for h, v in zip(header[1:], row[1:], strict=True)})
            j += 1
    return cells


# --- the file -------------------------------------------------------------------------


def test_the_default_file_is_the_repo_one_and_loads(claims):
    assert DEFAULT_PATH == ROOT / "paper" / "claims.yaml"
    assert len(claims.claims) >= 100
    ids = [c.id for c in claims.claims]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("claim_id", REQUIRED)
def test_the_ids_the_lead_relies_on_exist(claims, claim_id):
    assert claims.get(claim_id).id == claim_id


def test_headline_values_as_printed(claims):
    overall = claims.get("section3.overall.gap")
    assert overall.unit == "pp" and overall.ci is not None and overall.ci[0] < overall.value < overall.ci[1]
    assert claims.get("table2.code_modification.driver").value == "Context gap"
    assert claims.get("abstract.reliability_ratio").unit == "x"
    assert claims.get("section1.gap_range").value is None  # a range: low/high only


def test_every_claim_phrase_is_in_the_report(claims, report):
    text = _squash(report)
    missing = [c.id for c in claims.claims if _squash(c.text) not in text]
    assert not missing, missing


def test_every_claim_number_is_printed_in_its_phrase(claims):
    wrong = []
    for claim in claims.claims:
        printed = _printed_numbers(claim.text)
        if isinstance(claim.value, str) and claim.value not in claim.text:
            wrong.append(claim.id)
        wrong += [f"{claim.id}: {n}" for n in claim.numbers() if not any(math.isclose(n, p) for p in printed)]
    assert not wrong, wrong


def test_every_table_cell_of_the_report_is_recorded(claims, report):
    cells = _tables(report)
    assert {t for t, _, _ in cells} == {"Table 1", "Table 2", "Table 3", "Table 4"}
    recorded = {(c.table, c.row, c.column): c for c in claims.claims if c.table.startswith("Table")}
    assert set(recorded) == set(cells), set(recorded) ^ set(cells)
    for key, printed in cells.items():
        claim = recorded[key]
        if isinstance(claim.value, str):
            assert claim.value == printed, key
        else:
            assert _printed_numbers(printed) == [claim.value], (key, printed)


def test_tables_are_transcribed_consistently(claims):
    """The report's own arithmetic holds on the recorded cells, so a typo would show."""
    for cat in CATEGORIES:
        i_human, i_opt, gap = (claims.get(f"table2.{cat}.{c}").value for c in ("i_human", "i_opt", "gap"))
        assert i_opt - i_human == pytest.approx(gap, abs=0.05), cat
    for row in ("refactoring", "incident_diagnosis", "dependency_upgrade", "security_review"):
        base, native, ratio = (claims.get(f"table4.{row}.{c}").value for c in ("baseline", "agent_native", "improvement"))
        assert native / base == pytest.approx(ratio, abs=0.05), row
    parts = sum(claims.get(f"section3.components.{c}").value for c in ("context", "agency", "observability"))
    assert parts == claims.get("section3.components.total").value
    overall = {c: claims.get(f"section3.overall.{c}").value for c in ("i_human", "i_opt", "gap")}
    assert overall["i_opt"] - overall["i_human"] == pytest.approx(overall["gap"], abs=0.05)


def test_by_table_and_get(claims):
    table2 = claims.by_table("Table 2")
    assert len(table2) == 16 and {c.table for c in table2} == {"Table 2"}
    assert claims.by_table("Table 99") == []
    with pytest.raises(KeyError, match="table2.code_modification.gap"):
        claims.get("table2.code_modification.gapp")


def test_numbers_lists_value_bounds_and_ci(claims):
    overall = claims.get("section3.overall.i_human")
    assert overall.numbers() == [overall.value, *overall.ci]
    gap_range = claims.get("section1.gap_range")
    assert gap_range.numbers() == [gap_range.low, gap_range.high]
    assert claims.get("table2.code_review.driver").numbers() == []


# --- loader errors --------------------------------------------------------------------

GOOD = {"id": "t.r.c", "table": "Table 9", "value": 1.5, "unit": "pp", "text": "1.5pp"}


def _write(tmp_path, entries, **top):
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "source": "s", **top, "claims": entries}))
    return path


def test_a_minimal_file_loads(tmp_path):
    loaded = load_claims(_write(tmp_path, [GOOD, {**GOOD, "id": "t.r.d"}]))
    assert [c.id for c in loaded.claims] == ["t.r.c", "t.r.d"]


def test_duplicate_ids_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"duplicate claim id 't\.r\.c' \(entries #0 and #2\)"):
        load_claims(_write(tmp_path, [GOOD, {**GOOD, "id": "t.r.d"}, GOOD]))


@pytest.mark.parametrize(("change", "message"), [
    ({"low": 1.0}, "either value, or low/high"),
    ({"value": None}, "either value, or low/high"),
    ({"ci": [2.0, 3.0]}, "does not contain value"),
    ({"value": None, "low": 3.0, "high": 2.0}, "low 3.0 > high 2.0"),
    ({"value": None, "low": 1.0, "ci": [0.0, 2.0]}, "ci needs a numeric value"),
    ({"value": "Context gap"}, "unit 'label'"),
    ({"unit": "furlongs"}, "unit"),
    ({"id": "Not Dotted"}, "id"),
    ({"text": "x" * 161}, "text"),
    ({"colour": "red"}, "colour"),
])
def test_bad_entries_are_named(tmp_path, change, message):
    entry = {k: v for k, v in {**GOOD, "id": "t.bad.one", **change}.items() if v is not None}
    with pytest.raises(ValueError, match=message) as err:
        load_claims(_write(tmp_path, [GOOD, entry]))
    assert "entry #1" in str(err.value)
    assert ("'t.bad.one'" if "id" not in change else "'Not Dotted'") in str(err.value)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(FileNotFoundError, match="claims file not found: .*nowhere.yaml"):
        load_claims(tmp_path / "nowhere.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("claims: [\n  - id: : :\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_claims(broken)
    broken.write_text("- just a list\n")
    with pytest.raises(ValueError, match="'claims' list"):
        load_claims(broken)
    with pytest.raises(ValueError, match="version"):
        load_claims(_write(tmp_path, [GOOD], version=2))


# --- invariant 7: the leak pattern ----------------------------------------------------


def _claim(value: float, unit: str, **extra) -> Claim:
    return Claim(id="t.r.c", table="Table 9", value=value, unit=unit, text="t", **extra)


def test_which_claims_are_searched_for(claims):
    assert leak_forms(claims.get("section3.overall.i_human")) >= {"34.2", "31.8", "36.7", "0.342"}
    assert leak_forms(claims.get("abstract.reliability_ratio")) >= {"4.3x"}
    assert "4.3" not in leak_forms(claims.get("abstract.reliability_ratio"))
    assert leak_forms(claims.get("table1.tco.chatbot")) == {"4200", "4,200", "4_200"}
    assert leak_forms(claims.get("section3.protocol.bootstrap_resamples")) == set()  # a setting
    assert leak_forms(claims.get("abstract.sessions")) == set()  # a one-sided bound
    assert leak_forms(claims.get("table2.code_modification.i_human")) >= {"28.1"}
    assert leak_forms(claims.get("table1.task_completion.agent_native")) == set()  # 78%
    assert leak_forms(claims.get("section5.cost.savings")) == set()  # equals seconds per day


def test_the_pattern_finds_tokens_not_substrings(claims):
    pattern = leak_pattern(claims.claims)
    for hit in ("gap = 44.2", "rate: 0.342", "x 4.3x faster", "tco: 4_200", "'$4,200'", "[31.8, 1]", "51.3pp"):
        assert pattern.search(hit), hit
    for miss in ("144.2", "44.21", "v1.44.2", "4.3", "34.2.1", "x44.2", "a 2.6 inch figure", "4200.5"):
        assert not pattern.search(miss), miss


@given(st.decimals(min_value="10.0", max_value="999.9", places=1).filter(lambda d: d % 1 != 0))
def test_three_digit_decimals_match_alone_and_with_units_only(d):
    number = float(d)
    pattern = leak_pattern([_claim(number, "percent")])
    token = repr(number)
    assert pattern.search(f"x = {token}") and pattern.search(f"{token}%") and pattern.search(f"({token}pp)")
    assert pattern.search(repr(round(number / 100, 6)))
    assert not pattern.search(f"1{token}") and not pattern.search(f"{token}7") and not pattern.search(f"{token}.5")


@given(st.integers(min_value=1, max_value=99), st.integers(min_value=1, max_value=9))
def test_short_ratios_need_their_x(whole, tenth):
    number = whole + tenth / 10
    pattern = leak_pattern([_claim(number, "x")])
    assert pattern.search(f"{number!r}x better") and pattern.search(f"{number!r}×")
    assert (pattern.search(f"ratio {number!r}") is not None) == (len(str(whole)) >= 2)


def test_nothing_to_search_for_gives_no_pattern():
    assert leak_pattern([_claim(5.0, "count", kind="setting"), _claim(18.0, "percent")]) is None
