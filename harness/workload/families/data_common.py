"""Shared pieces of the data_analysis families: seeded table generators, the world
builder and the budget rule (the ``sql_write`` world operation is in
``harness.workload.ops.datasets``).

A family renders its tables and its private truth from (params, seed) once; generate and
build_world share the rendering through a small cache, and every world gets fresh copies.
Truths are computed here with numpy/pandas, never with the SQL an agent would write, so a
bug in the engine path cannot make a wrong answer look right.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from harness.core.hashing import stable_int
from harness.workload.checkers.data import rows_digest
from harness.workload.deadlines import end_of_day
from harness.workload.spec import Budget, GoldStep
from harness.world import World
from harness.world.components.datasets import Datasets

Columns = list[tuple[str, str]]
Tables = dict[str, tuple[Columns, list[list[Any]]]]

REGIONS = ("north", "south", "east", "west", "central")
SEGMENTS = ("retail", "smb", "enterprise", "education", "public")
YEAR = 2024
QUARTER_MONTHS = {1: (1, 3), 2: (4, 6), 3: (7, 9), 4: (10, 12)}


def rng_for(seed: int, name: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed) & (2**64 - 1), stable_int(name)])))


def between(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def make_world(tables: Tables) -> World:
    ds = Datasets()
    for name, (columns, data) in sorted(tables.items()):
        ds.put(name, columns, data)
    return World(parts={"datasets": ds})


def table_digests(tables: Tables) -> dict[str, str]:
    """The digest each table has in a freshly built world (what ``tables_unchanged`` wants)."""
    ds = make_world(tables).datasets
    return {name: ds.table_digest(name) for name in ds.list_tables()}


def day_iso(start: dt.date, offsets: np.ndarray) -> list[str]:
    return [(start + dt.timedelta(days=int(o))).isoformat() for o in offsets]


def quarter_bounds(q: int) -> tuple[dt.date, dt.date]:
    """First and last day of quarter ``q`` of YEAR."""
    m0, m1 = QUARTER_MONTHS[q]
    end = dt.date(YEAR + (m1 == 12), m1 % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date(YEAR, m0, 1), end


def cents(values: np.ndarray) -> list[float]:
    return [round(float(v), 2) for v in values]


def submit(answer: dict[str, Any]) -> GoldStep:
    return GoldStep(op="submit", args={"answer": answer})


def write(statement: str) -> GoldStep:
    return GoldStep(op="sql_write", args={"statement": statement})


def budget(difficulty: int, n_tables: int, sessions: int = 1) -> Budget:
    """Look at each table's schema and a sample, try a few queries per rule the difficulty
    adds, check and submit; each extra session repeats the orientation. Depends only on the
    task, never on the condition. The numbers are due by the end of the working day."""
    actions = 12 + 4 * n_tables + 4 * difficulty + 6 * (sessions - 1)
    return end_of_day(actions, "the analysis")


def orders(rng: np.random.Generator, n: int, n_customers: int) -> dict[str, np.ndarray]:
    """Order facts of one year: ids, customer, day offset, amount in cents, status."""
    return {
        "order_id": np.arange(100001, 100001 + n),
        "customer_id": rng.integers(1, n_customers + 1, size=n),
        "day": rng.integers(0, 366, size=n),
        "amount": np.round(rng.lognormal(4.0, 0.8, size=n), 2),
        "status": rng.choice(np.array(["paid", "refunded", "cancelled"]), size=n, p=[0.8, 0.12, 0.08]),
    }


def customers(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "customer_id": np.arange(1, n + 1),
        "region": rng.choice(np.array(REGIONS), size=n),
        "segment": rng.choice(np.array(SEGMENTS), size=n),
    }


# A cleaned table is right whatever order its rows are stored in.
multiset_digest = rows_digest
