"""`harness bench` measures and reports; it never asserts a timing."""

import pytest

from harness.cli.bench_cmd import _flatten, bench_episodes

pytestmark = pytest.mark.slow


def test_episode_bench_reports_throughput_against_its_reference():
    from harness.experiment.config import build_run_config

    smoke = build_run_config(["experiment=smoke"])
    planned = smoke.workload.limit * len(smoke.conditions) * smoke.repeats
    out = bench_episodes(workers=(1,))
    row = out["workers=1"]
    assert row["episodes"] == planned and row["episodes_per_s"] > 0 and row["ratio_vs_reference"] == 1.0


def test_model_bound_bench_counts_requests_in_flight_against_the_floor():
    from harness.experiment.throughput import model_bound

    out = model_bound(workers=1, concurrency=4, tasks=2, latency_s=0.2)
    assert out["episodes"] == 4 and out["requests"] >= 4
    assert 2 <= out["peak_in_flight"] <= 4  # episodes on threads wait on the endpoint together
    assert out["floor_s"] == round(out["requests"] * 0.2 / out["peak_in_flight"], 2)
    assert 0 < out["startup_s"] < out["wall_s"] and out["wall_over_floor"] >= 1


def test_nested_measurements_flatten_to_rows():
    assert _flatten("", {"a": {"b": 1.23456, "c": "x"}}) == [("a.b", "1.235"), ("a.c", "x")]


def test_tool_bench_measures_both_variants_against_the_primitive():
    from harness.runtime.tools.bench import bench_tools

    out = bench_tools(n=20, files=10)
    assert out["typed_list_files"]["ratio_p50_vs_reference"] > 0
    assert out["shell_ls"]["p50_us"] > 0 and "ratio_p50_vs_typed_search" in out["shell_grep"]


def test_a_tool_variant_with_bad_config_is_a_config_error():
    from harness.core.errors import ConfigError
    from harness.runtime.tools import TOOL_LAYERS

    with pytest.raises(ConfigError):
        TOOL_LAYERS.build("typed", {"no_such_option": 1})
    with pytest.raises(ConfigError, match="known: shell, typed"):
        TOOL_LAYERS.build("gui")


def test_checkpoint_bench_reports_writes_against_a_plain_insert_and_the_chain_resume(tmp_path):
    from harness.runtime.execution.bench import bench_execution

    out = bench_execution(quick=True, workdir=str(tmp_path), sizes={"10KB": 10_000}, chain_bytes=100_000)
    row = out["full"]["10KB/FULL"]
    assert row["write"]["p50_ms"] > 0 and row["baseline_sqlite_insert"]["p50_ms"] > 0
    assert row["ratio_p50_vs_baseline"] > 0 and out["fsync_floor_1MB"]["p50_ms"] > 0
    assert out["incremental_20MB"]["FULL"]["resume_chain"]["n"] == 3
    assert out["targets"]["resume_chain_20MB"]["p50_ms"] == 100.0
