"""`harness calibrate`'s refusals (exit 2, one line, nothing run or stored) and
`harness run --agent-profile`."""

from pathlib import Path

import pytest
import yaml

from harness.agents.profile import RATES, AgentProfile
from harness.cli.calibrate_cmd import DEFAULT_OUT
from harness.cli.calibrate_runs import inside_configs
from harness.cli.run_cmd import profile_overrides
from harness.core.errors import ConfigError, UserInputError
from harness.experiment.config import build_run_config, config_dir
from harness.paper.calibration import default_targets, targets
from harness.paper.claims import load_claims
from tests.conftest import run_cli


@pytest.mark.parametrize(("args", "says"), [
    (["--target", "table2.no_such_category.i_opt"], "names no claim"),
    (["--out", "configs/agent/fitted.yaml"], "inside configs/"),
])
def test_bad_input_exits_2_with_one_line_and_stores_nothing(tmp_path, args, says):
    store = tmp_path / "s.duckdb"
    done = run_cli("calibrate", "--store", str(store), "--tasks", "2", *args, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2 and says in lines[0] and "Traceback" not in done.stderr
    assert not store.exists() and not (config_dir() / "agent" / "fitted.yaml").exists()


def test_default_targets_are_table2s_eight_completions():
    cells = targets(default_targets(), load_claims())
    assert len(cells) == 8 and {c.role for c in cells} == {"i_opt", "i_human"}
    assert all(0 < c.target < 1 for c in cells)


@pytest.mark.parametrize("claim_id", ["table2.code_review.gap", "section3.overall.i_opt", "table2.code_review.driver",
                                      "table1.task_completion.chatbot"])
def test_a_claim_that_is_not_a_category_completion_is_no_target(claim_id):
    with pytest.raises(UserInputError, match="not a per-category completion"):
        targets([claim_id], load_claims())


def test_a_target_named_twice_is_refused():
    with pytest.raises(UserInputError, match="twice"):
        targets(["table2.code_review.i_opt", "table2.code_review.i_opt"], load_claims())


def test_calibrate_never_writes_into_configs():
    assert not inside_configs(DEFAULT_OUT)
    assert inside_configs(config_dir() / "x.yaml") and inside_configs(config_dir() / "agent" / ".." / "y.yaml")


def test_agent_profile_file_sets_the_agent_profile(tmp_path):
    profile = {**AgentProfile().model_dump(), "slip_rate": 0.123, "misread_rate": 0.2}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"profile": profile, "calibration": {"note": "provenance"}}))
    cfg = build_run_config([*profile_overrides(path), "experiment=smoke"])
    assert cfg.agent["profile"] == profile


@pytest.mark.parametrize(("text", "says"), [("profile: {slip: 0.1}", "unknown profile keys"),
                                            ("calibration: {}", "no 'profile'"), ("[", "cannot read")])
def test_a_bad_agent_profile_file_is_a_config_error(tmp_path, text, says):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=says):
        profile_overrides(path)


def test_a_missing_agent_profile_file_is_a_config_error():
    with pytest.raises(ConfigError, match="cannot read"):
        profile_overrides(Path("/nonexistent/p.yaml"))


def test_the_design_run_uses_table2s_fault_model():
    from harness.experiment.config import compose_config

    assert compose_config(["experiment=calibration_design"])["faults"] == compose_config(["experiment=table2"])["faults"]


def test_the_design_run_is_one_config_per_options(tmp_path):
    from harness.cli.calibrate_runs import Options, design_config

    opts = Options(str(tmp_path / "s.duckdb"), 1, 4, progress=False)
    a, b = design_config(opts, 4, 0.5, 0), design_config(opts, 4, 0.5, 0)
    assert a.run_id() == b.run_id() and a.experiment == "calibration_design"
    assert a.run_id() != design_config(opts, 5, 0.5, 0).run_id() != design_config(opts, 4, 0.5, 1).run_id()
    arms = a.arms.arms()
    assert [arm.name for arm in arms] == ["reference", "d0", "d1", "d2", "d3"] and arms[0].set == {}
    assert all(set(arm.set) == {f"agent.profile.{r}" for r in RATES} for arm in arms[1:])
    assert len(a.conditions) == 10 and not tmp_path.joinpath("s.duckdb").exists()
