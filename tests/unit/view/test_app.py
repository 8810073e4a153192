"""harness view's pages through Starlette's TestClient: what each route shows, 404 pages
that name what is missing (and the app keeps serving), a store read afresh per request."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from harness.store import reader
from harness.view.app import create_app
from tests.unit.view.test_queries import fake_transcript
from tests.view_store import RUN, add_missing_episode, make_store


@pytest.fixture
def db(tmp_path):
    return make_store(tmp_path / "view.duckdb")


@pytest.fixture
def client(db, monkeypatch):
    monkeypatch.delattr(reader, "transcript", raising=False)  # the store as it is today
    return TestClient(create_app(db))


def test_runs_page_lists_the_run_with_its_status_and_progress(client):
    r = client.get("/")
    assert r.status_code == 200
    assert f'href="http://testserver/runs/{RUN}"' in r.text
    assert "running" in r.text and "3 / 4" in r.text


def test_a_running_runs_page_says_so_and_offers_a_reload(client):
    r = client.get(f"/runs/{RUN}")
    assert r.status_code == 200
    assert "still running" in r.text and 'id="reload"' in r.text
    assert "1 / 2" in r.text and "50.0%" in r.text  # B: one of two planned, A: 1 of 2 succeeded


def test_a_finished_run_offers_no_reload(tmp_path):
    with TestClient(create_app(make_store(tmp_path / "f.duckdb", finish=True))) as c:
        assert 'id="reload"' not in c.get(f"/runs/{RUN}").text


def test_the_run_page_filters_episodes_by_query_parameters(client):
    all_rows = client.get(f"/runs/{RUN}").text
    failed_b = client.get(f"/runs/{RUN}", params={"condition": "B", "success": "false"}).text
    assert all_rows.count('href="http://testserver/runs/r1/episodes/') == 3
    assert failed_b.count('href="http://testserver/runs/r1/episodes/') == 1
    assert "/episodes/B/t1/0" in failed_b
    assert '<option value="B" selected>' in failed_b


def test_each_page_reads_the_store_afresh(client, db):
    assert "3 / 4" in client.get("/").text
    add_missing_episode(db)
    assert "4 / 4" in client.get("/").text


def test_episode_page_shows_header_verdicts_events_dag_and_the_pair(client):
    r = client.get(f"/runs/{RUN}/episodes/B/t1/0")
    assert r.status_code == 200
    t = r.text
    assert "failure" in t and "submitted" in t and "code/t1_family" in t
    assert "value = 7 is wrong (expected 9)" in t and "FAILED" in t  # the checker's reason
    assert "minutes waiting for approval" in t and "not stored" in t
    assert "not recorded in this store" in t  # no transcripts yet
    assert "/runs/r1/episodes/A/t1/0" in t and "/runs/r1/compare/t1/0?a=B&amp;b=A" in t
    assert ('<svg' in t and "FAILURE (submitted)" in t) or 'id="no-dot"' in t


def test_episode_page_with_transcripts_shows_briefs_args_and_escaped_observations(db, monkeypatch):
    monkeypatch.setattr(reader, "transcript", fake_transcript, raising=False)
    monkeypatch.setattr(reader, "briefs", lambda *a: ["Rename the helper.", "Carry on."], raising=False)
    t = TestClient(create_app(db)).get(f"/runs/{RUN}/episodes/A/t1/0").text
    assert "Session 0" in t and "Session 1" in t and "Rename the helper." in t and "Carry on." in t
    assert "src/A.py" in t
    assert "&lt;b&gt;seen 2&lt;/b&gt;" in t and "<b>seen" not in t  # what the agent saw, as text
    assert "not received: a crash kept this result from the agent" not in t
    assert "not recorded in this store" not in t


def test_an_observation_a_crash_kept_back_says_so(db, monkeypatch):
    def kept_back(*key):
        df = fake_transcript(*key)
        df.loc[1, "observation"] = None
        return df

    monkeypatch.setattr(reader, "transcript", kept_back, raising=False)
    monkeypatch.setattr(reader, "briefs", lambda *a: [], raising=False)
    t = TestClient(create_app(db)).get(f"/runs/{RUN}/episodes/A/t1/0").text
    assert t.count("not received: a crash kept this result from the agent") == 1


def test_side_by_side_shows_both_conditions_and_marks_differences(client):
    r = client.get(f"/runs/{RUN}/compare/t1/0", params={"a": "A", "b": "B"})
    assert r.status_code == 200
    t = r.text
    assert "A beside B" in t
    assert t.count('class="differs"') >= 2  # success differs; B has a 4th action A lacks
    assert "no action" in t


@pytest.mark.parametrize(("url", "named"), [
    ("/runs/nope", "unknown run &#39;nope&#39;"),
    (f"/runs/{RUN}/episodes/C/t1/0", "unknown condition &#39;C&#39;"),
    (f"/runs/{RUN}/episodes/B/t2/0", "no episode B:t2:0"),
    (f"/runs/{RUN}/episodes/B/t1/x", "repeat must be a number"),
    (f"/runs/{RUN}/compare/t1/0", "needs two conditions"),
    (f"/runs/{RUN}/compare/t1/0?a=A&b=Q", "unknown condition &#39;Q&#39;"),
    ("/no/such/page", "no page at /no/such/page"),
])
def test_unknown_things_in_a_url_are_a_404_that_names_them_and_serving_goes_on(client, url, named):
    r = client.get(url)
    assert r.status_code == 404 and named in r.text
    assert client.get("/").status_code == 200


def test_an_episode_that_cannot_be_rerun_is_a_409_naming_why_and_serving_goes_on(client):
    """The hand-made run has no real conditions to rebuild, so its re-run is refused."""
    r = client.get(f"/runs/{RUN}/episodes/B/t1/0/causal")
    assert r.status_code == 409 and "cannot be rebuilt" in r.text
    assert client.get(f"/runs/{RUN}/episodes/Q/t1/0/causal").status_code == 404
    assert client.get("/").status_code == 200


def test_a_store_gone_while_serving_is_a_503_with_its_message(client, db):
    db.unlink()
    r = client.get("/")
    assert r.status_code == 503 and "no results at" in r.text


def test_static_files_are_served_from_the_package(client):
    r = client.get("/static/view.css")
    assert r.status_code == 200 and "harness view" in r.text
    assert "http" not in client.get(f"/runs/{RUN}/episodes/B/t1/0").text.split("<body>")[0].replace(
        "http://testserver", "")  # nothing fetched from elsewhere


def test_cells_show_no_nan_or_nat_and_times_to_the_second():
    import pandas as pd

    from harness.view.app import _fmt

    assert _fmt(None) == _fmt(float("nan")) == _fmt(pd.NaT) == "—"
    assert _fmt(pd.Timestamp("2026-12-07 05:55:58.570044")) == "2026-12-07 05:55:58"
    assert _fmt(56.4999) == "56.5" and _fmt(3) == "3" and _fmt("x") == "x"


def test_a_long_episode_list_is_cut_and_says_so(client, monkeypatch):
    from harness.view import app

    monkeypatch.setattr(app, "MAX_ROWS", 2)
    t = client.get(f"/runs/{RUN}").text
    assert t.count('href="http://testserver/runs/r1/episodes/') == 2
    assert "3 episode(s); the first 2 are listed, filter to narrow" in t


def test_arguments_read_as_key_value_lines_with_strings_as_they_are():
    from harness.view.app import _args_text

    text = _args_text({"command": "cat <<'EOF' > a.py\nx = 1\nEOF", "n": 2, "paths": ["a", "b"]})
    assert text.splitlines() == ["command: cat <<'EOF' > a.py", "x = 1", "EOF", "n: 2", 'paths: ["a", "b"]']
