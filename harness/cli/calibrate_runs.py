"""The runs of ``harness calibrate``: its design run, the design read back from the store,
and the runs at the fitted profile that check what it predicts.

Every run is built through the normal config path (``compose_config`` then
``build_run_config``) and run by ``harness run``'s own runner, so it is stored, resumable
and deterministic: the same options give the same run id, and a second calibrate finds
nothing pending. Arm settings are read back as data (stored condition specs and config),
``arm_of`` only splitting ``<condition>@<arm>`` into its documented parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.agents.profile import RATES
from harness.analysis.calibration import design_points
from harness.analysis.report import build_report, config_of
from harness.analysis.validity import analysable
from harness.cli.run_cmd import profile_settings, run_one
from harness.experiment.arms import arm_of
from harness.experiment.config import RunConfig, build_run_config, compose_config, config_dir
from harness.paper.calibration import ROLES
from harness.store import reader

DESIGN_EXPERIMENT = "calibration_design"
REFERENCE_ARM = "reference"
# Verification runs keep their experiment's conditions but get their own experiment name,
# so `harness paper` never takes a run at a fitted profile for the report's Table 2.
VERIFY = {"table2": "calibration_table2", "table4": "calibration_table4"}


@dataclass(frozen=True)
class Options:
    store: str
    workers: int
    tasks: int | None
    progress: bool

    def overrides(self) -> list[str]:
        limit = [f"workload.limit={self.tasks}"] if self.tasks else []
        return [f"store.path={self.store}", f"executor.workers={self.workers}",
                f"progress={str(self.progress).lower()}", *limit]


def design_config(opts: Options, k: int, upper: float, seed: int) -> RunConfig:
    """The design run: the reference arm plus K Sobol profiles over the error rates."""
    overrides = [f"experiment={DESIGN_EXPERIMENT}", *opts.overrides()]
    data = compose_config(overrides)
    points = design_points(k, RATES, upper, seed)
    arms = list((data.get("arms") or {}).get("custom") or [{"name": REFERENCE_ARM}])
    width = len(str(k - 1))
    arms += [{"name": f"d{i:0{width}d}", "set": {f"agent.profile.{r}": float(v) for r, v in zip(RATES, p, strict=True)}}
             for i, p in enumerate(points)]
    data["arms"] = {"custom": arms}
    return build_run_config(overrides, data)


def run(cfg: RunConfig) -> str:
    summary = run_one(cfg)
    if summary.stopped or summary.error_count:
        from harness.core.errors import UserInputError

        raise UserInputError(f"run {summary.run_id} did not finish cleanly ({summary.stopped or 'errors'})",
                             hint="see `harness runs` and the episodes' tracebacks; run calibrate again to resume")
    return summary.run_id


@dataclass(frozen=True)
class DesignData:
    frame: pd.DataFrame  # task_id, category, point, role, success
    points: np.ndarray  # (K, R)
    reference: np.ndarray  # the reference arm's rates
    repeats: int
    tasks: int


def design_data(db: str, run_id: str) -> DesignData:
    """The stored design: each condition's rates from its spec over the run's agent profile."""
    info = reader.run_info(db, run_id)
    config, specs = config_of(info), reader.conditions(db, run_id)
    base_profile = (config.get("agent") or {}).get("profile") or {}
    treatment, baseline = (arm_of(c)[0] for c in config["compare"])
    role = {treatment: ROLES[0], baseline: ROLES[1]}
    arms: dict[str, int] = {}
    rows = []
    for name, spec in specs.items():
        base, arm = arm_of(name)
        profile = {**base_profile, **(spec.get("agent_profile") or {})}
        point = arms.setdefault(arm, len(arms))
        rows.append((name, point, role[base], tuple(float(profile[r]) for r in RATES), arm))
    points = np.zeros((len(arms), len(RATES)))
    for _, point, _, rates, _ in rows:
        points[point] = rates
    episodes, _ = analysable(reader.episodes(db, run_id))
    by = pd.DataFrame([(n, p, r) for n, p, r, _, _ in rows], columns=["condition", "point", "role"])
    frame = (episodes.groupby(["condition", "task_id", "category"], as_index=False).success.mean()
             .merge(by, on="condition"))
    reference = points[arms[REFERENCE_ARM]] if REFERENCE_ARM in arms else points[0]
    return DesignData(frame, points, reference, int(info.get("repeats") or 1), frame.task_id.nunique())


def verify(opts: Options, experiment: str, rates: dict[str, float], repeats: int, resamples: int) -> tuple[str, pd.DataFrame]:
    """Run ``experiment`` at the fitted rates (under its own experiment name) and report it."""
    overrides = [f"experiment={experiment}", *opts.overrides(), f"repeats={repeats}", *profile_settings({r: float(v) for r, v in rates.items()})]
    data = compose_config(overrides)
    data["experiment"] = VERIFY[experiment]
    run_id = run(build_run_config(overrides, data))
    return run_id, build_report(opts.store, run_id, resamples=resamples, store=True).estimates


def inside_configs(path: Path) -> bool:
    configs = config_dir().resolve()
    return path.resolve() == configs or configs in path.resolve().parents
