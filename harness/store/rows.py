"""Rows as the writer takes them: the run's description, and the checks that refuse a bad
record at ``add()`` rather than letting it fail (and block) the whole batch at flush."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.store import schema


def positions(table: schema.Table, sql_type: str) -> list[tuple[int, str]]:
    return [(i, c.name) for i, c in enumerate(table.columns) if c.sql_type == sql_type]


EP_CHECKS = (positions(schema.EPISODES, "BIGINT"), positions(schema.EPISODES, "VARCHAR"))
AC_CHECKS = (positions(schema.ACTIONS, "BIGINT"), positions(schema.ACTIONS, "VARCHAR"))


class RunInfo(BaseModel):
    """One row of ``runs`` as the runner describes it (timestamps and status are the writer's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    experiment: str
    config: dict[str, Any]
    config_hash: str
    workload_hash: str
    code_version: str
    seed: int
    repeats: int
    planned_episodes: int
    host: str = Field(default_factory=socket.gethostname)


def utcnow() -> datetime:
    # TIMESTAMP columns hold naive UTC wall-clock time; they live only in `runs`.
    return datetime.now(UTC).replace(tzinfo=None)


def check_row(row: tuple, checks: tuple[list, list], what: str) -> None:
    """Refuse at add() what DuckDB would refuse at flush, so one bad record fails alone
    instead of failing (and blocking) the whole batch it would have joined."""
    ints, texts = checks
    for i, name in ints:
        v = row[i]
        if v is not None and not schema.INT64_MIN <= v <= schema.INT64_MAX:
            raise ValueError(f"{what}: {name}={v} does not fit a BIGINT column")
    for i, name in texts:
        v = row[i]
        if v is not None and not v.isascii():
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{what}: {name} is not valid UTF-8 text (lone surrogate)") from None
