"""`harness bench` measures and reports; it never asserts a timing."""

import pytest

from harness.cli.bench_cmd import _flatten, bench_episodes

pytestmark = pytest.mark.slow


def test_episode_bench_reports_throughput_against_its_reference():
    out = bench_episodes(workers=(1,))
    row = out["workers=1"]
    assert row["episodes"] == 120 and row["episodes_per_s"] > 0 and row["ratio_vs_1_worker"] == 1.0


def test_nested_measurements_flatten_to_rows():
    assert _flatten("", {"a": {"b": 1.23456, "c": "x"}}) == [("a.b", "1.235"), ("a.c", "x")]
