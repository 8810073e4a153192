"""``textlog``: the human-oriented variant, a flat text log and a tail of the world's logs.

Each action becomes one line ``2024-05-01T10:00:03 shell: sed -i ... -> exit 0``; there are
no parent pointers, no dependencies, no touched resources and no structured query.
``history(query)`` is a case-sensitive substring grep over the lines returning the last N
matches as text, as ``grep ... | tail`` would. A reasoning trace becomes a plain
``note:`` line (its step only: evidence, confidence and alternatives are not kept, as a
person jotting a note would not keep them). The world's telemetry is only the last N lines
of a service's log: no metrics, no traces, no time window.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from harness.core.errors import ConfigError
from harness.runtime.observability.base import (
    DEFAULT_EPOCH,
    OBSERVABILITY_LAYERS,
    SNAPSHOT_VERSION,
    ActionEvent,
    ReasoningTrace,
    TelemetryWindow,
    check_version,
    sim_timestamp,
)
from harness.runtime.observability.telemetry import TelemetryData, log_tail
from harness.runtime.port import Observation


class TextLogOptions(BaseModel):
    """``layers.observability.config`` of the textlog variant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    epoch: str = DEFAULT_EPOCH  # time shown for simulated minute 0
    history_lines: int = 20  # a grep shows at most this many (the last) matching lines
    tail_lines: int = 20  # telemetry shows this many last log lines
    max_line_chars: int = 200  # long commands are cut, as a terminal log would wrap/cut them


@OBSERVABILITY_LAYERS.register("textlog", options=TextLogOptions)
class TextLogLayer:
    """A flat, append-only text log of what was done; greppable, nothing more."""

    variant = "textlog"

    def __init__(self, options: TextLogOptions | None = None):
        self.config = options or TextLogOptions()
        self.lines: list[str] = []
        self._count = 0  # actions recorded, to hand back a seq like the causal variant

    def _line(self, minutes: float, body: str) -> str:
        # One action is one line, whatever its text holds, or grep and tail would lie.
        body = body.replace("\r", "\\r").replace("\n", "\\n")
        text = f"{sim_timestamp(self.config.epoch, minutes)} {body}"
        cap = self.config.max_line_chars
        return text if len(text) <= cap else text[: cap - 3] + "..."

    def record(self, action: ActionEvent) -> int:
        self.lines.append(self._line(action.sim_minutes,
                                     f"{action.tool}: {action.call_text(10**6)} -> {action.outcome_text()}"))
        seq = self._count if action.seq is None else action.seq
        self._count = seq + 1
        return seq

    def think(self, trace: ReasoningTrace) -> None:
        minutes = trace.sim_minutes if trace.sim_minutes is not None else 0.0
        self.lines.append(self._line(minutes, f"note: {trace.step}"))

    def history(self, query: Any) -> Observation:
        """``query``: a substring (a dict's ``text``/``contains`` is accepted too); the empty
        string matches every line, like ``tail`` of the log."""
        if isinstance(query, dict):
            query = query.get("text", query.get("contains", ""))
        if not isinstance(query, str):
            return Observation(tool="history", ok=False, applied=False,
                               text="grep: expected a search string")
        hits = [ln for ln in self.lines if query in ln]
        shown = hits[-self.config.history_lines:] if self.config.history_lines > 0 else []
        return Observation(tool="history", ok=True, text="\n".join(shown))

    def telemetry(self, source: Any, service: str, window: TelemetryWindow | tuple[int, int]) -> Observation:
        data = TelemetryData.of(source)
        if service not in data.logs:
            return Observation(tool="telemetry", ok=False, applied=False,
                               text=f"tail: cannot open '{service}.log' for reading: No such file or directory")
        return Observation(tool="telemetry", ok=True, text="\n".join(log_tail(data, service, self.config.tail_lines)))

    def snapshot(self) -> dict[str, Any]:
        return {"variant": self.variant, "version": SNAPSHOT_VERSION, "lines": list(self.lines), "count": self._count}

    def restore(self, data: dict[str, Any]) -> None:
        check_version(data, self.variant)
        lines, count = data.get("lines"), data.get("count")
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines) or not isinstance(count, int):
            raise ConfigError("corrupt observability.textlog snapshot: lines must be strings and count an int")
        self.lines, self._count = list(lines), count

    def export(self) -> dict[str, Any]:
        return {"variant": self.variant, "lines": list(self.lines)}
