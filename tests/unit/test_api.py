"""The Python API (``harness.run``, ``harness.open``, ``Run``) on a store written here:
the run's frames, the report's tables and the comparison as the CLI makes them, and bad
input raised as the CLI's one-line errors with nothing stored changed."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

import harness
from harness.core.errors import ConfigError, StoreError, UserInputError
from harness.core.models import ActionRecord, EpisodeRecord
from harness.store import ResultWriter, RunInfo

ROOT = Path(__file__).resolve().parents[2]
TASKS = [(f"t{i}", "code" if i < 4 else "data") for i in range(8)]


def _info(run_id: str) -> RunInfo:
    config = {"conditions": [{"name": "agent_native"}, {"name": "human"}], "compare": ["agent_native", "human"]}
    return RunInfo(id=run_id, experiment="smoke", config=config, config_hash=f"cfg-{run_id}", workload_hash="wl",
                   code_version="abc", seed=3, repeats=1, planned_episodes=2 * len(TASKS), host="testhost")


def _episode(run_id: str, condition: str, task: str, category: str, success: bool) -> EpisodeRecord:
    return EpisodeRecord(run_id=run_id, condition=condition, task_id=task, repeat=0, category=category,
                         family="rename", difficulty=1, seed=1, success=success,
                         termination="submitted" if success else "gave_up", check_detail="[]", actions=2,
                         tool_calls=2, tool_calls_ok=2, tool_calls_rejected=0, sim_minutes=1.0,
                         world_digest="d" * 16, wall_seconds=0.01)


def _actions(ep: EpisodeRecord) -> list[ActionRecord]:
    return [ActionRecord(run_id=ep.run_id, condition=ep.condition, task_id=ep.task_id, repeat=ep.repeat, seq=s,
                         parent=None if s == 0 else s - 1, tool="read_file", ok=True, sim_minutes=0.5 * s,
                         wall_latency_ms=1.0) for s in range(2)]


def _write(db: Path, run_id: str, human_successes: int) -> None:
    with ResultWriter(db) as w:
        w.begin_run(_info(run_id))
        for i, (task, category) in enumerate(TASKS):
            for condition, success in (("agent_native", True), ("human", i < human_successes)):
                ep = _episode(run_id, condition, task, category, success)
                w.add(ep, _actions(ep))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("api") / "api.duckdb"
    _write(path, "r1", human_successes=4)
    _write(path, "r2", human_successes=0)  # same design, the human condition fails everything
    return path


def test_import_harness_stays_light():
    """`import harness` loads neither pandas, duckdb nor the runner (a CLI start pays once)."""
    code = "import sys, harness; print(sorted(m for m in ('pandas', 'duckdb', 'hydra', 'harness.api') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
    assert callable(harness.run) and callable(harness.open) and harness.Run.__name__ == "Run"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        harness.nope  # noqa: B018


def test_open_latest_and_named(db):
    latest = harness.open(db)
    assert latest.id == "r2" and latest.db == str(db)
    assert harness.open(str(db), "r1") == harness.Run(str(db), "r1")  # a frozen value: equal by identity


def test_run_identity_is_frozen(db):
    run = harness.open(db, "r1")
    with pytest.raises(AttributeError):
        run.id = "r2"


def test_info_status_and_frames(db):
    run = harness.open(db, "r1")
    assert run.info["experiment"] == "smoke" and run.info["episodes_done"] == 16
    assert run.status == "running"  # begun, never finished by a runner
    assert len(run.episodes) == 16 and set(run.episodes.condition) == {"agent_native", "human"}
    assert run.episodes.success.sum() == 12
    assert len(run.actions()) == 32 and {"tool", "ok", "seq"} <= set(run.actions().columns)


def test_actions_filters(db):
    run = harness.open(db, "r1")
    human = run.actions(condition="human")
    assert len(human) == 16 and set(human.condition) == {"human"}
    one = run.actions("human", "t3", 0)  # one episode: its transcript where the store keeps one
    assert list(one.seq) == [0, 1] and set(one.task_id) == {"t3"} and set(one.condition) == {"human"}
    assert list(one.columns[:4]) == ["run_id", "condition", "task_id", "repeat"] and {"tool", "ok"} <= set(one.columns)
    with pytest.raises(StoreError, match="no episode t9 repeat 0 under condition 'human'"):
        run.actions("human", "t9", 0)
    assert run.actions(task_id="t3").condition.tolist() == ["agent_native", "agent_native", "human", "human"]
    assert run.actions(repeat=1).empty


def test_repr_and_html(db):
    run = harness.open(db, "r1")
    text = repr(run)
    assert "r1" in text and "smoke" in text and "16/16" in text and "running" in text
    assert str(run) == f"{db}:r1"  # as `harness compare` names a run
    page = run._repr_html_()
    assert page.startswith("<table>") and "agent_native, human" in page and "16/16" in page
    gone = harness.Run(str(db.parent / "gone.duckdb"), "r1")
    assert "unreadable: no results at" in repr(gone)  # a repr never raises
    assert "<pre>" in gone._repr_html_()


def test_estimates_are_computed_once_then_read(db, tmp_path):
    import shutil

    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    run = harness.open(copy, "r1")
    est = run.estimates  # none stored: computed as `harness report` does, and stored
    gap = est[(est.analysis == "gap") & (est.category == "all")].iloc[0]
    assert gap.estimate == pytest.approx(0.5) and gap.low <= 0.5 <= gap.high
    from harness.store import reader

    assert len(reader.estimates(copy, "r1")) == len(est)


def test_report_returns_the_clis_tables(db, tmp_path):
    import shutil

    from harness.analysis.report import build_report

    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    notes: list[str] = []
    tables = harness.open(copy, "r1").report(resamples=300, store=False, note=notes.append)
    expected = build_report(str(copy), "r1", resamples=300, store=False).tables()
    assert list(tables) == [d.title for d in expected]
    for d in expected:
        frame = tables[d.title]
        assert list(frame.columns) == list(d.columns)
        assert [tuple(r) for r in frame.itertuples(index=False)] == d.rows
        assert frame.attrs["note"] == d.note
    completion = next(f for t, f in tables.items() if t.startswith("Completion rate"))
    assert completion.set_index("condition").loc["agent_native"].iloc[0].startswith("100.0%")
    with pytest.raises(UserInputError, match="--resamples"):
        harness.open(copy, "r1").report(resamples=0)


def test_compare_is_the_clis_comparison(db):
    a, b = harness.open(db, "r1"), harness.open(db, "r2")
    frame = a.compare(b, resamples=300)
    assert list(frame.columns) == ["condition", "category", "tasks", "a", "b", "diff", "low", "high", "method",
                                   "regression"]
    human = frame[(frame.condition == "human") & (frame.category == "all")].iloc[0]
    assert human.a == pytest.approx(0.5) and human.b == 0 and human["diff"] == pytest.approx(-0.5)
    assert human.regression and human.high < -0.02
    same = frame[(frame.condition == "agent_native") & (frame.category == "all")].iloc[0]
    assert same["diff"] == 0 and not same.regression
    with pytest.raises(UserInputError, match="unknown metric"):
        a.compare(b, metric="speed")


def test_compare_refuses_runs_that_do_not_pair(db, tmp_path):
    other = tmp_path / "other.duckdb"
    with ResultWriter(other) as w:
        w.begin_run(_info("r3"))
        ep = _episode("r3", "human", "t0", "code", True)
        w.add(ep, _actions(ep))
    with pytest.raises(UserInputError, match="do not pair"):
        harness.open(db, "r1").compare(harness.open(other))


def test_unknown_run_names_the_known_ones(db):
    before = _sha(db)
    with pytest.raises(StoreError) as caught:
        harness.open(db, "nope")
    assert caught.value.message == f"unknown run 'nope' in {db}"
    assert "r1" in caught.value.hint and "r2" in caught.value.hint
    assert _sha(db) == before


def test_missing_store(tmp_path):
    with pytest.raises(StoreError, match="no results at"):
        harness.open(tmp_path / "missing.duckdb")
    assert not (tmp_path / "missing.duckdb").exists()


def test_not_a_store(tmp_path):
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("not a database")
    with pytest.raises(StoreError):
        harness.open(bogus)
    assert bogus.read_text() == "not a database"


@pytest.mark.parametrize("overrides", [["repeats=abc"], ["repeats=[1"], ["no_such_key=1"],
                                       ["conditions=[agent_native,nope]"]])
def test_bad_override_is_a_config_error_and_stores_nothing(tmp_path, overrides):
    store = tmp_path / "r.duckdb"
    with pytest.raises(ConfigError) as caught:
        harness.run("smoke", [*overrides, f"store.path={store}"])
    assert "\n" not in caught.value.message
    assert not store.exists()


def test_unknown_experiment_and_chaos_are_refused(tmp_path):
    store = tmp_path / "r.duckdb"
    with pytest.raises(ConfigError, match="nope"):
        harness.run("nope", [f"store.path={store}"])
    with pytest.raises(ConfigError, match="harness chaos"):
        harness.run("table3", ["workload.limit=1", "repeats=1", f"store.path={store}"])
    assert not store.exists()


def test_an_experiment_named_twice_is_refused(tmp_path):
    store = tmp_path / "r.duckdb"
    with pytest.raises(ConfigError, match=r"name the experiment again \(experiment=table2\)"):
        # (small, should the refusal ever break: it would run)
        harness.run("smoke", ["experiment=table2", "workload.limit=1", "repeats=1", f"store.path={store}"])
    assert not store.exists()


def test_overrides_must_be_a_sequence_of_strings():
    with pytest.raises(TypeError, match="sequence of key=value"):
        harness.run("smoke", "repeats=2")


def test_plain_progress_prints_a_line_per_tenth_and_no_escape_codes(capsys):
    from harness.api import _plain_progress

    on_progress = _plain_progress()
    for done in range(0, 201):
        on_progress(done, 200, done - done % 50)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "0/200 episodes done" and lines[-1] == "200/200 episodes done"
    assert len(lines) == 11 and not any("\x1b" in line for line in lines)
