"""harness: how much of an agent's unreliability is the infrastructure's fault?

From Python (``harness.api``)::

    import harness
    run = harness.run("smoke", ["workload.limit=6", "repeats=2"])  # as `harness run experiment=smoke ...`
    run.episodes, run.estimates, run.report()                       # DataFrames, the CLI's numbers
    harness.open("results/harness.duckdb")                         # the latest stored run

The API is imported on first use, so ``import harness`` (and every CLI start) stays light.
"""

# No imports here (not even typing): a CLI start pays for nothing it does not use.
__all__ = ["Run", "open", "run"]


def __getattr__(name: str):
    if name in __all__:
        from harness import api

        return getattr(api, name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
