"""Strategy for data_analysis/anomaly: the anomalous windows of a metric series.

The daily cycle is normal, so the agent first fits it (level plus one daily sine and
cosine, by least squares from sums it asks the database for), then scales each point's
residual by a robust spread (MAD). Short
spikes stand out point by point; level shifts stand out in a rolling mean of five
residuals; nearby flagged points form one window (gaps-and-islands, in SQL, so only the
windows come back). Missing intervals are gaps between consecutive timestamps. The table
is never modified.
"""

from __future__ import annotations

import numpy as np

from harness.agents.reference.errors import ErrorProcesses
from harness.agents.reference.strategies import STRATEGIES
from harness.agents.reference.toolkit import Steps, Toolkit
from harness.agents.reference.toolkit_data import make_data, query_retry
from harness.core.models import Brief
from harness.runtime.port import GiveUp, Submit, Think

POINT_Z = 4.5  # a single residual this many robust deviations out: a spike
ROLLING_Z = 2.5  # a mean of five residuals this far out: a level shift


_ANGLE = "2 * pi() * (EXTRACT(hour FROM ts) * 60 + EXTRACT(minute FROM ts)) / 1440"
SUMS_SQL = (f"WITH m AS (SELECT value AS v, sin({_ANGLE}) AS s, cos({_ANGLE}) AS c FROM metrics) "
            "SELECT COUNT(*) AS n, SUM(s) AS s, SUM(c) AS c, SUM(s * s) AS ss, SUM(c * c) AS cc, SUM(s * c) AS sc, "
            "SUM(v) AS v, SUM(v * s) AS vs, SUM(v * c) AS vc FROM m")


def fit_cycle(sums: list[float]) -> tuple[float, float, float] | None:
    """Level and daily sine/cosine weights from the normal equations; None if singular."""
    n, s, c, ss, cc, sc, v, vs, vc = sums
    normal = np.array([[n, s, c], [s, ss, sc], [c, sc, cc]], dtype=float)
    if abs(np.linalg.det(normal)) < 1e-9:
        return None
    a, b, k = np.linalg.solve(normal, np.array([v, vs, vc], dtype=float))
    return float(a), float(b), float(k)


def windows_sql(step: int, fit: tuple[float, float, float], shifts: bool) -> str:
    a, b, k = fit
    rolling = f" OR abs(zm) > {ROLLING_Z}" if shifts else ""
    return (
        f"WITH r AS (SELECT ts, value - ({a!r} + {b!r} * sin({_ANGLE}) + {k!r} * cos({_ANGLE})) AS resid "
        "FROM metrics), "
        "s AS (SELECT 1.4826 * median(abs(resid - (SELECT median(resid) FROM r))) AS sd FROM r), "
        "z AS (SELECT ts, resid / sd AS z, avg(resid / sd) OVER (ORDER BY ts ROWS BETWEEN 2 PRECEDING AND "
        "2 FOLLOWING) AS zm FROM r, s), "
        f"f AS (SELECT ts FROM z WHERE abs(z) > {POINT_Z}{rolling}), "
        f"g AS (SELECT ts, CASE WHEN ts - LAG(ts) OVER (ORDER BY ts) <= INTERVAL '{3 * step} minutes' "
        "THEN 0 ELSE 1 END AS new FROM f), "
        "h AS (SELECT ts, SUM(new) OVER (ORDER BY ts) AS grp FROM g) "
        "SELECT MIN(ts) AS first_ts, MAX(ts) AS last_ts FROM h GROUP BY grp ORDER BY 1"
    )


def gaps_sql(step: int, slip: bool) -> str:
    # the slip: the first timestamp after the gap taken as the last missing one
    last = "ts" if slip else f"ts - INTERVAL '{step} minutes'"
    return (f"SELECT prev + INTERVAL '{step} minutes' AS first_ts, {last} AS last_ts FROM "
            "(SELECT ts, LAG(ts) OVER (ORDER BY ts) AS prev FROM metrics) "
            f"WHERE ts - prev > INTERVAL '{step} minutes' ORDER BY 1")


def _stamp(value: object) -> str:
    return str(value).replace("T", " ")


def _windows(rows) -> list[dict[str, str]]:
    return [{"start": _stamp(r[0]), "end": _stamp(r[1])} for r in rows.rows if len(r) == 2 and r[0] and r[1]]


@STRATEGIES.register("data_analysis/anomaly")
def anomaly(brief: Brief, kit: Toolkit, errors: ErrorProcesses) -> Steps:
    data = make_data(kit, errors)
    step, kinds = brief.public.get("interval_min"), set(brief.public.get("kinds", ()))
    if data is None or not isinstance(step, int) or not kinds:
        yield GiveUp(reason="no table tools" if data is None else "could not read the question")
        return
    slip = errors.slip()
    yield Think(step="residuals against the same time of day; spikes, shifts, gaps", evidence=tuple(sorted(kinds)))
    found: list[dict[str, str]] = []
    if kinds & {"spike", "shift"}:
        fit = yield from _fit(data, errors)
        if fit is None:
            yield GiveUp(reason="could not fit the daily cycle")
            return
        rows = yield from query_retry(data, errors, windows_sql(step, fit, "shift" in kinds), want_rows=False)
        found += _windows(rows) if rows is not None else []
    if "missing" in kinds:
        rows = yield from query_retry(data, errors, gaps_sql(step, slip), want_rows=False)
        found += _windows(rows) if rows is not None else []
    if not found:
        yield GiveUp(reason="found no anomaly")
        return
    yield Submit(answer={"anomalies": sorted(found, key=lambda w: w["start"])})


def _fit(data, errors: ErrorProcesses) -> Steps:
    rows = yield from query_retry(data, errors, SUMS_SQL)
    sums = rows.rows[0] if rows is not None else []
    if len(sums) != 9 or not all(isinstance(x, int | float) for x in sums):
        return None
    return fit_cycle([float(x) for x in sums])
