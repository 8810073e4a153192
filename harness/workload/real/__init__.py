"""The `real` workload: task families on vendored open-source packages, checked by their own suites."""
