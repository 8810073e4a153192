"""Task families; importing this package registers every built-in family."""

from harness.workload.families import (  # noqa: F401 - registration on import
    add_parameter,
    data_aggregate,
    data_anomaly,
    data_cleaning,
    data_join,
    data_metric_sessions,
    dependency_upgrade,
    doc_extract,
    doc_policy,
    extract_helper,
    fix_bug,
    follow_convention,
    rename_symbol,
    review_bug,
    review_convention,
    review_regression,
    review_security,
    review_untested,
)
