"""The decomposition's "primary driver": named only where a component's CI excludes 0."""

import pandas as pd

from harness.analysis.report_tables import NO_DRIVER, decomposition, drivers


def _shapley(cat: str, **values: tuple[float, float, float]) -> list[dict]:
    return [{"analysis": "decomposition", "category": cat, "conditions": "t|b", "statistic": f"shapley:{f}",
             "estimate": e, "low": lo, "high": hi} for f, (e, lo, hi) in values.items()]


def test_every_component_zero_names_no_driver():
    est = pd.DataFrame(_shapley("all", context=(0.0, 0.0, 0.0), agency=(0.0, 0.0, 0.0)))
    assert drivers(est) == {"all": NO_DRIVER}


def test_floating_point_residues_of_zero_are_zero():
    """Equal rates leave Shapley values like -1.4e-17 with a CI of [-2.8e-17, -1.4e-17]."""
    est = pd.DataFrame(_shapley("all", context=(1.4e-17, -2.8e-17, -1.4e-17), agency=(-1e-17, -3e-17, -1e-17)))
    assert drivers(est) == {"all": NO_DRIVER}


def test_components_whose_cis_all_include_zero_name_no_driver():
    est = pd.DataFrame(_shapley("all", context=(0.04, -0.02, 0.11), agency=(0.01, -0.05, 0.06)))
    assert drivers(est) == {"all": NO_DRIVER}


def test_the_driver_is_the_largest_component_that_differs_from_zero():
    est = pd.DataFrame(_shapley("all", context=(0.12, -0.01, 0.25), agency=(0.08, 0.03, 0.13), obs=(0.02, 0.01, 0.03))
                       + _shapley("code", context=(0.3, 0.1, 0.5), agency=(0.1, 0.05, 0.2)))
    # context is largest in "all" but its CI includes 0: agency is the largest that differs.
    assert drivers(est) == {"all": "agency", "code": "context"}


def test_a_negative_component_that_differs_is_a_driver_when_it_is_the_only_one():
    est = pd.DataFrame(_shapley("all", context=(-0.2, -0.3, -0.1), agency=(0.01, -0.02, 0.04)))
    assert drivers(est) == {"all": "context"}


def test_the_decomposition_table_says_no_component_differs():
    rows = _shapley("all", context=(0.0, 0.0, 0.0), agency=(0.0, 0.0, 0.0))
    rows.append({"analysis": "decomposition", "category": "all", "conditions": "t|b", "statistic": "gap:gap",
                 "estimate": 0.0, "low": 0.0, "high": 0.0})
    shap = decomposition(pd.DataFrame(rows))[0]
    assert shap.columns[-1] == "primary driver"
    assert shap.rows[0][-1] == NO_DRIVER
