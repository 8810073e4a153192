"""The report as data (``harness.analysis.report``): notes handed to the caller, strict JSON,
and the paper and analysis packages reading nothing from the CLI."""

import ast
import math
from pathlib import Path

import pandas as pd
import pytest

from harness.analysis import report
from harness.core.errors import UserInputError

ROOT = Path(__file__).resolve().parents[3] / "harness"


def _imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found |= {(path.name, n) for n in names if n.startswith("harness")}
    return found


@pytest.mark.parametrize("package", ["analysis", "paper"])
def test_analysis_and_paper_never_import_the_cli(package):
    assert not {(f, n) for f, n in _imports(package) if n.startswith("harness.cli")}


def _store(monkeypatch, episodes: pd.DataFrame, perf: pd.DataFrame | None = None) -> None:
    monkeypatch.setattr(report.reader, "run_info", lambda db, run: {"id": run, "seed": 0, "config": {}})
    monkeypatch.setattr(report.reader, "episodes", lambda db, run: episodes)
    monkeypatch.setattr(report.reader, "exec_perf", lambda db, run: pd.DataFrame() if perf is None else perf)


def test_a_run_of_only_errors_is_noted_then_refused(monkeypatch):
    episodes = pd.DataFrame({"task_id": ["t1", "t1"], "condition": ["a", "b"], "repeat": [0, 0],
                             "termination": ["agent_error", "harness_error"], "success": [False, False]})
    _store(monkeypatch, episodes)
    notes: list[str] = []
    with pytest.raises(UserInputError, match="no episode without an agent or harness error"):
        report.build_report("unused.duckdb", "r", note=notes.append)
    assert len(notes) == 1 and notes[0].startswith("2 episode(s) ended in an error")
    assert "1 agent_error under a" in notes[0] and "[" not in notes[0]  # plain text: the caller styles it


def test_a_run_without_episodes_is_refused(monkeypatch):
    _store(monkeypatch, pd.DataFrame())
    with pytest.raises(UserInputError, match="has no episodes yet"):
        report.build_report("unused.duckdb", "r")


def test_the_document_is_strict_json():
    made = report.RunReport("r", {}, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(
        {"estimate": [math.inf, -math.inf, math.nan, 0.5]}), [])
    assert [e["estimate"] for e in made.document()["estimates"]] == ["inf", "-inf", None, 0.5]
    assert made.document()["terminations"] == [] and made.document()["table3"] == []


def test_a_pair_must_name_two_of_the_runs_conditions():
    episodes = pd.DataFrame({"condition": ["a", "b"]})
    assert report.parse_pair(" a , b", episodes) == ("a", "b")
    assert report.parse_pair(None, episodes) is None
    for bad in ("a", "a,c", "a,b,a"):
        with pytest.raises(UserInputError, match="TREATMENT,BASELINE"):
            report.parse_pair(bad, episodes)
