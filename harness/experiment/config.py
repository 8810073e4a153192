"""From Hydra overrides to a validated, frozen RunConfig.

Hydra composes ``configs/config.yaml`` with the user's overrides; pydantic then checks
every value, so a typo fails here, before anything is stored. The config hash covers
what can change results (workload, conditions, agent, repeats, seed) and not how the run
is executed (executor, store), so a resume with more workers is still the same run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.core.errors import ConfigError
from harness.core.hashing import stable_hash
from harness.core.resources import data_path
from harness.experiment.arms import ArmsSpec, cross
from harness.experiment.conditions import Condition, load_condition, with_layer_options
from harness.experiment.factorial import FactorialSpec, expand
from harness.experiment.plugin_check import check_plugins
from harness.workload.workloads import WorkloadConfig

CONFIG_ENV = "HARNESS_CONFIG_DIR"


def config_dir() -> Path:
    """``$HARNESS_CONFIG_DIR``, else the checkout's ``configs/`` (an installed package's copy)."""
    env = os.environ.get(CONFIG_ENV)
    path = Path(env) if env else data_path("configs")
    if not (path / "config.yaml").is_file():
        raise ConfigError(f"no configs/config.yaml at {path}", hint=f"set {CONFIG_ENV} to the configs directory")
    return path


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExecutorConfig(_Strict):
    """Every executor's keys (``executors/``); each takes its own, and a key it does not
    take must stay at its default here. Operational: not part of the config hash."""

    name: str = "local"
    workers: int | None = Field(default=None, ge=1)
    start_method: str = "forkserver"  # local
    address: str | None = None  # ray: unset starts a local Ray; auto or ray://host:port joins a cluster
    lost_worker_retries: int = Field(default=3, ge=0)  # ray: times a job whose actor died runs again
    # task jobs in flight per worker process (threads); None: the agent's default
    # (``executors.default_concurrency``: 1, or 32 for an agent that waits on a model)
    concurrency: int | None = Field(default=None, ge=1)

    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1


class StoreConfig(_Strict):
    path: str = "results/harness.duckdb"
    batch_size: int = Field(default=200, ge=1)


class RunSection(_Strict):
    id: str | None = None


# Agent keys that change how a run is operated, not what an episode is: raising a cost cap
# or the retry count and resuming continues the same run (like executor and store).
OPERATIONAL_AGENT_KEYS = frozenset({"max_run_tokens", "max_run_cost_usd", "concurrency", "retries", "backoff_s",
                                    "max_backoff_s", "request_timeout_s"})


class RunConfig(_Strict):
    experiment: str
    run: RunSection = RunSection()
    seed: int = 0
    repeats: int = Field(default=1, ge=1)
    conditions: list[Condition]
    compare: list[str] | None = None  # [treatment, baseline]; default: the first two conditions
    workload: WorkloadConfig
    agent: dict[str, Any]
    executor: ExecutorConfig = ExecutorConfig()
    store: StoreConfig = StoreConfig()
    faults: dict[str, Any] = Field(default_factory=dict)
    factorial: FactorialSpec | None = None  # the cells it generates are in ``conditions``
    arms: ArmsSpec | None = None  # the (condition, arm) pairs it generates are in ``conditions``
    progress: bool = True
    # Agent or harness errors tolerated before the run stops scheduling (0: stop at the
    # first). Operational, not part of the config hash; any error makes `harness run` exit 1.
    max_errors: int = Field(default=0, ge=0)

    def result_relevant(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "seed": self.seed,
            "repeats": self.repeats,
            "conditions": [c.model_dump(mode="json") for c in self.conditions],
            "workload": self.workload.model_dump(mode="json"),
            "agent": {k: v for k, v in self.agent.items() if k not in OPERATIONAL_AGENT_KEYS},
            "faults": self.faults,
            "factorial": self.factorial.model_dump(mode="json") if self.factorial else None,
            # only when set, so the hash (and run id) of a run without arms is what it was
            **({"arms": self.arms.model_dump(mode="json")} if self.arms else {}),
        }

    def config_hash(self) -> str:
        return stable_hash(self.result_relevant())

    def run_id(self) -> str:
        return self.run.id or f"{self.experiment}-{self.config_hash()[:10]}"

    def comparison(self) -> tuple[str, str] | None:
        names = [c.name for c in self.conditions]
        pair = self.compare or names[:2]
        return (pair[0], pair[1]) if len(pair) == 2 else None


def _layer_override(override: str) -> str:
    """``layers.<layer>.config.<key>=v`` adds or sets (``++``): layer options are each
    variant's own, so config.yaml cannot declare them all for Hydra's struct check."""
    return f"++{override}" if override.startswith("layers.") else override


def hydra_message(text: str) -> tuple[str, str | None]:
    """Hydra's own error text as (first line, the rest on one line): its list of options
    ("Available options in 'experiment':" then one tab-indented name a line) becomes
    "...: a, b, c"; its config search path (where it looked, not what is wrong) is left out."""
    lines = text.strip().split("Config search path:")[0].splitlines() or [""]
    rest: list[str] = []
    for line in lines[1:]:
        if line.startswith("\t") and rest:
            rest[-1] += (" " if rest[-1].endswith(":") else ", ") + line.strip()
        elif line.strip():
            rest.append(line.strip())
    return lines[0].strip(), "; ".join(rest) or None


def compose_config(overrides: list[str]) -> dict[str, Any]:
    """Hydra composition; Hydra's own errors become ConfigErrors that keep its text
    (``hydra_message``): a first line, then its advice or options on one more."""
    directory = config_dir()
    try:
        with initialize_config_dir(config_dir=str(directory), version_base="1.3", job_name="harness"):
            cfg = compose(config_name="config", overrides=[_layer_override(o) for o in overrides],
                          return_hydra_config=True)
        choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
        with open_dict(cfg):
            del cfg["hydra"]  # its sweep fields only resolve inside a Hydra job
        data = OmegaConf.to_container(cfg, resolve=True)  # a bad ${interpolation} fails here, not above
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        message, hint = hydra_message(str(exc) or type(exc).__name__)
        raise ConfigError(f"bad override or config: {message}",
                          hint=hint or "see `harness run --help` and configs/") from None
    data["experiment"] = choices.get("experiment") or "adhoc"
    return data


def _with_arms(conditions: list[Condition], data: dict[str, Any]) -> list[Condition]:
    """The conditions crossed with the run's arms (``harness.experiment.arms``), if any."""
    if not data.get("arms"):
        data.pop("arms", None)
        return conditions
    try:
        spec = ArmsSpec(**data["arms"])
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in ("arms", *err["loc"]))
        raise ConfigError(f"invalid config value at {where}: {err['msg'].removeprefix('Value error, ')}") from None
    except TypeError as exc:
        raise ConfigError(f"invalid arms: {exc}") from None
    data["arms"] = spec
    return cross(conditions, spec, data.get("agent") or {})


def build_run_config(overrides: list[str], composed: dict[str, Any] | None = None) -> RunConfig:
    """The run's validated config; ``composed`` is ``compose_config(overrides)`` when the
    caller already has it (composition is the slow part)."""
    data = composed if composed is not None else compose_config(overrides)
    directory = config_dir()
    names = data.get("conditions") or []
    conditions = [load_condition(directory, n) for n in names]
    if data.get("factorial"):
        try:
            spec = FactorialSpec(**data["factorial"])
        except (ValidationError, TypeError) as exc:
            raise ConfigError(f"invalid factorial: {exc}".splitlines()[0]) from None
        conditions += expand(spec, directory)
    if not conditions:
        raise ConfigError("no conditions to run", hint="set conditions=[name,...] or choose an experiment")
    all_names = [c.name for c in conditions]
    if len(set(all_names)) != len(all_names):
        raise ConfigError(f"conditions listed twice: {all_names}")
    conditions = with_layer_options(conditions, data.pop("layers", None) or {})
    data["conditions"] = _with_arms(conditions, data)
    try:
        cfg = RunConfig(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"invalid config value at {where}: {err['msg']}") from None
    names_set = {c.name for c in cfg.conditions}
    if cfg.compare and not set(cfg.compare) <= names_set:
        hint = "with arms, a condition is named <condition>@<arm>, e.g. compare=[agent_native@s1,human@s1]" \
            if cfg.arms else None
        raise ConfigError(f"compare={cfg.compare} names conditions not in this run: {sorted(names_set)}", hint=hint)
    check_plugins(cfg)
    return cfg
