"""What ``harness run --help`` lists (``harness.cli.run_help``), read from configs/."""

from pathlib import Path

from rich.text import Text

from harness.cli import run_help
from harness.experiment.config import config_dir


def test_first_sentence_of_the_opening_comment():
    text = "# @package _global_\n# A quick check: two ends.\n# More here.\nrepeats: 2\n# not this\n"
    assert run_help.first_sentence(text) == "A quick check: two ends"
    assert run_help.first_sentence("repeats: 2\n") == ""


def test_root_keys_carry_defaults_comments_and_sub_keys(tmp_path: Path):
    (tmp_path / "config.yaml").write_text(
        "defaults:\n  - workload: w\nrun:\n  id: null          # the id\nseed: 0  # root seed\nfaults:  # model\n"
        "  crash_rate: 0.0\nprogress: true\n")
    assert run_help.root_keys(tmp_path) == [("run.id=null", "the id"), ("seed=0", "root seed"), ("faults", "model"),
                                            ("progress=true", "")]


def test_the_epilog_names_every_experiment_and_survives_rich_markup():
    plain = Text.from_markup(run_help.epilog()).plain  # what the terminal shows
    for path in (config_dir() / "experiment").glob("*.yaml"):
        assert f"  {path.stem} " in plain
    assert "seed=0" in plain and "repeats=1" in plain and "run.id=null" in plain
    assert "executor" in plain and "keys of local: name, workers" in plain and "layers.<layer>.config.<key>" in plain
    assert "conditions=[a,b]" in plain  # brackets are not eaten as markup
    assert all(len(line) <= 80 for line in plain.splitlines())


def test_without_configs_the_help_still_renders(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_CONFIG_DIR", str(tmp_path))
    assert "experiments and keys not listed" in Text.from_markup(run_help.epilog()).plain


def test_a_broken_group_yaml_does_not_break_the_help(monkeypatch, tmp_path):
    (tmp_path / "config.yaml").write_text("defaults:\n  - store: duckdb\nseed: 0\n")
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "duckdb.yaml").write_text("path: [unclosed\n")
    monkeypatch.setenv("HARNESS_CONFIG_DIR", str(tmp_path))
    assert "experiments and keys not listed: ParserError reading configs/" in run_help.epilog()
