"""``harness view`` in a real browser: headless Chromium from the system's packages, driven
by Playwright (its pip package ships the driver; no ``playwright install``). A small smoke
experiment is run into a tmp store, served by ``harness view``, and the run list, one
episode's transcript, its re-run causal record and the side-by-side view are opened, read
and photographed.

Screenshots go to ``$HARNESS_SCREENSHOTS`` (e.g. docs/screenshots) or the test's tmp dir.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.store import reader
from tests.conftest import run_cli
from tests.integration.test_view_cli import serve

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SMALL = ["experiment=smoke", "workload.limit=6", "repeats=1", "executor.workers=1"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    db = tmp_path_factory.mktemp("view") / "smoke.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={db}")
    assert proc.returncode == 0, proc.stderr
    server, base = serve(db)
    yield db, reader.latest_run(db), base
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser.new_page(viewport={"width": 1400, "height": 1000})
        browser.close()


def _shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("HARNESS_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _shot(page, path: Path, max_height: int = 2400) -> None:
    """The page from its top, down to ``max_height`` pixels (a long transcript is cut there)."""
    height = min(max_height, page.evaluate("document.documentElement.scrollHeight"))
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": 1400, "height": height})


def _interesting(db: Path, run_id: str):
    """A failed episode whose task and repeat succeeded under another condition, else any."""
    eps = reader.episodes(db, run_id)
    by_key = eps.groupby(["task_id", "repeat"]).success.agg(["min", "max"])
    mixed = by_key[by_key["min"] != by_key["max"]].index
    rows = eps[eps.set_index(["task_id", "repeat"]).index.isin(mixed) & ~eps.success]
    return (rows if len(rows) else eps).iloc[0]


def test_run_list_episode_and_side_by_side_in_chromium(served, page, tmp_path):
    db, run_id, base = served
    shots = _shots(tmp_path)

    page.goto(base)
    assert page.title().startswith("runs")
    row = page.locator("#runs tbody tr").first
    assert run_id in row.inner_text() and "finished" in row.inner_text()
    _shot(page, shots / "view_runs.png")

    page.click(f"text={run_id}")
    assert page.locator("#conditions tbody tr").count() == 2
    ep = _interesting(db, run_id)
    page.select_option("select[name=condition]", ep.condition)
    page.click("button:has-text('filter')")
    listed = page.locator("#episodes tbody tr")
    assert listed.count() == int((reader.episodes(db, run_id).condition == ep.condition).sum())
    assert all(ep.condition in listed.nth(i).inner_text() for i in range(listed.count()))
    _shot(page, shots / "view_run.png")

    page.goto(f"{base}runs/{run_id}/episodes/{ep.condition}/{ep.task_id}/{int(ep['repeat'])}")
    header = page.locator("#header").inner_text()
    assert ep.task_id in header and ep.termination in header and ep.family in header
    verdicts = page.locator("table.verdicts").inner_text()
    assert verdicts.count("passed") + verdicts.count("FAILED") >= 1
    assert page.locator("table.actions tbody tr").count() == int(ep["actions"])
    assert page.locator("#dag svg").count() == 1
    _transcript_is_shown(page, db, run_id, ep)
    outcome = "success" if ep.success else "FAILURE"
    assert f"{outcome} ({ep.termination})" in page.locator("#dag").inner_text()
    _shot(page, shots / "view_episode.png")

    page.click("#compare-link")
    assert "beside" in page.locator("h1").inner_text()
    side = page.locator("#side-header").inner_text()
    assert ep.condition in side
    if not bool(_same_task(db, run_id, ep).success.nunique() == 1):
        assert page.locator("#side-header tr.differs").count() >= 1  # success differs, and is marked
    assert page.locator("#side-actions tbody tr").count() == int(_same_task(db, run_id, ep).actions.max())
    _shot(page, shots / "view_side_by_side.png")

    for other in _same_task(db, run_id, ep).itertuples():  # each condition's own observability record
        page.goto(f"{base}runs/{run_id}/episodes/{other.condition}/{ep.task_id}/{int(ep['repeat'])}")
        page.click("#causal-link")  # re-runs the episode, read-only
        assert f"{'success' if other.success else 'FAILURE'} ({other.termination})" in page.locator("h1").inner_text()
        assert page.locator("#dag svg, #textlog, #no-record").count() == 1
        _shot(page, shots / f"view_record_{other.condition}.png")

    assert page.goto(f"{base}runs/{run_id}/episodes/nope/{ep.task_id}/0").status == 404
    assert "unknown condition 'nope'" in page.locator("#message").inner_text()
    assert page.goto(base).status == 200


def _transcript_is_shown(page, db, run_id, ep) -> None:
    """With transcripts in the store: the first brief and the first call's arguments are on
    the page. Without: the page says they are not recorded."""
    key = (run_id, ep.condition, ep.task_id, int(ep["repeat"]))
    if not hasattr(reader, "transcript"):
        assert "not recorded in this store" in page.locator("#no-transcript").inner_text()
        return
    text = page.locator("main").inner_text()
    briefs = reader.briefs(db, *key)
    if briefs:
        assert briefs[0].strip().splitlines()[0][:40] in text
    first = reader.transcript(db, *key).iloc[0]
    shown = [v for v in (first.args or {}).values() if isinstance(v, str) and v.strip()]
    if shown:
        assert shown[0].strip().splitlines()[0][:30] in text


def _same_task(db, run_id, ep):
    eps = reader.episodes(db, run_id)
    return eps[(eps.task_id == ep.task_id) & (eps["repeat"] == ep["repeat"])]
