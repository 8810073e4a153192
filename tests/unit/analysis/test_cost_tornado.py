"""One-at-a-time sensitivity of the TCO ratio: the varied prices, the ends, the ordering."""

import pytest

from harness.analysis.cost_tornado import price_paths, ratio_to_cheapest, tornado, with_price
from harness.core.errors import ConfigError
from tests.unit.analysis.test_tco import model, synthetic


def test_every_numeric_price_of_the_varied_sections_is_listed_and_nothing_else():
    paths = {".".join(p) for p in price_paths(model())}
    assert {"human.hourly_rate_usd", "human.rework_minutes_per_failure", "compute.usd_per_action",
            "usage.tasks_per_agent_month", "infrastructure.layers.memory.tiered"} <= paths
    assert not any(p.startswith(("rollout", "n_agents", "currency")) for p in paths)


def test_with_price_scales_one_price_and_validates():
    m = with_price(model(), ("human", "hourly_rate_usd"), 2.0)
    assert m.human.hourly_rate_usd == 120 and m.human.minutes_per_approval == 6
    assert with_price(model(), ("human", "hourly_rate_usd"), 1.0) == model()


def test_ends_bracket_the_base_and_rows_are_sorted_by_swing():
    episodes, specs = synthetic()
    frame = tornado(episodes, specs, model(), "native", baselines=["base"])
    base, _ = ratio_to_cheapest(episodes, specs, model(), "native", baselines=["base"])
    assert (frame.base == base).all()
    assert list(frame.swing) == sorted(frame.swing, reverse=True)
    for r in frame.itertuples():
        assert min(r.ratio_low, r.ratio_high) <= base + 1e-12 <= max(r.ratio_low, r.ratio_high) + 2e-12
    assert (frame.value > 0).all(), "a price set to 0 cannot be varied by a multiple"


def test_the_native_layer_prices_raise_the_ratio_when_they_double():
    """Doubling a price only the treatment pays (its durable store) makes it relatively dearer;
    doubling one only the baseline pays (a person's time per approval) makes it cheaper."""
    episodes, specs = synthetic()
    frame = tornado(episodes, specs, model(), "native", baselines=["base"]).set_index("parameter")
    durable = frame.loc["infrastructure.layers.execution.durable"]
    assert durable.ratio_high > durable.base > durable.ratio_low
    approval = frame.loc["human.minutes_per_approval"]
    assert approval.ratio_high < approval.base < approval.ratio_low


def test_an_unknown_treatment_is_an_error():
    episodes, specs = synthetic()
    with pytest.raises(ConfigError, match="nope"):
        tornado(episodes, specs, model(), "nope")
