"""Through the CLI: arms run inside one paired run and meet the same random draws.

An arm that changes nothing, or sets the profile as written (error scale 1), must give
exactly the plain run's rows: the streams are keyed by (seed, task, repeat, name), never
by condition or arm (common random numbers), and the arm's settings are the only thing
it adds. A perfect agent (scale 0) must then do at least as well wherever it differs.
"""

import pytest

from harness.experiment.arms import arm_of
from harness.store import reader, schema
from tests.conftest import run_cli

pytestmark = pytest.mark.slow
SMALL = ["experiment=smoke", "workload.limit=12", "repeats=1", "executor.workers=2", "progress=false"]


def _rows(db, strip_arm):
    run = reader.latest_run(db)
    cols = list(schema.DETERMINISTIC_EPISODE_COLUMNS)
    at = cols.index("condition")
    out = {}
    for row in reader.deterministic_episode_rows(db, run):
        base, arm = arm_of(row[at])
        key = (arm, base, *row[at + 1:at + 3])
        out[key] = row[:at] + (base if strip_arm else row[at],) + row[at + 1:]
    return out


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    db = tmp_path_factory.mktemp("plain") / "p.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={db}")
    assert proc.returncode == 0, proc.stderr
    return _rows(db, strip_arm=True)


def test_an_arm_at_the_written_profile_or_with_nothing_set_gives_the_plain_runs_rows(tmp_path, plain):
    db = tmp_path / "arms.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={db}", "arms={skill_levels:[0,1],custom:[{name:same}]}",
                   "compare=[agent_native@s1,human@s1]")
    assert proc.returncode == 0, proc.stderr
    rows = _rows(db, strip_arm=True)
    assert len(rows) == 3 * len(plain)
    for arm in ("s1", "same"):
        assert {k[1:]: v for k, v in rows.items() if k[0] == arm} == {k[1:]: v for k, v in plain.items()}, arm
    perfect = {k[1:]: v for k, v in rows.items() if k[0] == "s0"}
    assert perfect != {k[1:]: v for k, v in plain.items()}  # the dial reaches the agent
    success = list(schema.DETERMINISTIC_EPISODE_COLUMNS).index("success")
    assert sum(v[success] for v in perfect.values()) >= sum(v[success] for v in plain.values())


def test_a_sweep_level_below_zero_is_one_line_and_exit_2(tmp_path):
    db = tmp_path / "bad.duckdb"
    proc = run_cli("run", "experiment=skill_study", "arms.skill_levels=[-0.5,0,1]", f"store.path={db}")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: invalid config value at arms.skill_levels: "
                                                "a skill level is an error_scale >= 0, got -0.5"]
    assert not db.exists()
