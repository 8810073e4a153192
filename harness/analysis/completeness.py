"""Whether a stored run holds every episode it planned, and if not, the line that says so.

A report over a stopped, still-running (or killed) or early-ended run is a report over
part of the plan: its estimates are honest about the stored episodes only, and the
reader must be told before reading a number (``harness report`` prints this first).
"""

from __future__ import annotations

_WHY = {
    "stopped": "run stopped",
    "running": "run still running, or killed",
    "finished": "run ended before its plan",  # a token/cost cap or max_errors stopped scheduling
}


def incomplete_note(info: dict) -> str | None:
    """``None`` for a finished run with every planned episode stored, else one line:
    ``INCOMPLETE: 84 of 600 episodes stored (run stopped); estimates cover the stored
    episodes only``. ``info`` is ``reader.run_info``'s dict; without a status nothing
    can be said (None)."""
    status = info.get("status")
    if status is None:
        return None
    stored = int(info.get("episodes_done") or 0)
    planned = info.get("planned_episodes")
    if status == "finished" and (not planned or stored >= planned):
        return None
    of = f"{stored} of {planned}" if planned else f"{stored}"
    why = _WHY.get(status, f"run status {status}")
    return f"INCOMPLETE: {of} episodes stored ({why}); estimates cover the stored episodes only"
