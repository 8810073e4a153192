"""data_analysis/anomaly: find the injected anomalies of a metric time series.

A regular series (level, daily cycle, noise) in table ``metrics(ts, value)`` carries
injected spikes, level shifts (d3+) and missing intervals (d2+); the difficulty adds
points, anomalies, a stronger daily cycle and smaller magnitudes. The agent submits the
anomalous windows; ``anomaly_windows`` scores precision and recall over windows with a
tolerance of two intervals, and refuses windows much longer than the true ones, so one
window over everything or flagging every point cannot pass.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from typing import Any

import numpy as np

from harness.core.errors import TaskGenerationError
from harness.core.hashing import canonical_json
from harness.workload.families.data_common import (
    Tables,
    between,
    budget,
    make_world,
    rng_for,
    submit,
    table_digests,
)
from harness.workload.registry import family
from harness.workload.spec import CheckerRef, TaskSpec
from harness.world import World

INPUT_KEYS = ("difficulty", "n_points", "interval_min", "n_anomalies", "kinds")
N_POINTS = {1: (300, 400), 2: (500, 800), 3: (800, 1500), 4: (1500, 2500), 5: (2500, 4000)}
N_ANOMALIES = {1: (1, 2), 2: (2, 3), 3: (3, 4), 4: (3, 5), 5: (4, 6)}
KINDS = {1: ["spike"], 2: ["spike", "missing"], 3: ["spike", "missing", "shift"],
         4: ["spike", "missing", "shift"], 5: ["spike", "missing", "shift"]}
# magnitudes in noise standard deviations: smaller (harder) at higher difficulty
MAGNITUDE = {1: 12.0, 2: 10.0, 3: 9.0, 4: 8.0, 5: 7.0}
START = dt.datetime(2024, 5, 6)
GAP = 40  # points between anomalies and from the ends: each stands alone


@lru_cache(maxsize=32)
def _render(inputs_json: str, seed: int) -> tuple[Tables, dict[str, Any]]:
    p = json.loads(inputs_json)
    d, rng = p["difficulty"], rng_for(seed, "anomaly")
    n, step, k = int(p["n_points"]), int(p["interval_min"]), int(p["n_anomalies"])
    per_day = 24 * 60 // step
    t = np.arange(n)
    sigma = 1.0 + 0.5 * rng.random()
    cycle = (2.0 + 2.0 * d) * sigma * np.sin(2 * np.pi * t / per_day)
    values = 100.0 + cycle + rng.normal(0.0, sigma, size=n)
    kinds = [p["kinds"][i % len(p["kinds"])] for i in range(k)]
    rng.shuffle(kinds)
    # place k anomalies in k equal slots, each at a random offset inside its slot
    slot = (n - 2 * GAP) // k
    keep = np.ones(n, dtype=bool)
    windows = []
    for i, kind in enumerate(kinds):
        width = {"spike": between(rng, (1, 2)), "shift": between(rng, (8, 24)), "missing": between(rng, (4, 12))}[kind]
        start = GAP + i * slot + int(rng.integers(0, max(1, slot - width - GAP)))
        span = slice(start, start + width)
        sign = 1.0 if rng.random() < 0.7 else -1.0
        if kind == "spike":
            values[span] += sign * MAGNITUDE[d] * sigma
        elif kind == "shift":
            values[span] += sign * 0.7 * MAGNITUDE[d] * sigma
        else:
            keep[span] = False
        windows.append({"kind": kind, "start": start, "end": start + width - 1})
    stamps = [START + dt.timedelta(minutes=step * int(i)) for i in t]
    iso = [s.isoformat(sep=" ") for s in stamps]
    tables: Tables = {"metrics": ([("ts", "timestamp"), ("value", "float")],
                                  [[iso[i] for i in np.flatnonzero(keep)], np.round(values[keep], 3).tolist()])}
    truth = [[iso[w["start"]], iso[w["end"]]] for w in windows]
    return tables, {"windows": truth, "kinds": [w["kind"] for w in windows], "all_stamps": len(tables["metrics"][1][0])}


def _inputs(params: dict[str, Any]) -> dict[str, Any]:
    try:
        inputs = {k: params[k] for k in INPUT_KEYS}
    except KeyError as exc:
        raise TaskGenerationError(f"anomaly params lack {exc.args[0]!r}", "build params with sample_params") from None
    inputs["kinds"] = list(inputs["kinds"])
    if not inputs["kinds"] or any(k not in ("spike", "shift", "missing") for k in inputs["kinds"]):
        raise TaskGenerationError(f"kinds must be spike, shift or missing, got {inputs['kinds']}")
    n, k = int(inputs["n_points"]), int(inputs["n_anomalies"])
    if not 1 <= k <= 8 or not 200 <= n <= 10_000 or (n - 2 * GAP) // k < 2 * GAP:
        raise TaskGenerationError(f"n_points {n} must be in 200..10000 and leave room for {k} anomalies (1..8)")
    if int(inputs["interval_min"]) not in (5, 10, 15, 30, 60):
        raise TaskGenerationError("interval_min must be 5, 10, 15, 30 or 60")
    return inputs


@family
class Anomaly:
    name = "data_analysis/anomaly"
    category = "data_analysis"

    def sample_params(self, rng: np.random.Generator, difficulty: int) -> dict[str, Any]:
        if difficulty not in N_POINTS:
            raise TaskGenerationError(f"difficulty must be 1..5, got {difficulty}")
        return {"difficulty": difficulty, "n_points": between(rng, N_POINTS[difficulty]),
                "interval_min": int(rng.choice([60, 30, 15] if difficulty <= 3 else [15, 10, 5])),
                "n_anomalies": between(rng, N_ANOMALIES[difficulty]), "kinds": list(KINDS[difficulty])}

    def generate(self, task_id: str, params: dict[str, Any], seed: int) -> TaskSpec:
        p = _inputs(params)
        tables, truth = _render(canonical_json(p), int(seed))
        step = int(p["interval_min"])
        kinds_text = {"spike": "short spikes or dips", "shift": "temporary level shifts",
                      "missing": "missing intervals (no rows where a point was due)"}
        text = (
            f"The table `metrics(ts, value)` holds one measurement every {step} minutes. It contains "
            f"anomalies of these kinds: {', '.join(kinds_text[k] for k in p['kinds'])}. The daily cycle is "
            f"normal behaviour, not an anomaly. Find every anomalous window and submit "
            "{\"anomalies\": [{\"start\": \"<ts>\", \"end\": \"<ts>\"}, ...]} with the first and last affected "
            f"timestamp of each (for a missing interval: the first and last missing timestamp). Windows within "
            f"two intervals of the truth count. Do not modify the table."
        )
        windows = truth["windows"]
        stamps = tables["metrics"][1][0]
        return TaskSpec(
            id=task_id, category="data_analysis", family=self.name, difficulty=p["difficulty"], seed=int(seed),
            params={**p, "windows": windows, "window_kinds": truth["kinds"]},
            public={"tables": ["metrics"], "interval_min": step, "kinds": list(p["kinds"]),
                    "answer_format": {"anomalies": [{"start": "timestamp", "end": "timestamp"}]}},
            instructions=text,
            budget=budget(p["difficulty"], 1),
            checkers=(
                CheckerRef(name="anomaly_windows", args={"windows": windows, "tolerance_s": 2 * 60.0 * step}),
                CheckerRef(name="tables_unchanged", args={"digests": table_digests(tables)}),
            ),
            gold=(submit({"anomalies": [{"start": a, "end": b} for a, b in windows]}),),
            # The shortcut: one window over the whole series "contains" every anomaly.
            traps={"one_big_window": (submit({"anomalies": [{"start": stamps[0], "end": stamps[-1]}]}),)},
        )

    def build_world(self, spec: TaskSpec) -> World:
        tables, _ = _render(canonical_json(_inputs(spec.params)), int(spec.seed))
        return make_world(tables)
