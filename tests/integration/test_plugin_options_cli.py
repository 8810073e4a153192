"""Through the CLI: every plug-in's options are checked when the config is composed. A bad
value or an unknown variant is one line naming the config key, exit 2, and no store."""

import shutil

import pytest

from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.slow
SMALL = ["experiment=smoke", "workload.limit=2"]


@pytest.mark.parametrize(("override", "key"), [
    ("layers.tools.config.timeout=abc", "layers.tools.config.timeout"),
    ("layers.tools.config.test_timeout_s=abc", "layers.tools.config.test_timeout_s"),
    ("layers.execution.config.checkpoint_every=0", "layers.execution.config.checkpoint_every"),
    ("agent.profile.error_scale=abc", "agent.profile.error_scale"),
    ("agent.name=nope", "agent.name"),
    ("faults.crash_rate=2", "faults.crash_rate"),
    ("executor.name=slurm", "executor.name"),
])
def test_a_bad_plugin_option_is_refused_by_key_and_nothing_is_stored(tmp_path, override, key):
    db = tmp_path / "r.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={db}", override)
    assert proc.returncode == 2, proc.stderr
    assert key in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2
    assert not db.exists()


def test_an_unknown_variant_in_a_preset_is_refused_by_key(tmp_path):
    configs = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", configs)
    preset = configs / "condition" / "human.yaml"
    preset.write_text(preset.read_text().replace("variant: textlog", "variant: textlgo"))
    db = tmp_path / "r.duckdb"
    proc = run_cli("run", *SMALL, f"store.path={db}", env={"HARNESS_CONFIG_DIR": str(configs)})
    assert proc.returncode == 2, proc.stderr
    assert "layers.observability.variant: unknown observability variant 'textlgo'" in proc.stderr
    assert "known: causal, textlog" in proc.stderr and not db.exists()


def test_run_wide_layer_options_reach_every_condition_deploying_the_layer(tmp_path):
    db = tmp_path / "r.duckdb"
    proc = run_cli("run", *SMALL, "repeats=1", f"store.path={db}", "layers.tools.config.test_timeout_s=20")
    assert proc.returncode == 0, proc.stderr
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    timeouts = con.execute("SELECT name, json_extract(spec, '$.layers.tools.config.test_timeout_s') "
                           "FROM conditions ORDER BY name").fetchall()
    con.close()
    assert timeouts == [("agent_native", "20"), ("human", "20")]
