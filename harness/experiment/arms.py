"""Arms: one run that crosses its conditions with agent profiles or world settings.

A skill study asks how the gap moves when the agent gets better; a sensitivity study,
how it moves when a setting of the world without a published value moves. Both are
comparisons *between* agents or worlds, and both are sharpest inside one paired run:
the named random streams are keyed by (seed, task, repeat, name), never by condition
(``harness.core.rng``), so every arm meets the same draws (common random numbers across
skill levels as across conditions), and one task-clustered bootstrap covers every arm.

An arm is a name and a set of ``path: value`` settings; the run's conditions (presets and
factorial cells) are crossed with the arms into conditions named ``<condition>@<arm>``.
The name is a label: what an episode sees is the settings, carried as data on the
condition (``agent_profile``, ``faults``, layer options, ``budget_scale``). Paths:

- ``agent.profile.<key>``: the agent's profile (``harness.agents.profile.AgentProfile``)
- ``faults.<key>``: the fault model (``harness.experiment.faults.FaultModel``)
- ``layers.<layer>.config.<key>``: a layer option, set only where the condition's preset
  states that option (an arm moves a stated setting, it never adds one: the approval
  latency moves where there is an approver, and nowhere else)
- ``budget.actions`` / ``budget.minutes``: multiply every task's action or time budget

The shorthands of ``ArmsSpec`` generate arms: ``skill_levels`` (one arm per
``error_scale``), ``processes_off`` (each error process switched off alone at scale 1)
and ``settings`` (each setting at the low and the high end of its documented range).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.agents.profile import RATES, AgentProfile
from harness.core.errors import ConfigError
from harness.experiment.conditions import Condition
from harness.experiment.faults import FaultModel

SEPARATOR = "@"
BASE_ARM = "base"  # a settings study's arm with nothing moved
BUDGET_KEYS = ("actions", "minutes")
# A process switched off: its rate 0, or (context) a capacity no task reaches.
PROCESSES = (*RATES, "context_capacity")
_OFF = {"context_capacity": 10**9}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Arm(_Strict):
    name: str = Field(min_length=1)
    set: dict[str, Any] = Field(default_factory=dict, description="path: value (see the module's docstring)")
    conditions: list[str] | None = Field(None, description="the conditions this arm crosses (default: all)")

    @field_validator("name")
    @classmethod
    def _plain(cls, name: str) -> str:
        if SEPARATOR in name or "/" in name:
            raise ValueError(f"an arm's name may not contain {SEPARATOR!r} or '/': {name!r}")
        return name


class Setting(_Strict):
    """A world setting without a published value, with its documented range."""

    name: str
    set: dict[str, list[Any]] = Field(description="path: [low, high]; several paths move together")
    source: str = Field(description="where the range comes from, or that none is published")

    @field_validator("set")
    @classmethod
    def _pairs(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for path, ends in value.items():
            if not isinstance(ends, list) or len(ends) != 2:
                raise ValueError(f"{path}: a setting's range is [low, high], got {ends!r}")
        return value


class ArmsSpec(_Strict):
    skill_levels: list[float] = Field(default_factory=list, description="error_scale of each skill arm")
    processes_off: list[str] = Field(default_factory=list, description="error processes switched off alone")
    process_conditions: list[str] | None = Field(None, description="the conditions the processes_off arms cross")
    settings: list[Setting] = Field(default_factory=list, description="world settings at both ends of their range")
    setting_conditions: list[str] | None = Field(None, description="the conditions the settings arms cross")
    baseline: bool = Field(False, description="add an arm 'base' with nothing changed (settings studies)")
    custom: list[Arm] = Field(default_factory=list)

    @field_validator("skill_levels")
    @classmethod
    def _levels(cls, levels: list[float]) -> list[float]:
        bad = [x for x in levels if x < 0]
        if bad:
            raise ValueError(f"a skill level is an error_scale >= 0, got {bad[0]}")
        if len(set(levels)) != len(levels):
            raise ValueError(f"skill levels listed twice: {levels}")
        return levels

    @field_validator("processes_off")
    @classmethod
    def _processes(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in PROCESSES]
        if unknown:
            raise ValueError(f"unknown error process {unknown[0]!r}; processes: {', '.join(PROCESSES)}")
        return names

    @model_validator(mode="after")
    def _something(self) -> ArmsSpec:
        if not self.arms():
            raise ValueError("arms: no arm (give skill_levels, processes_off, settings or custom)")
        names = [a.name for a in self.arms()]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"arms named twice: {twice}")
        return self

    def arms(self) -> list[Arm]:
        out = [Arm(name=name, set={"agent.profile.error_scale": x}) for x, name in self.level_arms().items()]
        out += [Arm(name=name, set={f"agent.profile.{p}": _OFF.get(p, 0.0)}, conditions=self.process_conditions)
                for p, name in self.process_arms().items()]
        if self.baseline:
            out.append(Arm(name=BASE_ARM, conditions=self.setting_conditions))
        for s in self.settings:
            for i, name in enumerate(self.setting_arms(s)):
                out.append(Arm(name=name, set={p: ends[i] for p, ends in s.set.items()},
                               conditions=self.setting_conditions))
        return out + list(self.custom)

    # The names of the generated arms, one place for the runs that make them and the
    # analyses that read them back (``harness.analysis.report``).
    def level_arms(self) -> dict[float, str]:
        """error_scale -> its skill arm."""
        return {float(x): level_name(x) for x in self.skill_levels}

    def process_arms(self) -> dict[str, str]:
        """error process -> the arm that switches it off alone."""
        return {p: f"no_{p.removesuffix('_rate')}" for p in self.processes_off}

    @staticmethod
    def setting_arms(setting: Setting) -> tuple[str, str]:
        """The arms of a setting at the low and at the high end of its range."""
        return f"{setting.name}=low", f"{setting.name}=high"


def level_name(scale: float) -> str:
    """``s0``, ``s0.25``, ``s1``, ``s4``: the skill arm of an error_scale."""
    return f"s{scale:g}"


def arm_of(condition: str) -> tuple[str, str | None]:
    """(base condition, arm) of a generated name; (name, None) for a condition without arm."""
    base, sep, arm = condition.rpartition(SEPARATOR)
    return (base, arm) if sep else (condition, None)


def cross(conditions: list[Condition], spec: ArmsSpec, agent: dict[str, Any]) -> list[Condition]:
    """Every (condition, arm) pair the arms ask for, arm-major; settings checked here, so a
    bad path or value fails before anything runs."""
    names = {c.name for c in conditions}
    out = []
    for arm in spec.arms():
        where = f"arms[{arm.name}]"
        unknown = sorted(set(arm.conditions or ()) - names)
        if unknown:
            raise ConfigError(f"{where}: conditions {unknown} are not in this run; it has {sorted(names)}")
        chosen = [c for c in conditions if arm.conditions is None or c.name in arm.conditions]
        applied = [_apply(c, arm, where) for c in chosen]
        _check_layer_paths(arm, chosen, where)
        _check_profile(arm, agent, where)
        out += applied
    return out


def _apply(condition: Condition, arm: Arm, where: str) -> Condition:
    profile, faults = dict(condition.agent_profile), dict(condition.faults)
    budget = dict(condition.budget_scale)
    layers = dict(condition.layers)
    for path, value in arm.set.items():
        head, _, rest = path.partition(".")
        if path.startswith("agent.profile.") and rest.count(".") == 1:
            profile[rest.split(".", 1)[1]] = value
        elif head == "faults" and rest and "." not in rest:
            faults[rest] = value
        elif head == "budget" and rest in BUDGET_KEYS:
            if not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"{where}: {path} is a factor > 0, got {value!r}")
            budget[rest] = float(value)
        elif head == "layers" and rest.count(".") == 2 and rest.split(".")[1] == "config":
            layer, _, key = rest.split(".")
            choice = layers.get(layer)
            if choice is not None and key in choice.config:
                layers[layer] = choice.model_copy(update={"config": {**choice.config, key: value}})
        else:
            raise ConfigError(f"{where}: unknown setting path {path!r}",
                              hint="paths: agent.profile.<key>, faults.<key>, layers.<layer>.config.<key>, "
                                   "budget.actions, budget.minutes")
    if faults != condition.faults:
        try:
            FaultModel(**faults)
        except ValidationError as exc:
            raise ConfigError(f"{where}: {_first_error(exc, 'faults')}") from None
    return Condition(name=f"{condition.name}{SEPARATOR}{arm.name}", description=condition.description,
                     loop=condition.loop, loop_options=condition.loop_options, layers=layers, faults=faults,
                     agent_profile=profile, budget_scale=budget)


def _check_layer_paths(arm: Arm, chosen: list[Condition], where: str) -> None:
    for path in arm.set:
        if path.startswith("layers."):
            _, layer, _, key = path.split(".")
            if not any(key in (c.layers.get(layer).config if layer in c.layers else {}) for c in chosen):
                raise ConfigError(f"{where}: {path} is stated by none of the conditions it crosses",
                                  hint="an arm moves a setting a preset states; it never adds one")


def _check_profile(arm: Arm, agent: dict[str, Any], where: str) -> None:
    keys = {p.split(".", 2)[2]: v for p, v in arm.set.items() if p.startswith("agent.profile.")}
    if not keys:
        return
    if not isinstance(agent.get("profile"), dict):
        raise ConfigError(f"{where}: sets agent.profile keys, but agent {agent.get('name')!r} has no profile")
    try:
        AgentProfile(**{**agent["profile"], **keys})
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_first_error(exc, 'agent.profile')}") from None


def _first_error(exc: ValidationError, prefix: str) -> str:
    err = exc.errors()[0]
    where = ".".join([prefix, *(str(p) for p in err["loc"])])
    return f"invalid value at {where}: {err['msg']} (got {err.get('input')!r})"
