"""The cost model's parameters (``configs/cost/default.yaml``): validated, every price named.

A price that is missing or negative, an unknown key, or a roll-out whose phases do not fit
its horizon is a ``ConfigError`` whose message names the field (``human.hourly_rate_usd``,
``rollout.phases``), so the CLI turns it into exit code 2 with one readable line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from harness.core.errors import ConfigError
from harness.core.resources import data_path

DEFAULT_PATH = data_path("configs", "cost", "default.yaml")
WEEKS_PER_MONTH = 52 / 12  # a year of 52 weeks: the roll-out is scheduled in weeks

Price = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Usage(_Strict):
    tasks_per_agent_month: Positive


class Compute(_Strict):
    usd_per_action: Price  # only for episodes that report no tokens


class HumanTime(_Strict):
    hourly_rate_usd: Price
    minutes_per_approval: Price
    minutes_per_incident: Price
    rework_minutes_per_failure: Price
    relay_minutes_by_loop: dict[str, Price]


class Infrastructure(_Strict):
    base_usd_per_agent_month: Price
    layers: dict[str, dict[str, Price]]  # layer -> variant -> USD per agent-month

    def price(self, layer: str, variant: str, where: str) -> float:
        try:
            return self.layers[layer][variant]
        except KeyError:
            known = sorted(self.layers.get(layer, {}))
            raise ConfigError(f"cost model: no price infrastructure.layers.{layer}.{variant} ({where} uses it)",
                              hint=f"known {layer} variants: {', '.join(known) or 'none'}; add a price") from None


class Phase(_Strict):
    name: str = Field(min_length=1)
    condition: str = Field(min_length=1)
    weeks: Positive
    engineer_hours: Price
    one_off_usd: Price


class Rollout(_Strict):
    baseline: str = Field(min_length=1)
    horizon_months: int = Field(gt=0)
    value_per_completed_task_usd: Price
    phases: tuple[Phase, ...] = Field(min_length=1)

    @field_validator("phases")
    @classmethod
    def _fits(cls, phases: tuple[Phase, ...], info: ValidationInfo) -> tuple[Phase, ...]:
        months = info.data.get("horizon_months")
        total = sum(p.weeks for p in phases)
        if months is not None and total > months * WEEKS_PER_MONTH + 1e-9:
            raise ValueError(f"the phases take {total:g} weeks, more than the {months * WEEKS_PER_MONTH:g} "
                             f"weeks of horizon_months={months}")
        names = [p.condition for p in phases]
        if len(set(names)) != len(names) or info.data.get("baseline") in names:
            raise ValueError(f"each phase needs its own condition, distinct from the baseline "
                             f"{info.data.get('baseline')}; got {names}")
        return phases

    @property
    def horizon_weeks(self) -> float:
        return self.horizon_months * WEEKS_PER_MONTH


class CostModel(_Strict):
    currency: Literal["USD"]
    n_agents: int = Field(gt=0)
    usage: Usage
    compute: Compute
    human: HumanTime
    infrastructure: Infrastructure
    rollout: Rollout

    def scaled(self, *, hourly_rate_usd: float | None = None, infra_scale: float = 1.0) -> CostModel:
        """The same model at another hourly rate and with every infrastructure price scaled
        (the sensitivity analysis' two axes)."""
        human = self.human.model_copy(update={"hourly_rate_usd": hourly_rate_usd}) \
            if hourly_rate_usd is not None else self.human
        infra = self.infrastructure
        scaled = Infrastructure(base_usd_per_agent_month=infra.base_usd_per_agent_month * infra_scale,
                                layers={layer: {v: p * infra_scale for v, p in variants.items()}
                                        for layer, variants in infra.layers.items()})
        return self.model_copy(update={"human": human, "infrastructure": scaled})


def parse_cost_model(raw: object, source: str = "cost model") -> CostModel:
    """Validate a mapping; the first error names its field, e.g. ``human.hourly_rate_usd``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of cost parameters, got {type(raw).__name__}")
    try:
        return CostModel.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "<top level>"
        more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
        raise ConfigError(f"{source}: {field}: {first['msg']}{more}",
                          hint="every price is a non-negative number; see configs/cost/default.yaml") from None


def load_cost_model(path: str | Path | None = None) -> CostModel:
    """Read and validate a cost config (default: ``configs/cost/default.yaml``)."""
    p = Path(path) if path is not None else DEFAULT_PATH
    if not p.is_file():
        raise ConfigError(f"cost config not found: {p}", hint=f"the default is {DEFAULT_PATH}")
    try:
        raw = yaml.safe_load(p.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{p}: not valid YAML: {err}") from None
    return parse_cost_model(raw, str(p))
