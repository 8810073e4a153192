"""Which stored run makes which part of the paper: one rule for every part."""

from __future__ import annotations

from harness.store import reader


def latest_of(db: str, experiments: tuple[str, ...]) -> str | None:
    """The latest run of the first of ``experiments`` (best first) the store holds, else None."""
    listing = reader.list_runs(db)
    for experiment in experiments:
        if (listing.experiment == experiment).any():
            return reader.latest_run(db, experiment)
    return None


def pick_run(db: str, given: list[str], experiments: tuple[str, ...], need: set[str] | None = None) -> str | None:
    """The first given run of one of ``experiments`` (holding the ``need``ed conditions),
    else the store's latest run of those experiments, else None."""
    for run_id in given:
        if reader.run_info(db, run_id).get("experiment") not in experiments:
            continue
        if need is None or need <= set(reader.conditions(db, run_id)):
            return run_id
    return latest_of(db, experiments)
