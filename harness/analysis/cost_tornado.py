"""One-at-a-time sensitivity of the TCO ratio to every price of the cost model.

The two-axis grid (``tco.sensitivity``) varies the hourly rate and the infrastructure
prices together; a reviewer also wants to know which single assumption the conclusion
hangs on (rework minutes per failure? relay minutes? the price of an action?). Each
numeric price is multiplied by ``low`` and ``high`` in turn, everything else held at the
config's value, and the TCO ratio treatment / cheapest baseline recomputed from the same
measured episodes (point estimates: the bootstrap interval at the config's values is in
``tco_estimates``). Parameters that are settings of the comparison rather than prices
(agents, horizon, roll-out schedule) are not varied, nor are prices set to 0 (a multiple
of nothing is nothing: such a variant costs nothing by assumption, stated in the config).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd

from harness.analysis.cost_model import CostModel
from harness.analysis.tco import _comparison, _ratios, cost_table, tco

VARIED = ("usage", "compute", "human", "infrastructure")  # top-level sections holding prices


def price_paths(model: CostModel) -> list[tuple[str, ...]]:
    """Dotted paths of every numeric price in the varied sections, in config order."""
    return [path for section in VARIED for path in _numeric(getattr(model, section).model_dump(), (section,))]


def _numeric(node: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _numeric(value, (*path, str(key)))
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield path


def with_price(model: CostModel, path: tuple[str, ...], factor: float) -> CostModel:
    """``model`` with the price at ``path`` multiplied by ``factor`` (validated again)."""
    raw = model.model_dump()
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = node[path[-1]] * factor
    return CostModel.model_validate(raw)


def _value(model: CostModel, path: tuple[str, ...]) -> float:
    node: Any = model.model_dump()
    for key in path:
        node = node[key]
    return float(node)


def ratio_to_cheapest(episodes: pd.DataFrame, conditions: Mapping[str, dict] | pd.DataFrame, model: CostModel,
                      treatment: str, baselines: Sequence[str] | None = None) -> tuple[float, str]:
    """The point TCO ratio treatment / cheapest baseline, and that baseline's name."""
    cost = cost_table(episodes, conditions, model)
    t, others = _comparison(cost, conditions, treatment, baselines)
    totals = tco(cost, cost.table.values.mean(axis=0), model, model.n_agents)["total"]
    cheapest = cost.conditions[min(others, key=lambda j: totals[j])]
    return float(_ratios(totals, t, others)[-1]), cheapest


def tornado(episodes: pd.DataFrame, conditions: Mapping[str, dict] | pd.DataFrame, model: CostModel,
            treatment: str, *, low: float = 0.5, high: float = 2.0,
            baselines: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per price: its value, the ratio at ×``low`` and ×``high``, the swing, and
    the cheapest baseline at each end; sorted by swing, largest first. Column ``base`` is
    the ratio at the config's values (the same in every row)."""
    base, _ = ratio_to_cheapest(episodes, conditions, model, treatment, baselines)
    rows = []
    for path in price_paths(model):
        if _value(model, path) == 0:
            continue
        ends = [ratio_to_cheapest(episodes, conditions, with_price(model, path, f), treatment, baselines)
                for f in (low, high)]
        rows.append((".".join(path), _value(model, path), base, ends[0][0], ends[1][0], abs(ends[1][0] - ends[0][0]),
                     ends[0][1], ends[1][1]))
    frame = pd.DataFrame(rows, columns=["parameter", "value", "base", "ratio_low", "ratio_high", "swing",
                                        "cheapest_low", "cheapest_high"])
    return frame.sort_values(["swing", "parameter"], ascending=[False, True], ignore_index=True)
