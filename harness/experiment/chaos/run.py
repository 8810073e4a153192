"""``harness chaos``: from the composed config to stored ``exec_perf`` rows.

The engine of the ``harness chaos`` command (``harness.cli.chaos_cmd``), for a composed
config with a ``chaos`` section (a kind of experiment, not a condition: no condition name
is read); ``harness run`` refuses such a config and names this command. Results are stored before the
correctness verdict is enforced, so a failing run still leaves its evidence behind. A run
that executed fewer kills than configured is not the run the config describes: it fails
before the store is opened (``KillShortfallError``, one line and a hint, exit 2), so no
short run can stand in the store as Table 3's.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from harness.core.errors import ConfigError, HarnessError
from harness.core.hashing import stable_hash
from harness.experiment.chaos.table3 import Table3Config, Table3Result, config_hash, run_table3
from harness.store import ResultWriter, RunInfo


class ChaosVerificationError(HarnessError):
    """A chaos run ended with a final world unlike the fault-free one, or a duplicate effect."""


class KillShortfallError(ConfigError):
    """Fewer kills were executed than the config asks for (Table 3 reads at least 200)."""


def parse(data: dict[str, Any]) -> tuple[Table3Config, int, str, str]:
    """(config, seed, run id, store path) from the composed Hydra config."""
    try:
        cfg = Table3Config(**data["chaos"])
    except (ValidationError, TypeError) as exc:
        raise ConfigError(f"invalid chaos config: {exc}".splitlines()[0]) from None
    seed = int(data.get("seed", 0))
    run_id = (data.get("run") or {}).get("id") or f"{data.get('experiment', 'table3')}-{config_hash(cfg, seed)[:10]}"
    store = (data.get("store") or {}).get("path", "results/harness.duckdb")
    return cfg, seed, run_id, store


def run_chaos_experiment(data: dict[str, Any]) -> Table3Result:
    cfg, seed, run_id, store = parse(data)
    result = run_table3(cfg, seed)
    executed = len(result.supervision.kills)
    if executed < cfg.kills and not (result.mismatched or result.duplicates):  # a wrong world is stored, below
        raise KillShortfallError(
            f"run {run_id}: only {executed} of the {cfg.kills} configured kills were executed "
            f"(no kill after max_chaos_seconds={cfg.max_chaos_seconds:g}); nothing was stored",
            hint="raise chaos.max_chaos_seconds, or lower chaos.kills or chaos.mean_kill_gap_ms")
    from harness.experiment.runner import code_version  # the runner's own notion of it

    info = RunInfo(id=run_id, experiment=str(data.get("experiment", "table3")),
                   config={"seed": seed, "chaos": cfg.model_dump(mode="json")},
                   config_hash=config_hash(cfg, seed),
                   workload_hash=stable_hash([s.model_dump() for s in cfg.specs(seed)]),
                   code_version=code_version(), seed=seed, repeats=1, planned_episodes=0)
    with ResultWriter(store) as writer:
        writer.begin_run(info)
        writer.replace_exec_perf(run_id, result.rows)
        writer.finish_run(run_id)
    if result.mismatched or result.duplicates:
        raise ChaosVerificationError(
            f"run {run_id}: {len(result.mismatched)} session(s) differ from the fault-free run "
            f"({', '.join(result.mismatched[:5])}), {result.duplicates} effect(s) applied twice; "
            f"{executed} of {cfg.kills} kills executed")
    return result
